/**
 * The in-flight bound. `mergeMap`'s concurrency limit does not bound memory (it buffers the rest), so the source
 * itself must stop: every read batch takes credits (one per item, and its bytes), confirmation gives them back, and
 * the source is paused while the window is exhausted. Within one read batch of the bound (`nearlyFull`), the source
 * hands over items one at a time, so the pause comes at the item that exhausts the window and the bound holds.
 */
import { BehaviorSubject, distinctUntilChanged, type Observable } from 'rxjs'

export interface CreditWindow {
  take(items: number, bytes: number): void
  give(items: number, bytes: number): void
  /** true while the source should stay paused */
  readonly exhausted$: Observable<boolean>
  readonly inFlight: () => { readonly items: number; readonly bytes: number }
  /** Within one read batch of either bound. */
  nearlyFull(): boolean
}

/** How close to the bound batches of reads stop: the source's largest batch, and a margin of bytes for it. */
const batchMargin = { items: 512, bytes: 2 * 1024 * 1024 }

export function createCreditWindow(limits: { readonly maxItems: number; readonly maxBytes: number }): CreditWindow {
  let items = 0
  let bytes = 0
  const exhausted = new BehaviorSubject(false)
  const update = () => {
    const isExhausted = items >= limits.maxItems || bytes >= limits.maxBytes
    if (isExhausted !== exhausted.value) exhausted.next(isExhausted)
  }
  return {
    take: (takenItems, takenBytes) => {
      items += takenItems
      bytes += takenBytes
      update()
    },
    give: (givenItems, givenBytes) => {
      items = Math.max(0, items - givenItems)
      bytes = Math.max(0, bytes - givenBytes)
      update()
    },
    exhausted$: exhausted.pipe(distinctUntilChanged()),
    inFlight: () => ({ items, bytes }),
    nearlyFull: () => items + batchMargin.items >= limits.maxItems || bytes + batchMargin.bytes >= limits.maxBytes,
  }
}
