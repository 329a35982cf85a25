/**
 * The in-flight bound. `mergeMap`'s concurrency limit does not bound memory (it buffers the rest), so the source
 * itself must stop: every read batch takes credits (one per item, and its bytes), confirmation gives them back, and
 * the source is paused while the window is exhausted. A read batch is small (at most 512 items, see the source), so
 * the window overshoots its bound by at most one batch.
 */
import { BehaviorSubject, distinctUntilChanged, type Observable } from 'rxjs'

export interface CreditWindow {
  take(items: number, bytes: number): void
  give(items: number, bytes: number): void
  /** true while the source should stay paused */
  readonly exhausted$: Observable<boolean>
  readonly inFlight: () => { readonly items: number; readonly bytes: number }
}

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
  }
}
