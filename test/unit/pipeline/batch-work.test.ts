import { beforeEach, describe, expect, test } from 'bun:test'
import { NEVER, tap } from 'rxjs'
import { TestScheduler } from 'rxjs/testing'
import { batchWork } from '../../../src/pipeline/batch-work.ts'
import type { WorkItem } from '../../../src/pipeline/work-item.ts'

const message = { key: null, value: Buffer.from('x'), headers: new Map<string, Buffer>(), timestamp: 0n }

function item(sequence: number, bytes = 10): WorkItem {
  return { sequence, resume: undefined, message, bytes, caughtUp: false, readAt: 0 }
}
function marker(sequence: number): WorkItem {
  return { sequence, resume: { position: { commit: BigInt(sequence), prepare: BigInt(sequence) }, revision: undefined }, message: undefined, bytes: 0, caughtUp: false, readAt: 0 }
}

describe('batchWork', () => {
  let scheduler: TestScheduler
  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected))
  })

  test('closes a batch when it holds maxMessages messages', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('abc|', { a: [item(0)], b: [item(1)], c: [item(2)] })
      expectObservable(source.pipe(batchWork({ maxMessages: 2, maxBytes: 1_000, lingerMs: 50 }, scheduler))).toBe('-x-(y|)', {
        x: [item(0), item(1)],
        y: [item(2)],
      })
    })
  })

  test('closes a batch when it reaches maxBytes', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('ab|', { a: [item(0, 600)], b: [item(1, 600)] })
      expectObservable(source.pipe(batchWork({ maxMessages: 100, maxBytes: 1_000, lingerMs: 50 }, scheduler))).toBe('-x|', { x: [item(0, 600), item(1, 600)] })
    })
  })

  test('the linger starts at the first item of a batch, not on a fixed clock', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('a 9ms b 100ms c 4ms |', { a: [item(0)], b: [item(1)], c: [item(2)] })
      expectObservable(source.pipe(batchWork({ maxMessages: 100, maxBytes: 1_000, lingerMs: 20 }, scheduler))).toBe('20ms x 91ms 4ms (y|)', {
        x: [item(0), item(1)],
        y: [item(2)],
      })
    })
  })

  test('markers ride along without counting toward the size limits, and no empty batch is ever emitted', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('mab 50ms |', { m: [marker(0)], a: [item(1)], b: [item(2)] })
      expectObservable(source.pipe(batchWork({ maxMessages: 2, maxBytes: 1_000, lingerMs: 20 }, scheduler))).toBe('--x 50ms |', { x: [marker(0), item(1), item(2)] })
    })
  })

  test('a read batch larger than the limits is split into several Kafka batches, in order', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('(a|)', { a: [item(0), item(1), item(2), item(3), item(4)] })
      expectObservable(source.pipe(batchWork({ maxMessages: 2, maxBytes: 1_000, lingerMs: 20 }, scheduler))).toBe('(xyz|)', {
        x: [item(0), item(1)],
        y: [item(2), item(3)],
        z: [item(4)],
      })
    })
  })

  test('an error drops the pending batch and cancels the linger timer', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a#', { a: [item(0)] })
      expectObservable(source.pipe(batchWork({ maxMessages: 10, maxBytes: 1_000, lingerMs: 20 }, scheduler))).toBe('-#')
      expectSubscriptions(source.subscriptions).toBe('^!')
    })
  })

  test('exactly maxBytes closes the batch', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('ab 50ms |', { a: [item(0, 500)], b: [item(1, 500)] })
      expectObservable(source.pipe(batchWork({ maxMessages: 100, maxBytes: 1_000, lingerMs: 20 }, scheduler))).toBe('-x 50ms |', { x: [item(0, 500), item(1, 500)] })
    })
  })

  test('a later item of the same batch does not start a second linger that would cut the next batch short', () => {
    scheduler.run(({ cold, expectObservable }) => {
      // a at 0, b at 10 ms, c at 25 ms; linger 20 ms: [a, b] at 20 ms, [c] at 45 ms (not at 30 ms, b's time + 20).
      const source = cold('a 9ms b 14ms c 74ms |', { a: [item(0)], b: [item(1)], c: [item(2)] })
      expectObservable(source.pipe(batchWork({ maxMessages: 100, maxBytes: 1_000, lingerMs: 20 }, scheduler))).toBe('20ms x 24ms y 54ms |', {
        x: [item(0), item(1)],
        y: [item(2)],
      })
    })
  })

  test('an error with no batch pending passes through as it is', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const failure = new Error('source failed')
      expectObservable(cold<readonly WorkItem[]>('#', {}, failure).pipe(batchWork({ maxMessages: 10, maxBytes: 1_000, lingerMs: 20 }, scheduler))).toBe('#', {}, failure)
    })
  })

  test('unsubscribing from the batches unsubscribes from the source and cancels the linger', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a 100ms |', { a: [item(0)] })
      expectObservable(source.pipe(batchWork({ maxMessages: 10, maxBytes: 1_000, lingerMs: 20 }, scheduler)), '^ 9ms !').toBe('')
      expectSubscriptions(source.subscriptions).toBe('^ 9ms !')
    })
  })

  test('a batch closed by size cancels its linger, so the next batch gets a full linger of its own', () => {
    scheduler.run(({ cold, expectObservable }) => {
      // a at 0, b at 5 ms, c at 10 ms (full: closes at once), d at 12 ms: d's batch closes at 32 ms, not at 20 ms
      // (a's linger) nor at 25 ms (b's).
      const source = cold('a 4ms b 4ms c 1ms d 87ms |', { a: [item(0)], b: [item(1)], c: [item(2)], d: [item(3)] })
      expectObservable(source.pipe(batchWork({ maxMessages: 3, maxBytes: 1_000, lingerMs: 20 }, scheduler))).toBe('10ms x 21ms y 67ms |', {
        x: [item(0), item(1), item(2)],
        y: [item(3)],
      })
    })
  })

  describe('with send slots: while every send is busy, a batch keeps filling until one frees', () => {
    test('a batch whose linger passed while busy takes later items and goes out when a slot frees', () => {
      scheduler.run(({ cold, hot, expectObservable }) => {
        let free = false
        const freed$ = hot('60ms f', { f: undefined }).pipe(tap(() => (free = true)))
        const slots = { hasFree: () => free, freed$ }
        const source = cold('a 9ms b 29ms c 99ms |', { a: [item(0)], b: [item(1)], c: [item(2)] })
        expectObservable(source.pipe(batchWork({ maxMessages: 100, maxBytes: 1_000, lingerMs: 20 }, scheduler, slots))).toBe('60ms x 79ms |', {
          x: [item(0), item(1), item(2)],
        })
      })
    })

    test('a full batch still closes at once while busy (the limits bound every batch)', () => {
      scheduler.run(({ cold, expectObservable }) => {
        const slots = { hasFree: () => false, freed$: NEVER }
        const source = cold('abc 50ms |', { a: [item(0)], b: [item(1)], c: [item(2)] })
        expectObservable(source.pipe(batchWork({ maxMessages: 2, maxBytes: 1_000, lingerMs: 20 }, scheduler, slots))).toBe('-x 51ms (y|)', {
          x: [item(0), item(1)],
          y: [item(2)],
        })
      })
    })

    test('a freed slot before the linger has passed does not cut the batch short; a free slot at the linger sends it', () => {
      scheduler.run(({ cold, hot, expectObservable }) => {
        const slots = { hasFree: () => true, freed$: hot('5ms f', { f: undefined }) }
        const source = cold('a 49ms |', { a: [item(0)] })
        expectObservable(source.pipe(batchWork({ maxMessages: 100, maxBytes: 1_000, lingerMs: 20 }, scheduler, slots))).toBe('20ms x 29ms |', { x: [item(0)] })
      })
    })

    test('a slot that frees while another batch is still busy (hasFree false) keeps the batch waiting', () => {
      scheduler.run(({ cold, hot, expectObservable }) => {
        let freeCount = 0
        const freed$ = hot('30ms f 9ms g', { f: undefined, g: undefined }).pipe(tap(() => freeCount++))
        const slots = { hasFree: () => freeCount >= 2, freed$ }
        const source = cold('a 99ms |', { a: [item(0)] })
        expectObservable(source.pipe(batchWork({ maxMessages: 100, maxBytes: 1_000, lingerMs: 20 }, scheduler, slots))).toBe('40ms x 59ms |', { x: [item(0)] })
      })
    })

    test('the end of the source sends what waits, busy or not', () => {
      scheduler.run(({ cold, expectObservable }) => {
        const slots = { hasFree: () => false, freed$: NEVER }
        const source = cold('a 49ms |', { a: [item(0)] })
        expectObservable(source.pipe(batchWork({ maxMessages: 100, maxBytes: 1_000, lingerMs: 20 }, scheduler, slots))).toBe('50ms (x|)', { x: [item(0)] })
      })
    })
  })
})
