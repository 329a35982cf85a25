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
})
