/**
 * The checkpoint tracker: a pure fold over confirmed batches. It advances to the highest position such that it and
 * every earlier item were confirmed by Kafka (or needed no sending), and never past a gap: with several batches in
 * flight, a later batch confirmed first waits in `ahead` until the earlier ones arrive.
 */
import type { ResumePoint, WorkBatch } from './work-item.ts'

/** A contiguous run of sequences confirmed together (one batch). */
export interface ConfirmedRange {
  readonly first: number
  readonly last: number
  /** The last resume point inside the range; undefined when the range holds only position-less markers. */
  readonly resume: ResumePoint | undefined
  /** When the item carrying `resume` was read. */
  readonly resumeReadAt: number
  /** Items in the range, counted toward `autocommit:recordsThreshold`. */
  readonly items: number
  readonly caughtUp: boolean
}

export interface TrackerState {
  /** The lowest sequence not yet confirmed. */
  readonly nextSequence: number
  /** Ranges confirmed out of order, sorted by `first`. */
  readonly ahead: readonly ConfirmedRange[]
  /** The newest resume point with everything up to it confirmed. */
  readonly committable: ResumePoint | undefined
  /** When the item carrying `committable` was read. */
  readonly committableReadAt: number
  /** The resume point last written to KurrentDB. */
  readonly committed: ResumePoint | undefined
  readonly confirmedSinceCommit: number
  /** A caught-up marker became contiguous since the last commit: KurrentDB's connectors commit at that moment. */
  readonly caughtUpSinceCommit: boolean
}

export function initialTrackerState(firstSequence = 0): TrackerState {
  return { nextSequence: firstSequence, ahead: [], committable: undefined, committableReadAt: 0, committed: undefined, confirmedSinceCommit: 0, caughtUpSinceCommit: false }
}

export function rangeOfBatch(batch: WorkBatch): ConfirmedRange {
  const first = batch[0]
  const last = batch[batch.length - 1]
  if (first === undefined || last === undefined) throw new Error('an empty batch has no range')
  let resume: ResumePoint | undefined
  let resumeReadAt = 0
  let caughtUp = false
  for (const item of batch) {
    if (item.resume !== undefined) {
      resume = item.resume
      resumeReadAt = item.readAt
    }
    if (item.caughtUp) caughtUp = true
  }
  return { first: first.sequence, last: last.sequence, resume, resumeReadAt, items: batch.length, caughtUp }
}

export function confirmRange(state: TrackerState, range: ConfirmedRange): TrackerState {
  if (range.last < state.nextSequence) return state // confirmed twice (a retried duplicate): nothing new
  if (range.first !== state.nextSequence) {
    const ahead = [...state.ahead, range].sort((left, right) => left.first - right.first)
    return { ...state, ahead }
  }
  let next: TrackerState = absorb(state, range)
  // Pull in every waiting range that is now contiguous.
  let remaining = next.ahead
  while (remaining.length > 0 && remaining[0]!.first === next.nextSequence) {
    next = absorb({ ...next, ahead: remaining.slice(1) }, remaining[0]!)
    remaining = next.ahead
  }
  return next
}

function absorb(state: TrackerState, range: ConfirmedRange): TrackerState {
  return {
    ...state,
    nextSequence: range.last + 1,
    committable: range.resume ?? state.committable,
    committableReadAt: range.resume === undefined ? state.committableReadAt : range.resumeReadAt,
    confirmedSinceCommit: state.confirmedSinceCommit + range.items,
    caughtUpSinceCommit: state.caughtUpSinceCommit || range.caughtUp,
  }
}

/** True when there is a position newer than the one stored. */
export function hasUncommitted(state: TrackerState): boolean {
  return state.committable !== undefined && state.committable !== state.committed
}

export function markCommitted(state: TrackerState, committed: ResumePoint): TrackerState {
  const newest = state.committable === committed
  return {
    ...state,
    committed,
    confirmedSinceCommit: newest ? 0 : state.confirmedSinceCommit,
    caughtUpSinceCommit: newest ? false : state.caughtUpSinceCommit,
  }
}

export interface CommitPolicy {
  readonly enabled: boolean
  readonly intervalMs: number
  readonly recordsThreshold: number
}

/** Whether to commit now (the stop path commits regardless). */
export function shouldCommit(state: TrackerState, policy: CommitPolicy, millisecondsSinceLastCommit: number): boolean {
  if (!policy.enabled || !hasUncommitted(state)) return false
  return state.caughtUpSinceCommit || state.confirmedSinceCommit >= policy.recordsThreshold || millisecondsSinceLastCommit >= policy.intervalMs
}
