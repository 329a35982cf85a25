import { describe, expect, test } from 'bun:test'
import { createCreditWindow } from '../../../src/pipeline/credit-window.ts'

describe('credit window', () => {
  test('exhausts on items or bytes, reopens when credits come back, and signals only changes', () => {
    const window = createCreditWindow({ maxItems: 3, maxBytes: 100 })
    const signals: boolean[] = []
    window.exhausted$.subscribe((exhausted) => signals.push(exhausted))
    window.take(2, 10)
    window.take(1, 10)
    window.take(1, 10) // still exhausted: no new signal
    window.give(2, 20)
    window.take(0, 95)
    window.give(2, 100)
    expect(signals).toEqual([false, true, false, true, false])
    expect(window.inFlight()).toEqual({ items: 0, bytes: 5 })
  })

  test('exactly the byte limit exhausts; a byte under it does not', () => {
    const atLimit = createCreditWindow({ maxItems: 100, maxBytes: 100 })
    const underLimit = createCreditWindow({ maxItems: 100, maxBytes: 100 })
    const signals: boolean[][] = [[], []]
    atLimit.exhausted$.subscribe((exhausted) => signals[0]!.push(exhausted))
    underLimit.exhausted$.subscribe((exhausted) => signals[1]!.push(exhausted))
    atLimit.take(1, 100)
    underLimit.take(1, 99)
    expect(signals).toEqual([[false, true], [false]])
  })
})
