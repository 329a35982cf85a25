/**
 * The one backoff every retry in the sink uses (Kafka sends, the client's own retries, KurrentDB reconnects,
 * loading connectors, recording their state): doubling from `initialMs` up to `maxMs`, the wait drawn from the upper
 * half of that ceiling, so callers that failed together do not retry together and none retries in a hot loop. Pure.
 */
export interface BackoffPolicy {
  readonly initialMs: number
  readonly maxMs: number
}

/** The wait before retry number `attempt` (1 for the first retry). */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(Math.max(0, attempt - 1), 30))
  return Math.round(ceiling / 2 + (random() * ceiling) / 2)
}
