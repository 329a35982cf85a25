/**
 * `ReadReq.Options` in plain terms. One RPC serves four things: reading a stream, reading `$all`,
 * subscribing to a stream and subscribing to `$all` (with an optional server-side filter).
 */
import { streamNameOf } from './responses.ts'
import { streams } from './protocol.ts'

/** `start`, `end`, or a stream revision / log position. */
export type ReadFrom = 'start' | 'end' | bigint

export type ReadRequest = {
  target: { kind: 'stream'; streamName: string; from: ReadFrom } | { kind: 'all'; from: ReadFrom }
  direction: 'forwards' | 'backwards'
  /** A one-shot read of at most `count` events, or a subscription (catch-up, then live). */
  mode: { kind: 'read'; count: number } | { kind: 'subscription' }
  filter: streams.ReadReq.Options.FilterOptions | undefined
}

export function parseReadRequest(request: streams.ReadReq): ReadRequest | string {
  const options = request.getOptions()
  if (!options) return 'ReadReq.options is required'
  const direction = options.getReadDirection() === streams.ReadReq.Options.ReadDirection.BACKWARDS ? 'backwards' : 'forwards'
  const mode: ReadRequest['mode'] = options.hasSubscription() ? { kind: 'subscription' } : { kind: 'read', count: Number(options.getCount() || '0') }
  const filter = options.hasFilter() ? options.getFilter() : undefined

  const streamOptions = options.getStream()
  if (streamOptions) {
    let from: ReadFrom = 'start'
    if (streamOptions.hasEnd()) from = 'end'
    else if (streamOptions.hasRevision()) from = BigInt(streamOptions.getRevision())
    return { target: { kind: 'stream', streamName: streamNameOf(streamOptions.getStreamIdentifier()), from }, direction, mode, filter }
  }
  const allOptions = options.getAll()
  if (allOptions) {
    let from: ReadFrom = 'start'
    if (allOptions.hasEnd()) from = 'end'
    else if (allOptions.hasPosition()) from = BigInt(allOptions.getPosition()!.getCommitPosition())
    return { target: { kind: 'all', from }, direction, mode, filter }
  }
  return 'ReadReq.options needs a stream or $all'
}
