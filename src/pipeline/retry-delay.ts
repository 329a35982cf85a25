/**
 * How long to wait before retrying a send that failed with a transient error. Pure: attempt and policy in, ms out.
 */
import { backoffDelay } from '../backoff.ts'

export interface RetryDelayPolicy {
  /** `resilience:transientErrorDelay`: the wait the user asked for between attempts. */
  readonly transientErrorDelayMs: number
  /** Cap of the backoff floor, `resilience:reconnectBackoffMaxMs`. */
  readonly backoffMaxMs: number
}

const backoffInitialMs = 100

/**
 * The user's delay, but never less than a jittered exponential floor (100 ms doubling up to the cap): with the
 * default delay of 0, an engine that fails fast (connection refused) would otherwise retry in a hot loop, and many
 * connectors recovering at once would hit the brokers in lockstep.
 */
export function retryDelay(attempt: number, policy: RetryDelayPolicy, random: () => number = Math.random): number {
  return Math.max(policy.transientErrorDelayMs, backoffDelay(attempt, { initialMs: backoffInitialMs, maxMs: policy.backoffMaxMs }, random))
}
