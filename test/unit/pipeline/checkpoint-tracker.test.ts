import { describe, expect, test } from 'bun:test'
import { confirmRange, hasUncommitted, initialTrackerState, markCommitted, rangeOfBatch, shouldCommit, type ConfirmedRange } from '../../../src/pipeline/checkpoint-tracker.ts'
import type { ResumePoint, WorkItem } from '../../../src/pipeline/work-item.ts'

const at = (commit: bigint): ResumePoint => ({ position: { commit, prepare: commit }, revision: undefined })
const range = (first: number, last: number, commit: bigint | undefined, caughtUp = false): ConfirmedRange => ({
  first,
  last,
  resume: commit === undefined ? undefined : at(commit),
  resumeReadAt: first,
  items: last - first + 1,
  caughtUp,
})

describe('checkpoint tracker', () => {
  test('advances through contiguous confirmations', () => {
    let state = initialTrackerState()
    state = confirmRange(state, range(0, 9, 100n))
    state = confirmRange(state, range(10, 19, 200n))
    expect(state.committable).toEqual(at(200n))
    expect(state.nextSequence).toBe(20)
    expect(state.confirmedSinceCommit).toBe(20)
  })

  test('never passes a gap: a later batch confirmed first waits for the earlier one', () => {
    let state = initialTrackerState()
    state = confirmRange(state, range(0, 9, 100n))
    state = confirmRange(state, range(20, 29, 300n))
    expect(state.committable).toEqual(at(100n))
    state = confirmRange(state, range(10, 19, 200n))
    expect(state.committable).toEqual(at(300n))
    expect(state.ahead).toEqual([])
    expect(state.nextSequence).toBe(30)
  })

  test('a range of markers without positions keeps the previous position and its read time', () => {
    let state = confirmRange(initialTrackerState(), range(0, 4, 50n))
    state = confirmRange(state, range(5, 5, undefined, true))
    expect(state.committable).toEqual(at(50n))
    expect(state.committableReadAt).toBe(0)
    expect(state.caughtUpSinceCommit).toBe(true)
  })

  test('a range confirmed twice changes nothing', () => {
    const once = confirmRange(initialTrackerState(), range(0, 9, 100n))
    expect(confirmRange(once, range(0, 9, 100n))).toBe(once)
  })

  test('commit policy: threshold, interval, caught-up, and nothing when there is nothing new', () => {
    const policy = { enabled: true, intervalMs: 5_000, recordsThreshold: 1_000 }
    let state = confirmRange(initialTrackerState(), range(0, 9, 100n))
    expect(shouldCommit(state, policy, 10)).toBe(false)
    expect(shouldCommit(state, policy, 5_000)).toBe(true)
    expect(shouldCommit(confirmRange(state, range(10, 1_009, 900n)), policy, 10)).toBe(true)
    expect(shouldCommit(confirmRange(state, range(10, 10, undefined, true)), policy, 10)).toBe(true)
    expect(shouldCommit(state, { ...policy, enabled: false }, 60_000)).toBe(false)
    state = markCommitted(state, state.committable!)
    expect(hasUncommitted(state)).toBe(false)
    expect(shouldCommit(state, policy, 60_000)).toBe(false)
  })

  test('a commit of an older position keeps the counters of what came after it', () => {
    let state = confirmRange(initialTrackerState(), range(0, 9, 100n))
    const inFlight = state.committable!
    state = confirmRange(state, range(10, 19, 200n))
    state = markCommitted(state, inFlight)
    expect(hasUncommitted(state)).toBe(true)
    expect(state.confirmedSinceCommit).toBe(20)
  })

  test('rangeOfBatch takes the last resume point and the caught-up flag', () => {
    const items: WorkItem[] = [
      { sequence: 4, resume: at(40n), message: undefined, bytes: 0, caughtUp: false, readAt: 1 },
      { sequence: 5, resume: at(50n), message: undefined, bytes: 0, caughtUp: false, readAt: 2 },
      { sequence: 6, resume: undefined, message: undefined, bytes: 0, caughtUp: true, readAt: 3 },
    ]
    expect(rangeOfBatch(items)).toEqual({ first: 4, last: 6, resume: at(50n), resumeReadAt: 2, items: 3, caughtUp: true })
  })

  test('rangeOfBatch: no caught-up marker, no caught-up flag; an empty batch is a programming error', () => {
    const item: WorkItem = { sequence: 0, resume: at(10n), message: undefined, bytes: 0, caughtUp: false, readAt: 7 }
    expect(rangeOfBatch([item]).caughtUp).toBe(false)
    expect(() => rangeOfBatch([])).toThrow('an empty batch has no range')
  })

  test('several ranges waiting, confirmed in an order that is not theirs: caught up only when the gap closes, in order', () => {
    let state = initialTrackerState()
    for (const waiting of [range(30, 39, 400n), range(10, 19, 200n), range(20, 29, 300n)]) state = confirmRange(state, waiting)
    expect(state.committable).toBeUndefined()
    expect(state.ahead.map((waiting) => waiting.first)).toEqual([10, 20, 30])
    state = confirmRange(state, range(0, 9, 100n))
    expect(state.committable).toEqual(at(400n))
    expect(state.nextSequence).toBe(40)
    expect(state.confirmedSinceCommit).toBe(40)
    expect(state.ahead).toEqual([])
  })

  test('a range without a position after one with a position: the read time stays that of the position', () => {
    let state = confirmRange(initialTrackerState(), { ...range(0, 4, 50n), resumeReadAt: 123 })
    state = confirmRange(state, { ...range(5, 9, undefined), resumeReadAt: 999 })
    expect(state.committableReadAt).toBe(123)
    state = confirmRange(state, { ...range(10, 12, 60n), resumeReadAt: 456 })
    expect(state.committableReadAt).toBe(456)
  })

  test('nothing confirmed yet: nothing to commit', () => {
    expect(hasUncommitted(initialTrackerState())).toBe(false)
    expect(shouldCommit(initialTrackerState(), { enabled: true, intervalMs: 1, recordsThreshold: 1 }, 60_000)).toBe(false)
  })

  test('committing the newest position resets the counters and the caught-up flag', () => {
    let state = confirmRange(initialTrackerState(), range(0, 9, 100n, true))
    expect(state.caughtUpSinceCommit).toBe(true)
    state = markCommitted(state, state.committable!)
    expect(state.confirmedSinceCommit).toBe(0)
    expect(state.caughtUpSinceCommit).toBe(false)
    expect(shouldCommit(state, { enabled: true, intervalMs: 5_000, recordsThreshold: 1 }, 10)).toBe(false)
  })

  test('a commit of an older position keeps the caught-up flag of what came after it', () => {
    let state = confirmRange(initialTrackerState(), range(0, 9, 100n))
    const inFlight = state.committable!
    state = confirmRange(state, range(10, 10, 150n, true))
    state = markCommitted(state, inFlight)
    expect(state.caughtUpSinceCommit).toBe(true)
  })

  test('autocommit:recordsThreshold: exactly the threshold commits, one less does not', () => {
    const policy = { enabled: true, intervalMs: 60_000, recordsThreshold: 10 }
    expect(shouldCommit(confirmRange(initialTrackerState(), range(0, 9, 100n)), policy, 0)).toBe(true)
    expect(shouldCommit(confirmRange(initialTrackerState(), range(0, 8, 100n)), policy, 0)).toBe(false)
  })

  test('autocommit:interval: exactly the interval commits, a millisecond less does not', () => {
    const policy = { enabled: true, intervalMs: 5_000, recordsThreshold: 1_000 }
    const state = confirmRange(initialTrackerState(), range(0, 0, 100n))
    expect(shouldCommit(state, policy, 5_000)).toBe(true)
    expect(shouldCommit(state, policy, 4_999)).toBe(false)
  })
})
