/**
 * Ownership at run time: this instance's heartbeats, the leases it holds (claimed, renewed, released), and what it
 * has seen of the others' (from the followed streams). The rules are ownership.ts; this module keeps the clocks and
 * does the I/O through ownership-store.ts.
 *
 * A held lease gates the run: `untilValid()` resolves at once while the last renewal is fresh, and otherwise waits for
 * one more renewal attempt (a paused process wakes up with a stale lease), rejecting with OwnershipLostError when
 * the renewal is refused because another instance claimed the lease. The pipeline awaits it before every send and
 * every checkpoint, so a paused owner that wakes up produces nothing new before it knows whether it still owns the
 * connector: what it can still deliver is only what it had handed to the Kafka client before the pause.
 */
import type { Logger } from '../observability/logger.ts'
import type { SinkMetrics } from '../observability/metrics.ts'
import { decideOwnership, leaseHolder, liveMembers, ownerValidUntilMs, type LeaseClaim, type LeaseObservation, type MemberObservation, type OwnershipAction, type OwnershipInput } from './ownership.ts'
import type { MemberHeartbeat, OwnershipStore } from './ownership-store.ts'

export class OwnershipLostError extends Error {
  override readonly name = 'OwnershipLost'
}

export interface LeaseHandle {
  readonly connectorId: string
  readonly term: number
  /** True while the last renewal is fresh enough to produce. */
  isValid(): boolean
  /**
   * Resolves when producing is allowed: at once while the last renewal is fresh, else after one more renewal attempt
   * (refused: rejects with OwnershipLostError; KurrentDB unreachable: resolves, see the comment inside).
   */
  untilValid(): Promise<void>
  /** Renews now; false when another instance holds the lease (it is then lost). */
  confirm(): Promise<boolean>
  /** Settles once the lease is lost; never when it is released. */
  readonly lost: Promise<OwnershipLostError>
}

export interface OwnershipOptions {
  readonly instanceId: string
  readonly leaseDurationMs: number
}

export interface OwnershipCoordinator {
  readonly instanceId: string
  /** Starts the heartbeats; the first one is written before this resolves. */
  start(): Promise<void>
  /** Says this instance is leaving (others take over its connectors at once) and stops the timers. */
  leave(): Promise<void>
  observeLease(connectorId: string, claim: LeaseClaim | undefined, revision: bigint | undefined): void
  observeHeartbeat(heartbeat: MemberHeartbeat): void
  /** After the followed feed reconnects: what was seen before may be stale, so expiry counts from now. */
  restartObservationClocks(): void
  /** Reads a lease this instance has not seen yet. */
  ensureObserved(connectorId: string): Promise<void>
  decide(input: Pick<OwnershipInput, 'connectorId' | 'wantsToRun' | 'deactivating' | 'runningHere'>): OwnershipAction
  /** Claims the lease (or renews the one this instance holds); undefined when another instance was first. */
  acquire(connectorId: string): Promise<LeaseHandle | undefined>
  release(connectorId: string): Promise<void>
  releaseAll(): Promise<void>
  /** The instance holding the connector's lease as far as this instance knows. */
  holder(connectorId: string): string | undefined
  liveMembers(): string[]
}

interface HeldLease {
  handle: LeaseHandle
  claim: LeaseClaim
  revision: bigint
  validUntilMs: number
  renewTimer: ReturnType<typeof setInterval>
  renewing: Promise<boolean> | undefined
  markLost: (error: OwnershipLostError) => void
  lostError: OwnershipLostError | undefined
}

export function createOwnershipCoordinator(dependencies: {
  readonly store: OwnershipStore
  readonly options: OwnershipOptions
  readonly logger: Logger
  readonly metrics: SinkMetrics
  readonly now?: () => number
}): OwnershipCoordinator {
  const { store, logger, metrics } = dependencies
  const { instanceId, leaseDurationMs } = dependencies.options
  const now = dependencies.now ?? (() => performance.now())
  const renewEveryMs = Math.max(100, Math.floor(leaseDurationMs / 3))
  const leases = new Map<string, LeaseObservation>()
  const members = new Map<string, MemberObservation>()
  const held = new Map<string, HeldLease>()
  let leaving = false
  let heartbeatTimer: ReturnType<typeof setInterval> | undefined

  const heartbeat = (isLeaving: boolean) => store.appendHeartbeat({ instanceId, durationMs: leaseDurationMs, leaving: isLeaving })

  const observe = (connectorId: string, claim: LeaseClaim | undefined, revision: bigint | undefined) => {
    const previous = leases.get(connectorId)
    if (previous !== undefined && previous.revision !== undefined && (revision === undefined || revision < previous.revision)) return
    if (previous !== undefined && previous.revision === revision && revision !== undefined) return
    leases.set(connectorId, { claim, revision, observedAtMs: now() })
    const mine = held.get(connectorId)
    // Someone else's claim after ours: we lost it, whatever our renewal timer believes.
    if (mine !== undefined && revision !== undefined && revision > mine.revision && claim?.owner !== instanceId) {
      lose(connectorId, mine, `instance ${claim?.owner ?? 'unknown'} claimed it`)
    }
  }

  const lose = (connectorId: string, lease: HeldLease, reason: string) => {
    if (lease.lostError !== undefined) return
    clearInterval(lease.renewTimer)
    held.delete(connectorId)
    const error = new OwnershipLostError(`the lease of connector ${connectorId} is no longer held by this instance: ${reason}`)
    lease.lostError = error
    metrics.ownershipLost()
    logger.warn('connector lease lost; stopping its run here', { connectorId, reason })
    lease.markLost(error)
  }

  const renew = (connectorId: string, lease: HeldLease): Promise<boolean> => {
    if (lease.renewing !== undefined) return lease.renewing
    lease.renewing = (async () => {
      const sentAtMs = now()
      const claim: LeaseClaim = { ...lease.claim, released: false }
      try {
        const outcome = await store.appendLease(connectorId, claim, lease.revision)
        if (lease.lostError !== undefined) return false
        if (!outcome.written) {
          lose(connectorId, lease, 'a renewal was refused: another instance claimed the lease')
          return false
        }
        lease.revision = outcome.revision
        lease.validUntilMs = ownerValidUntilMs(sentAtMs, leaseDurationMs)
        return true
      } catch (error) {
        metrics.leaseRenewalFailed()
        logger.warn('renewing a connector lease failed; retrying', { connectorId, error })
        return false
      } finally {
        lease.renewing = undefined
      }
    })()
    return lease.renewing
  }

  const makeHeld = (connectorId: string, claim: LeaseClaim, revision: bigint, validUntilMs: number): HeldLease => {
    let markLost!: (error: OwnershipLostError) => void
    const lost = new Promise<OwnershipLostError>((resolve) => (markLost = resolve))
    const lease: HeldLease = {
      claim,
      revision,
      validUntilMs,
      renewing: undefined,
      markLost,
      lostError: undefined,
      renewTimer: setInterval(() => void renew(connectorId, lease), renewEveryMs),
      handle: {
        connectorId,
        term: claim.term,
        lost,
        isValid: () => lease.lostError === undefined && now() < lease.validUntilMs,
        untilValid: async () => {
          if (lease.lostError !== undefined) throw lease.lostError
          if (now() < lease.validUntilMs) return
          // Stale: find out before producing. A refused renewal means another instance owns it now. A renewal that
          // cannot reach KurrentDB proves nothing either way, and then no other instance can claim the lease through
          // this instance's KurrentDB either, while the subscription (down with it) adds nothing to what is in flight.
          await renew(connectorId, lease)
          if (lease.lostError !== undefined) throw lease.lostError
        },
        confirm: () => (lease.lostError !== undefined ? Promise.resolve(false) : renew(connectorId, lease)),
      },
    }
    return lease
  }

  const coordinator: OwnershipCoordinator = {
    instanceId,
    start: async () => {
      await store.prepareMemberStream()
      await heartbeat(false)
      members.set(instanceId, { instanceId, durationMs: leaseDurationMs, leaving: false, observedAtMs: now() })
      heartbeatTimer = setInterval(() => {
        heartbeat(false).catch((error: unknown) => logger.warn('writing the instance heartbeat failed; retrying', { error }))
      }, renewEveryMs)
    },
    leave: async () => {
      leaving = true
      if (heartbeatTimer !== undefined) clearInterval(heartbeatTimer)
      await heartbeat(true).catch((error: unknown) => logger.warn('announcing that this instance leaves failed', { error }))
    },
    observeLease: observe,
    observeHeartbeat: (beat) => {
      if (beat.instanceId === instanceId) return
      members.set(beat.instanceId, { ...beat, observedAtMs: now() })
    },
    restartObservationClocks: () => {
      const at = now()
      for (const [connectorId, lease] of leases) leases.set(connectorId, { ...lease, observedAtMs: at })
      for (const [id, member] of members) members.set(id, { ...member, observedAtMs: at })
    },
    ensureObserved: async (connectorId) => {
      if (leases.has(connectorId)) return
      const { claim, revision } = await store.readLease(connectorId)
      observe(connectorId, claim, revision)
    },
    decide: (input) =>
      decideOwnership({
        ...input,
        self: instanceId,
        lease: leases.get(input.connectorId),
        members: liveMembers(members.values(), { instanceId, leaving }, now()),
        leaseDurationMs,
        nowMs: now(),
      }),
    acquire: async (connectorId) => {
      const mine = held.get(connectorId)
      if (mine !== undefined) return (await renew(connectorId, mine)) ? mine.handle : undefined
      const observed = leases.get(connectorId)
      const claim: LeaseClaim = { owner: instanceId, term: (observed?.claim?.term ?? 0) + 1, durationMs: leaseDurationMs, released: false }
      const sentAtMs = now()
      const outcome = await store.appendLease(connectorId, claim, observed?.revision)
      if (!outcome.written) {
        // What we saw was stale: learn the current claim, and let the next decision use it.
        const current = await store.readLease(connectorId)
        observe(connectorId, current.claim, current.revision)
        return undefined
      }
      const previousOwner = observed?.claim?.owner
      if (previousOwner !== undefined && previousOwner !== instanceId) {
        metrics.ownershipTakeover()
        logger.info('connector taken over from another instance', { connectorId, from: previousOwner, term: claim.term })
      }
      const lease = makeHeld(connectorId, claim, outcome.revision, ownerValidUntilMs(sentAtMs, leaseDurationMs))
      held.set(connectorId, lease)
      observe(connectorId, claim, outcome.revision)
      return lease.handle
    },
    release: async (connectorId) => {
      const lease = held.get(connectorId)
      if (lease === undefined) return
      held.delete(connectorId)
      clearInterval(lease.renewTimer)
      await lease.renewing
      const outcome = await store.appendLease(connectorId, { ...lease.claim, released: true }, lease.revision).catch((error: unknown) => {
        logger.warn('releasing a connector lease failed; it will expire instead', { connectorId, error })
        return undefined
      })
      if (outcome?.written) observe(connectorId, { ...lease.claim, released: true }, outcome.revision)
    },
    releaseAll: async () => {
      await Promise.all([...held.keys()].map((connectorId) => coordinator.release(connectorId)))
    },
    holder: (connectorId) => leaseHolder(leases.get(connectorId), now()),
    liveMembers: () => liveMembers(members.values(), { instanceId, leaving }, now()),
  }
  return coordinator
}
