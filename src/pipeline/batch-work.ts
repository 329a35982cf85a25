/**
 * Groups work items, as they arrive in read batches, into Kafka batches. Unlike `bufferTime`, the linger starts at the first item of a batch (as
 * Kafka's `linger.ms` does), a batch also closes on bytes, and no empty batches are emitted.
 */
import { Observable, asyncScheduler, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs'
import type { WorkBatch, WorkItem } from './work-item.ts'

export interface BatchLimits {
  /** Items with a message; markers ride along without counting. */
  readonly maxMessages: number
  readonly maxBytes: number
  readonly lingerMs: number
}

export function batchWork(limits: BatchLimits, scheduler: SchedulerLike = asyncScheduler): OperatorFunction<readonly WorkItem[], WorkBatch> {
  return (source) =>
    new Observable<WorkBatch>((subscriber) => {
      let batch: WorkItem[] = []
      let messages = 0
      let bytes = 0
      let lingerTimer: Subscription | undefined

      const flush = () => {
        lingerTimer?.unsubscribe()
        lingerTimer = undefined
        if (batch.length === 0) return
        const full = batch
        batch = []
        messages = 0
        bytes = 0
        subscriber.next(full)
      }

      const subscription = source.subscribe({
        next: (items) => {
          for (const item of items) {
            batch.push(item)
            if (item.message === undefined) continue
            messages++
            bytes += item.bytes
            if (messages >= limits.maxMessages || bytes >= limits.maxBytes) flush()
          }
          if (batch.length > 0 && lingerTimer === undefined) lingerTimer = scheduler.schedule(flush, limits.lingerMs)
        },
        error: (error) => {
          lingerTimer?.unsubscribe()
          subscriber.error(error)
        },
        complete: () => {
          flush()
          subscriber.complete()
        },
      })
      return () => {
        subscription.unsubscribe()
        lingerTimer?.unsubscribe()
      }
    })
}
