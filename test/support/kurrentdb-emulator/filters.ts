/**
 * Server-side `$all` filters (`ReadReq.Options.FilterOptions`): on the stream name or the event type, by
 * regex (which wins when non-empty, as on the server) or by a list of prefixes. Names are interned by the
 * log, so each distinct stream or type is tested once and the answer cached by its id.
 */
import type { EventLog } from './event-log.ts'
import type { streams } from './protocol.ts'

export type EventFilter = {
  /** Whether the event at this log index passes. */
  matches(index: number): boolean
  /** Checkpoint every this many scanned events: window × multiplier; 0 for an unfiltered read. */
  checkpointInterval: number
}

/** The server's default search window when the client sends `count` instead of `max`. */
export const defaultSearchWindow = 32

const unknown = 0
const accepted = 1
const rejected = 2

export const noFilter: EventFilter = { matches: () => true, checkpointInterval: 0 }

export function compileFilter(log: EventLog, options: streams.ReadReq.Options.FilterOptions | undefined): EventFilter {
  if (!options) return noFilter
  const onStream = options.hasStreamIdentifier()
  const expression = onStream ? options.getStreamIdentifier() : options.getEventType()
  const test = compileExpression(expression?.getRegex() ?? '', expression?.getPrefixList() ?? [])
  const window = options.hasMax() ? options.getMax() : defaultSearchWindow
  const multiplier = Math.max(1, options.getCheckpointintervalmultiplier())
  let cache = new Uint8Array(64)
  return {
    checkpointInterval: Math.max(1, window) * multiplier,
    matches(index: number): boolean {
      const id = onStream ? log.streamIdAt(index) : log.typeIdAt(index)
      if (id >= cache.length) {
        const grown = new Uint8Array(Math.max(cache.length * 2, id + 1))
        grown.set(cache)
        cache = grown
      }
      let verdict = cache[id]!
      if (verdict === unknown) {
        verdict = test(onStream ? log.streamNameOf(id) : log.typeNameOf(id)) ? accepted : rejected
        cache[id] = verdict
      }
      return verdict === accepted
    },
  }
}

function compileExpression(regex: string, prefixes: string[]): (name: string) => boolean {
  if (regex !== '') {
    const pattern = new RegExp(regex)
    return (name) => pattern.test(name)
  }
  if (prefixes.length === 0) return () => true
  return (name) => prefixes.some((prefix) => name.startsWith(prefix))
}
