/**
 * Which instance runs a connector: the pure rules of leases, membership and assignment. The I/O (lease and member
 * streams in KurrentDB, timers, following) is ownership-coordinator.ts; everything it decides is decided here.
 *
 * - A lease is the last event of `$kafka-sink/{id}/lease`, appended with an expected revision, so of two instances
 *   claiming it at once exactly one succeeds. The owner renews it every third of its duration.
 * - Expiry is judged without comparing clocks: an observer counts the lease's duration on its own monotonic clock
 *   from the moment it *saw* the lease's latest revision. The owner counts its own validity from the moment it
 *   *sent* the renewal, minus a margin, so the owner always believes it has lost the lease before any observer
 *   believes it has expired (clock rates aside, which the margin covers).
 * - Members announce themselves every third of the lease duration in `$kafka-sink/$members`; one is alive while its
 *   latest heartbeat is younger than the duration on the observer's clock, and until it says it is leaving.
 * - Each connector has a preferred owner among the live members: rendezvous hashing (highest hash of member and
 *   connector id), so every instance computes the same answer from the same members, and a member joining or
 *   leaving moves only the connectors whose top choice changed.
 */
import { createHash } from 'node:crypto'

/** The content of one lease event. `released` hands the connector over at once, without waiting for expiry. */
export interface LeaseClaim {
  readonly owner: string
  /** Grows by one with every acquisition, so a claim names one tenure; renewals keep it. */
  readonly term: number
  readonly durationMs: number
  readonly released: boolean
}

/** A lease as one instance sees it: the claim, its revision in the lease stream, and when this instance saw it. */
export interface LeaseObservation {
  readonly claim: LeaseClaim | undefined
  /** The stream revision of the claim; undefined while the lease stream has no event. */
  readonly revision: bigint | undefined
  /** Monotonic milliseconds at which this instance first saw this revision. */
  readonly observedAtMs: number
}

export interface MemberObservation {
  readonly instanceId: string
  readonly durationMs: number
  readonly leaving: boolean
  readonly observedAtMs: number
}

/** The owner's own margin: it stops producing after this share of the duration without a confirmed renewal. */
export const ownerValidityShare = 0.8

/** The instance that holds the lease now, as an observer sees it: none when released, expired or never claimed. */
export function leaseHolder(lease: LeaseObservation | undefined, nowMs: number): string | undefined {
  const claim = lease?.claim
  if (lease === undefined || claim === undefined || claim.released) return undefined
  return nowMs - lease.observedAtMs < claim.durationMs ? claim.owner : undefined
}

/** Since when the lease has been free as this instance sees it (released, expired, never claimed); undefined while held. */
export function leaseFreeSinceMs(lease: LeaseObservation | undefined, nowMs: number): number | undefined {
  if (leaseHolder(lease, nowMs) !== undefined) return undefined
  const claim = lease?.claim
  if (lease === undefined || claim === undefined) return lease?.observedAtMs ?? nowMs
  return claim.released ? lease.observedAtMs : lease.observedAtMs + claim.durationMs
}

/** Until when the owner may produce after a renewal it sent at `sentAtMs` was confirmed. */
export function ownerValidUntilMs(sentAtMs: number, durationMs: number): number {
  return sentAtMs + durationMs * ownerValidityShare
}

/** The live members' ids, sorted; `self` is always among them unless it is leaving. */
export function liveMembers(members: Iterable<MemberObservation>, self: { readonly instanceId: string; readonly leaving: boolean }, nowMs: number): string[] {
  const alive = new Set<string>()
  for (const member of members) {
    if (member.instanceId === self.instanceId) continue
    if (!member.leaving && nowMs - member.observedAtMs < member.durationMs) alive.add(member.instanceId)
  }
  if (!self.leaving) alive.add(self.instanceId)
  return [...alive].sort()
}

/** Rendezvous hashing: the member whose hash with the connector id is highest. */
export function preferredOwner(connectorId: string, members: readonly string[]): string | undefined {
  let best: string | undefined
  let bestScore = -1n
  for (const member of members) {
    const score = createHash('sha256').update(member).update('\u0000').update(connectorId).digest().readBigUInt64BE(0)
    if (score > bestScore || (score === bestScore && best !== undefined && member < best)) {
      best = member
      bestScore = score
    }
  }
  return best
}

export interface OwnershipInput {
  readonly self: string
  readonly connectorId: string
  /** The connector's recorded state asks for a run (ACTIVATING or RUNNING, not deleted). */
  readonly wantsToRun: boolean
  /** The connector is DEACTIVATING: someone must record that it stopped. */
  readonly deactivating: boolean
  /** This instance has a run of it (starting, running or ending). */
  readonly runningHere: boolean
  readonly lease: LeaseObservation | undefined
  readonly members: readonly string[]
  /** This instance's lease duration, for a lease that was never claimed. */
  readonly leaseDurationMs: number
  readonly nowMs: number
}

export type OwnershipAction =
  /** Claim the lease (expected revision), then start the run. */
  | { readonly kind: 'acquire' }
  /** The connector belongs on another live instance: stop the run gracefully (final commit), then release. */
  | { readonly kind: 'handOver'; readonly to: string }
  /** The connector should not run: stop the run, then release. */
  | { readonly kind: 'relinquish' }
  /** Nobody holds it and it was stopping: record that it stopped. */
  | { readonly kind: 'recordStopped' }
  /** This instance holds the lease of a connector it does not run and should not: let it go. */
  | { readonly kind: 'release' }
  | { readonly kind: 'none' }

/**
 * What this instance should do about one connector. A free lease goes to the preferred owner; any other live
 * instance takes it only once it has been free for a further lease duration (the preferred owner may not follow the
 * same members, or may be stuck), so a connector never stays unowned for long.
 */
export function decideOwnership(input: OwnershipInput): OwnershipAction {
  const { self, nowMs } = input
  const holder = leaseHolder(input.lease, nowMs)
  if (input.runningHere) {
    if (!input.wantsToRun) return { kind: 'relinquish' }
    const preferred = preferredOwner(input.connectorId, input.members)
    if (preferred !== undefined && preferred !== self) return { kind: 'handOver', to: preferred }
    return { kind: 'none' }
  }
  if (input.wantsToRun) {
    if (holder !== undefined && holder !== self) return { kind: 'none' }
    if (holder === self) return { kind: 'acquire' }
    const preferred = preferredOwner(input.connectorId, input.members)
    if (preferred === self) return { kind: 'acquire' }
    const freeSince = leaseFreeSinceMs(input.lease, nowMs) ?? nowMs
    const durationMs = input.lease?.claim?.durationMs ?? input.leaseDurationMs
    return nowMs - freeSince >= durationMs ? { kind: 'acquire' } : { kind: 'none' }
  }
  if (input.deactivating && (holder === undefined || holder === self)) return { kind: 'recordStopped' }
  if (holder === self) return { kind: 'release' }
  return { kind: 'none' }
}
