/**
 * KurrentDB's idempotent appends, by event id (`IndexWriter.CheckCommit`, comments "strong idempotency checks" and
 * "weak idempotency checks"):
 * - strong, for an exact expected revision N below the current one (`no_stream` counts as −1): each id is compared
 *   with the event at N+1, N+2, …; all equal → success with the original revision and position, nothing written;
 *   the first one different → WrongExpectedVersion (a matching prefix then a new id too). Survives restarts.
 * - weak, for `any` and `stream_exists`: only the ids committed since the last restart are consulted; all found →
 *   success, nothing written; the first not found → a normal write; a later one not found → WrongExpectedVersion.
 * An append at exactly the current revision is never checked.
 */
import type { AppendOutcome } from './event-log.ts'
import type { ExpectedRevision, StreamState } from './expected-revision.ts'

export interface IdempotencyLookups {
  idAtRevision(revision: number): string | undefined
  positionOfRevision(revision: number): bigint
  recentIndexOf(id: string): number | undefined
  streamIdAt(index: number): number
  revisionAt(index: number): bigint
  positionAt(index: number): bigint
  readonly streamId: number | undefined
}

/** The outcome of an append that repeats earlier events; undefined when it is a normal write. */
export function checkIdempotency(
  request: { readonly state: StreamState; readonly expected: ExpectedRevision; readonly ids: readonly string[] },
  lookups: IdempotencyLookups,
): AppendOutcome | undefined {
  const { state, expected, ids } = request
  if (ids.length === 0 || (state.kind !== 'exists' && state.kind !== 'soft-deleted')) return undefined
  const wrong: AppendOutcome = { kind: 'wrong-expected-version', currentRevision: state.lastRevision }
  if (expected === 'no_stream' || typeof expected === 'bigint') {
    // `no_stream` on a soft-deleted stream is a fresh write (it re-creates the stream).
    if (expected === 'no_stream' && state.kind === 'soft-deleted') return undefined
    const after = expected === 'no_stream' ? -1n : expected
    if (after >= state.lastRevision) return undefined
    for (let offset = 0; offset < ids.length; offset++) {
      const revision = after + 1n + BigInt(offset)
      if (revision > state.lastRevision || lookups.idAtRevision(Number(revision)) !== ids[offset]) return wrong
    }
    const lastRevision = after + BigInt(ids.length)
    return { kind: 'success', currentRevision: lastRevision, position: lookups.positionOfRevision(Number(lastRevision)) }
  }
  let lastIndex: number | undefined
  for (let offset = 0; offset < ids.length; offset++) {
    const index = lookups.recentIndexOf(ids[offset]!)
    if (index === undefined || lookups.streamIdAt(index) !== lookups.streamId) return offset === 0 ? undefined : wrong
    lastIndex = index
  }
  return { kind: 'success', currentRevision: lookups.revisionAt(lastIndex!), position: lookups.positionAt(lastIndex!) }
}
