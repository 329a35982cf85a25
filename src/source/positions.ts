/**
 * Positions in KurrentDB's `$all` log: commit/prepare pairs of uint64, kept as bigint end to end (JSON carries them
 * as decimal strings). A `StartPoint` says where a read begins; checkpoints are always "resume after".
 */
export interface LogPosition {
  readonly commit: bigint
  readonly prepare: bigint
}

export type StartPoint =
  | { readonly kind: 'start' }
  | { readonly kind: 'end' }
  /** Resume strictly after this `$all` position (a checkpoint, or an explicit start position). */
  | { readonly kind: 'after'; readonly position: LogPosition }
  /** Resume strictly after this stream revision (single-stream subscriptions). */
  | { readonly kind: 'afterRevision'; readonly revision: bigint }

const maxUint64 = 2n ** 64n - 1n

/**
 * (2^64−1, 2^64−1) is how the protocol spells "the end of the log" (KurrentDB `Position.End`). KurrentDB
 * 24.2.0–24.10.4 can send it as a filtered subscription's checkpoint (fixed by #4892 / #4893): stored and resumed
 * from, it would restart at the end and skip whatever was written in between. It is never a place to resume after.
 */
export function isEndOfLog(position: LogPosition): boolean {
  return position.commit === maxUint64 && position.prepare === maxUint64
}

export const endOfLogCommitPosition = maxUint64

export function compareLogPositions(left: LogPosition, right: LogPosition): number {
  if (left.commit !== right.commit) return left.commit < right.commit ? -1 : 1
  if (left.prepare !== right.prepare) return left.prepare < right.prepare ? -1 : 1
  return 0
}

/** Parses a uint64 written as a decimal string (wire format); undefined when it is not one. */
export function parseUint64(text: string): bigint | undefined {
  if (!/^\d{1,20}$/.test(text)) return undefined
  const value = BigInt(text)
  return value <= maxUint64 ? value : undefined
}

export function logPositionAt(commit: bigint): LogPosition {
  // A bare commit position (e.g. from `/start/{position}`) resumes as the pair (N, N), as KurrentDB clients do.
  return { commit, prepare: commit }
}
