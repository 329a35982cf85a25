/**
 * Catch-up subscriptions: `confirmation`, the stored events, `caught_up` once the log end is reached, then
 * live events as they are committed. Catch-up and live are one loop over the log, so a subscriber never
 * misses or repeats an event at the switch, and a slow one just falls behind in the log.
 * Positions and revisions to start from are exclusive, as in KurrentDB.
 */
import type { EventLog } from './event-log.ts'
import type { ServerBehaviour } from './server-version.ts'

/** (2^64−1, 2^64−1): how the wire spells the end of the log, and (−1, −1) as an unsigned pair. */
const endOfLog = 2n ** 64n - 1n
import { compileFilter, noFilter } from './filters.ts'
import type { ReadResponse } from './protocol.ts'
import type { ReadFrom, ReadRequest } from './read-request.ts'
import type { ResponseChannel } from './response-channel.ts'
import { caughtUpResponse, checkpointResponse, confirmationResponse, streamDeletedError } from './responses.ts'

type Channel = ResponseChannel<ReadResponse>

/**
 * `$all`: with a filter, a `checkpoint` goes out after every window × multiplier *scanned* events (matching
 * or not) at the position of the last one scanned, so checkpoints only move forwards and resuming from one
 * (exclusive) neither skips nor repeats an event.
 */
export async function subscribeToAll(log: EventLog, channel: Channel, request: ReadRequest, from: ReadFrom, server: ServerBehaviour): Promise<void> {
  const filter = request.filter ? compileFilter(log, request.filter) : noFilter
  const interval = filter.checkpointInterval
  let index = from === 'start' ? 0 : from === 'end' ? log.size : log.firstIndexAtOrAfter(from + 1n)
  let scanned = 0
  let matched = false
  let caughtUp = false
  let full = channel.send(confirmationResponse())
  if (full) await full
  while (channel.open) {
    for (const end = log.size; index < end && channel.open; index++) {
      if (filter.matches(index)) {
        matched = true
        full = channel.send(log.encodedAt(index))
        if (full) await full
      }
      if (interval > 0 && ++scanned === interval) {
        scanned = 0
        full = channel.send(checkpointResponse(log.positionAt(index)))
        if (full) await full
      }
    }
    if (!caughtUp && channel.open) {
      caughtUp = true
      if (server.sendsEndCheckpointAtLiveSwitch && from === 'start' && interval > 0 && !matched) {
        full = channel.send(checkpointResponse(endOfLog))
        if (full) await full
      }
      full = channel.send(caughtUpResponse({ position: server.caughtUpCarriesPosition ? log.lastPosition() : undefined }))
      if (full) await full
    }
    if (index === log.size) await channel.waitFor(log.nextAppend())
  }
}

/**
 * A stream: events by revision after `from`, honouring `$maxCount` / `$tb`. A tombstone ends it with StreamDeleted:
 * at once during catch-up, and after sending the `$streamDeleted` event itself when it arrives live (S8,
 * `Enumerator.StreamSubscription.cs`).
 */
export async function subscribeToStream(log: EventLog, channel: Channel, streamName: string, from: ReadFrom, server: ServerBehaviour): Promise<void> {
  let next: number | 'end' = from === 'start' ? 0 : from === 'end' ? 'end' : from >= BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(from) + 1
  let caughtUp = false
  let full = channel.send(confirmationResponse())
  if (full) await full
  while (channel.open) {
    const stream = log.findStream(streamName)
    if (stream?.tombstoned) {
      if (caughtUp && stream.tombstoneIndex !== undefined) {
        full = channel.send(log.encodedAt(stream.tombstoneIndex))
        if (full) await full
      }
      return channel.fail(streamDeletedError(streamName))
    }
    const visible = stream ? log.visibleRevisions(stream) : { first: 0, end: 0 }
    if (next === 'end') next = visible.end
    if (next < visible.first) next = visible.first
    for (; stream && next < visible.end && channel.open; next++) {
      full = channel.send(log.encodedAt(stream.logIndexes[next]!))
      if (full) await full
    }
    if (!caughtUp && channel.open) {
      caughtUp = true
      full = channel.send(caughtUpResponse({ revision: server.caughtUpCarriesPosition && visible.end > 0 ? BigInt(visible.end - 1) : undefined }))
      if (full) await full
    }
    const latest = log.findStream(streamName)
    if (!latest || next >= latest.logIndexes.length) await channel.waitFor(log.nextAppend())
  }
}
