/**
 * Groups work items, as they arrive in read batches, into Kafka batches. Unlike `bufferTime`, the linger starts at the first item of a batch (as
 * Kafka's `linger.ms` does), a batch also closes on bytes, and no empty batches are emitted.
 *
 * With `sendSlots`, a batch whose linger has passed while every send slot is busy stays open and keeps taking items
 * (up to the limits) until a slot frees, as Kafka's producer fills its batches while its requests are in flight.
 * Without it, a busy sender would be handed one small batch per linger period, and the cost of a send (a request, its
 * compression, the broker's acknowledgement) would be paid for a few records each time.
 */
import { Observable, asyncScheduler, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs'
import type { WorkBatch, WorkItem } from './work-item.ts'

export interface BatchLimits {
  /** Items with a message; markers ride along without counting. */
  readonly maxMessages: number
  readonly maxBytes: number
  readonly lingerMs: number
}

/** The sender's capacity: whether a send could start now, and a signal each time one ends. */
export interface SendSlots {
  hasFree(): boolean
  readonly freed$: Observable<unknown>
}

export function batchWork(limits: BatchLimits, scheduler: SchedulerLike = asyncScheduler, sendSlots?: SendSlots): OperatorFunction<readonly WorkItem[], WorkBatch> {
  return (source) =>
    new Observable<WorkBatch>((subscriber) => {
      let batch: WorkItem[] = []
      let messages = 0
      let bytes = 0
      let lingerTimer: Subscription | undefined
      /** The linger has passed, but no send could start: the batch goes out when a slot frees. */
      let waitingForSlot = false

      const flush = () => {
        lingerTimer?.unsubscribe()
        lingerTimer = undefined
        waitingForSlot = false
        if (batch.length === 0) return
        const full = batch
        batch = []
        messages = 0
        bytes = 0
        subscriber.next(full)
      }

      const lingerPassed = () => {
        lingerTimer = undefined
        if (sendSlots === undefined || sendSlots.hasFree()) flush()
        else waitingForSlot = true
      }
      const slotSubscription = sendSlots?.freed$.subscribe(() => {
        if (waitingForSlot && sendSlots.hasFree()) flush()
      })

      const subscription = source.subscribe({
        next: (items) => {
          for (const item of items) {
            batch.push(item)
            if (item.message === undefined) continue
            messages++
            bytes += item.bytes
            if (messages >= limits.maxMessages || bytes >= limits.maxBytes) flush()
          }
          if (batch.length > 0 && lingerTimer === undefined && !waitingForSlot) lingerTimer = scheduler.schedule(lingerPassed, limits.lingerMs)
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
        slotSubscription?.unsubscribe()
        lingerTimer?.unsubscribe()
      }
    })
}
