import { describe, expect, test } from 'bun:test'
import {
  decideOwnership,
  leaseFreeSinceMs,
  leaseHolder,
  liveMembers,
  ownerValidUntilMs,
  preferredOwner,
  type LeaseObservation,
  type OwnershipInput,
} from '../../../src/connectors/ownership.ts'

const duration = 15_000
const heldBy = (owner: string, observedAtMs: number, released = false): LeaseObservation => ({
  claim: { owner, term: 1, durationMs: duration, released },
  revision: 0n,
  observedAtMs,
})
const neverClaimed = (observedAtMs: number): LeaseObservation => ({ claim: undefined, revision: undefined, observedAtMs })

describe('leases as an observer sees them', () => {
  test('held for exactly the duration after the renewal was seen, then expired', () => {
    expect(leaseHolder(heldBy('a', 1_000), 1_000)).toBe('a')
    expect(leaseHolder(heldBy('a', 1_000), 1_000 + duration - 1)).toBe('a')
    expect(leaseHolder(heldBy('a', 1_000), 1_000 + duration)).toBeUndefined()
  })

  test('a released lease is free at once, since it was seen released', () => {
    expect(leaseHolder(heldBy('a', 1_000, true), 1_001)).toBeUndefined()
    expect(leaseFreeSinceMs(heldBy('a', 1_000, true), 5_000)).toBe(1_000)
  })

  test('an expired lease is free from its expiry; a held one is not free', () => {
    expect(leaseFreeSinceMs(heldBy('a', 1_000), 1_000 + duration + 50)).toBe(1_000 + duration)
    expect(leaseFreeSinceMs(heldBy('a', 1_000), 2_000)).toBeUndefined()
  })

  test('the owner stops trusting its lease before any observer of the same renewal considers it expired', () => {
    const sentAt = 10_000
    const seenAt = sentAt + 3 // observers see the renewal after it was sent
    const ownerDeadline = ownerValidUntilMs(sentAt, duration)
    expect(ownerDeadline).toBeLessThan(seenAt + duration)
    expect(leaseHolder(heldBy('a', seenAt), ownerDeadline)).toBe('a')
  })
})

describe('members', () => {
  test('alive while the last heartbeat is younger than its duration and it has not said it is leaving', () => {
    const members = [
      { instanceId: 'b', durationMs: duration, leaving: false, observedAtMs: 0 },
      { instanceId: 'c', durationMs: duration, leaving: false, observedAtMs: 10_000 },
      { instanceId: 'd', durationMs: duration, leaving: true, observedAtMs: 10_000 },
    ]
    expect(liveMembers(members, { instanceId: 'a', leaving: false }, duration + 1)).toEqual(['a', 'c'])
  })

  test('an instance counts itself while it runs and never once it is leaving, whatever it saw of itself', () => {
    const stale = [{ instanceId: 'a', durationMs: duration, leaving: false, observedAtMs: 0 }]
    expect(liveMembers(stale, { instanceId: 'a', leaving: false }, 10 * duration)).toEqual(['a'])
    expect(liveMembers(stale, { instanceId: 'a', leaving: true }, 1)).toEqual([])
  })
})

describe('preferred owner (rendezvous hashing)', () => {
  const connectors = Array.from({ length: 200 }, (_, index) => `connector-${index}`)

  test('is one of the members, the same whatever order they are listed in', () => {
    for (const connectorId of connectors.slice(0, 20)) {
      const owner = preferredOwner(connectorId, ['a', 'b', 'c'])
      expect(['a', 'b', 'c']).toContain(owner!)
      expect(preferredOwner(connectorId, ['c', 'a', 'b'])).toBe(owner!)
    }
    expect(preferredOwner('x', [])).toBeUndefined()
  })

  test('spreads connectors over the members', () => {
    const counts = new Map<string, number>()
    for (const connectorId of connectors) counts.set(preferredOwner(connectorId, ['a', 'b', 'c'])!, (counts.get(preferredOwner(connectorId, ['a', 'b', 'c'])!) ?? 0) + 1)
    for (const member of ['a', 'b', 'c']) expect(counts.get(member)!).toBeGreaterThan(40)
  })

  test('a member leaving moves only the connectors it was preferred for; one joining takes only connectors for itself', () => {
    for (const connectorId of connectors) {
      const before = preferredOwner(connectorId, ['a', 'b', 'c'])!
      const afterLeave = preferredOwner(connectorId, ['a', 'b'])!
      if (before !== 'c') expect(afterLeave).toBe(before)
      const afterJoin = preferredOwner(connectorId, ['a', 'b', 'c', 'd'])!
      if (afterJoin !== 'd') expect(afterJoin).toBe(before)
    }
  })
})

describe('decideOwnership', () => {
  const now = 100_000
  const members = ['a', 'b', 'c']
  const connectorFor = (member: string) => Array.from({ length: 100 }, (_, index) => `c-${index}`).find((id) => preferredOwner(id, members) === member)!
  const base = (overrides: Partial<OwnershipInput>): OwnershipInput => ({
    self: 'a',
    connectorId: connectorFor('a'),
    wantsToRun: true,
    deactivating: false,
    runningHere: false,
    lease: neverClaimed(now),
    members,
    leaseDurationMs: duration,
    nowMs: now,
    ...overrides,
  })

  test('the preferred owner acquires a free lease; others wait', () => {
    expect(decideOwnership(base({}))).toEqual({ kind: 'acquire' })
    expect(decideOwnership(base({ connectorId: connectorFor('b') }))).toEqual({ kind: 'none' })
  })

  test('nobody takes a lease another instance holds, preferred or not', () => {
    expect(decideOwnership(base({ lease: heldBy('b', now - 1_000) }))).toEqual({ kind: 'none' })
  })

  test('an instance reclaims its own lease at once (a restart with the same instance id)', () => {
    expect(decideOwnership(base({ connectorId: connectorFor('b'), lease: heldBy('a', now - 1_000) }))).toEqual({ kind: 'acquire' })
  })

  test('the preferred owner takes an expired or released lease at once; another instance only a full duration later', () => {
    const expired = heldBy('c', now - duration - 1)
    expect(decideOwnership(base({ lease: expired }))).toEqual({ kind: 'acquire' })
    const other = connectorFor('b')
    expect(decideOwnership(base({ connectorId: other, lease: expired }))).toEqual({ kind: 'none' })
    expect(decideOwnership(base({ connectorId: other, lease: heldBy('c', now - 2 * duration) }))).toEqual({ kind: 'acquire' })
    expect(decideOwnership(base({ connectorId: other, lease: heldBy('c', now - duration, true) }))).toEqual({ kind: 'acquire' })
    expect(decideOwnership(base({ connectorId: other, lease: heldBy('c', now - 10, true) }))).toEqual({ kind: 'none' })
  })

  test('a run here hands over to the preferred live owner, and stops when the connector should not run', () => {
    expect(decideOwnership(base({ runningHere: true, connectorId: connectorFor('b'), lease: heldBy('a', now) }))).toEqual({ kind: 'handOver', to: 'b' })
    expect(decideOwnership(base({ runningHere: true, lease: heldBy('a', now) }))).toEqual({ kind: 'none' })
    expect(decideOwnership(base({ runningHere: true, wantsToRun: false, lease: heldBy('a', now) }))).toEqual({ kind: 'relinquish' })
  })

  test('a stopping connector nobody holds is recorded as stopped; one held elsewhere is left to its owner', () => {
    expect(decideOwnership(base({ wantsToRun: false, deactivating: true, lease: heldBy('b', now - duration) }))).toEqual({ kind: 'recordStopped' })
    expect(decideOwnership(base({ wantsToRun: false, deactivating: true, lease: heldBy('b', now - 1) }))).toEqual({ kind: 'none' })
    expect(decideOwnership(base({ wantsToRun: false, deactivating: false }))).toEqual({ kind: 'none' })
  })

  test('a lease this instance holds for a connector it neither runs nor should run is released', () => {
    expect(decideOwnership(base({ wantsToRun: false, lease: heldBy('a', now) }))).toEqual({ kind: 'release' })
    expect(decideOwnership(base({ wantsToRun: false, lease: heldBy('b', now) }))).toEqual({ kind: 'none' })
  })
})
