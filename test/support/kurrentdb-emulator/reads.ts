/**
 * One-shot reads: a stream (by revision, inclusive both ways, honouring `$maxCount` and `$tb`) or `$all`
 * (by position: forwards includes the event at the position, backwards starts strictly before it, as
 * KurrentDB's log reader does).
 */
import type { EventLog } from './event-log.ts'
import { compileFilter } from './filters.ts'
import type { ReadResponse } from './protocol.ts'
import type { ReadFrom, ReadRequest } from './read-request.ts'
import type { ResponseChannel } from './response-channel.ts'
import { streamDeletedError, streamNotFoundResponse } from './responses.ts'

type Channel = ResponseChannel<ReadResponse>

export async function readStream(log: EventLog, channel: Channel, request: ReadRequest, streamName: string, from: ReadFrom, count: number): Promise<void> {
  const stream = log.findStream(streamName)
  const state = log.stateOf(stream)
  if (state.kind === 'tombstoned') return channel.fail(streamDeletedError(streamName))
  if (!stream || state.kind !== 'exists') {
    await channel.send(streamNotFoundResponse(streamName))
    return channel.end()
  }
  const { first, end } = log.visibleRevisions(stream)
  let sent = 0
  if (request.direction === 'forwards') {
    let revision = from === 'start' ? first : from === 'end' ? end : clampToNumber(from, end)
    if (revision < first) revision = first
    for (; revision < end && sent < count && channel.open; revision++, sent++) {
      const full = channel.send(log.encodedAt(stream.logIndexes[revision]!))
      if (full) await full
    }
  } else {
    let revision = from === 'start' ? 0 : from === 'end' ? end - 1 : clampToNumber(from, end - 1)
    if (revision > end - 1) revision = end - 1
    for (; revision >= first && sent < count && channel.open; revision--, sent++) {
      const full = channel.send(log.encodedAt(stream.logIndexes[revision]!))
      if (full) await full
    }
  }
  channel.end()
}

export async function readAll(log: EventLog, channel: Channel, request: ReadRequest, from: ReadFrom, count: number): Promise<void> {
  const filter = compileFilter(log, request.filter)
  let sent = 0
  if (request.direction === 'forwards') {
    let index = from === 'start' ? 0 : from === 'end' ? log.size : log.firstIndexAtOrAfter(from)
    for (const end = log.size; index < end && sent < count && channel.open; index++) {
      if (!filter.matches(index)) continue
      sent++
      const full = channel.send(log.encodedAt(index))
      if (full) await full
    }
  } else {
    let index = from === 'start' ? -1 : from === 'end' ? log.size - 1 : log.firstIndexAtOrAfter(from) - 1
    for (; index >= 0 && sent < count && channel.open; index--) {
      if (!filter.matches(index)) continue
      sent++
      const full = channel.send(log.encodedAt(index))
      if (full) await full
    }
  }
  channel.end()
}

/** A uint64 revision as an index, capped (revisions beyond the stream all mean "past the end"). */
function clampToNumber(revision: bigint, cap: number): number {
  return revision > BigInt(cap) ? cap + 1 : Number(revision)
}
