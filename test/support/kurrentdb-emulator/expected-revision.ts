/**
 * Optimistic concurrency as KurrentDB applies it to appends and deletes. A soft-deleted stream still has
 * its last revision (its events stay in the log): `no_stream` and that exact revision pass, while
 * `stream_exists` answers "stream deleted", as the server's own write tests pin down (MultiStreamWritesTests).
 */

/** What the client sent: `any`, `no_stream`, `stream_exists`, or an exact revision. */
export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | bigint

/**
 * The expected revision a request's oneof carries. Append, BatchAppend, Delete and Tombstone each generate their own
 * case enum and getters, with the same meaning: the caller passes its request's case numbers and revision getter.
 */
export function expectedRevisionOf(
  activeCase: number,
  cases: { readonly revision: number; readonly noStream: number; readonly streamExists: number },
  revision: () => string,
): ExpectedRevision {
  switch (activeCase) {
    case cases.revision:
      return BigInt(revision())
    case cases.noStream:
      return 'no_stream'
    case cases.streamExists:
      return 'stream_exists'
    default:
      return 'any'
  }
}

export type StreamState =
  | { kind: 'missing' }
  | { kind: 'exists'; lastRevision: bigint }
  | { kind: 'soft-deleted'; lastRevision: bigint }
  | { kind: 'tombstoned' }

export type ExpectationResult = 'ok' | 'wrong-expected-version' | 'stream-deleted'

export function checkExpectedRevision(state: StreamState, expected: ExpectedRevision): ExpectationResult {
  if (state.kind === 'tombstoned') return 'stream-deleted'
  switch (expected) {
    case 'any':
      return 'ok'
    case 'no_stream':
      return state.kind === 'exists' ? 'wrong-expected-version' : 'ok'
    case 'stream_exists':
      if (state.kind === 'soft-deleted') return 'stream-deleted'
      return state.kind === 'exists' ? 'ok' : 'wrong-expected-version'
    default:
      return state.kind !== 'missing' && state.lastRevision === expected ? 'ok' : 'wrong-expected-version'
  }
}

/** The revision to report as "current": none when the stream has never had an event. */
export function currentRevisionOf(state: StreamState): bigint | undefined {
  return state.kind === 'exists' || state.kind === 'soft-deleted' ? state.lastRevision : undefined
}
