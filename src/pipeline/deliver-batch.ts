/**
 * Delivers one batch to Kafka: sends, then re-sends only the messages that failed with a transient error, after a
 * delay from `retryDelay`, up to the retry budget. Messages of one key share a partition and a partition's part of
 * a produce request succeeds or fails as a whole, so re-sending the failed subset in batch order keeps per-key order.
 * A non-transient failure ends delivery at once. The send arrives as a parameter returning `ObservableInput`, so
 * the whole retry logic runs in virtual time in the tests.
 */
import { catchError, defer, from, map, raceWith, retry, take, throwError, timer, type Observable, type ObservableInput } from 'rxjs'
import type { KafkaSendError } from '../sink/kafka/errors.ts'
import type { KafkaMessage, MessageOutcome } from '../sink/kafka/port.ts'
import { retryDelay, type RetryDelayPolicy } from './retry-delay.ts'
import type { WorkBatch } from './work-item.ts'

export type SendMessages = (messages: readonly KafkaMessage[]) => ObservableInput<readonly MessageOutcome[]>

export interface DeliveryPolicy {
  /** `resilience:enabled`: false means no retry at this layer (the engine's own send retries still apply). */
  readonly retriesEnabled: boolean
  /** `resilience:maxRetries`: -1 means until it works (or the connector is stopped). */
  readonly maxRetries: number
  readonly delay: RetryDelayPolicy
}

/** Kafka refused a message for a reason waiting will not fix (authorization, size, invalid record). */
export class DeliveryFailedError extends Error {
  override readonly name = 'DeliveryFailedError'
  constructor(readonly kafkaError: KafkaSendError) {
    super(`Kafka rejected a record: ${kafkaError.message}`, { cause: kafkaError })
  }
}

/** Transient failures outlasted the retry budget. `attempts` keeps every attempt's error, oldest first. */
export class RetriesExhaustedError extends Error {
  override readonly name = 'RetriesExhaustedError'
  constructor(readonly attempts: readonly KafkaSendError[]) {
    const last = attempts[attempts.length - 1]
    super(`Kafka delivery failed ${attempts.length} times; last error: ${last?.message ?? 'unknown'}`, { cause: last })
  }
}

/** The connector was asked to stop while a batch was still being retried; its messages stay unconfirmed. */
export class DeliveryAbortedError extends Error {
  override readonly name = 'DeliveryAbortedError'
  constructor() {
    super('delivery abandoned because the connector is stopping')
  }
}

/** Raised inside the retry loop to ask for another attempt; never escapes `deliverBatch`. */
class TransientAttemptError extends Error {
  constructor(readonly kafkaError: KafkaSendError) {
    super(kafkaError.message)
  }
}

export interface DeliveryHooks {
  /** Aborts pending retries (the current send still settles). Should replay, so a late subscriber sees an earlier abort. */
  readonly abort$: Observable<unknown>
  readonly onRetry?: (error: KafkaSendError, attempt: number, delayMs: number) => void
}

export function deliverBatch(batch: WorkBatch, send: SendMessages, policy: DeliveryPolicy, hooks: DeliveryHooks): Observable<WorkBatch> {
  let pending: KafkaMessage[] = []
  for (const item of batch) if (item.message !== undefined) pending.push(item.message)
  if (pending.length === 0) return from([batch])

  const attempts: KafkaSendError[] = []
  const retryCount = !policy.retriesEnabled ? 0 : policy.maxRetries < 0 ? Number.POSITIVE_INFINITY : policy.maxRetries

  const attempt = defer(() => from(send(pending))).pipe(
    map((outcomes) => {
      const failed: KafkaMessage[] = []
      let firstTransient: KafkaSendError | undefined
      outcomes.forEach((outcome, index) => {
        if (outcome.delivered) return
        if (!outcome.error.transient) throw new DeliveryFailedError(outcome.error)
        firstTransient ??= outcome.error
        failed.push(pending[index]!)
      })
      if (firstTransient !== undefined) {
        pending = failed
        attempts.push(firstTransient)
        throw new TransientAttemptError(firstTransient)
      }
      return batch
    }),
  )

  return attempt.pipe(
    retry({
      count: retryCount,
      delay: (error: unknown, retryNumber) => {
        if (!(error instanceof TransientAttemptError)) return throwError(() => error)
        const delayMs = retryDelay(retryNumber, policy.delay)
        hooks.onRetry?.(error.kafkaError, retryNumber, delayMs)
        const aborted = hooks.abort$.pipe(
          take(1),
          map((): never => {
            throw new DeliveryAbortedError()
          }),
        )
        return timer(delayMs).pipe(raceWith(aborted))
      },
    }),
    // After the last retry the loop's own signal surfaces: report the whole history instead.
    catchError((error: unknown) => throwError(() => (error instanceof TransientAttemptError ? new RetriesExhaustedError(attempts) : error))),
  )
}
