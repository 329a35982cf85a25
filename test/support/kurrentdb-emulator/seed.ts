/**
 * Synthetic backlogs for benchmarks: appends `events` small JSON events spread round-robin over `streams`
 * streams straight into the log, as fast as the log encodes them. Appending a million events through the
 * client takes about a minute (the client, not the emulator, is the limit), which would dominate a benchmark
 * that measures how fast the sink drains a backlog, not how fast one can be written.
 */
import { randomUUID } from 'node:crypto'
import type { EventLog } from './event-log.ts'

export interface SeedRequest {
  readonly events: number
  readonly streams: number
  /** Streams are named `<prefix>-<n>`. */
  readonly prefix: string
  /** Approximate size of each event's JSON data, in bytes. */
  readonly dataBytes: number
}

const eventsPerAppend = 100
const utf8 = new TextEncoder()
const noMetadata = new Uint8Array(0)

export function seedEvents(log: EventLog, request: SeedRequest): bigint | undefined {
  let position: bigint | undefined
  let seq = 0
  const perStream = new Array<number>(request.streams).fill(0)
  while (seq < request.events) {
    const streamIndex = Math.floor(seq / eventsPerAppend) % request.streams
    const stream = `${request.prefix}-${streamIndex}`
    const count = Math.min(eventsPerAppend, request.events - seq)
    const events = []
    for (let index = 0; index < count; index++, seq++) {
      const streamSeq = perStream[streamIndex]!++
      const body = `{"seq":${streamSeq},"stream":"${stream}","global":${seq},"pad":"`
      const padding = 'x'.repeat(Math.max(0, request.dataBytes - body.length - 2))
      events.push({ id: randomUUID(), type: 'BenchmarkEvent', contentType: 'application/json', customMetadata: noMetadata, data: utf8.encode(`${body}${padding}"}`) })
    }
    const outcome = log.append(stream, 'any', events)
    if (outcome.kind === 'success' && outcome.position !== undefined) position = outcome.position
  }
  return position
}
