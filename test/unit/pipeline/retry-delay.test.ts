import { describe, expect, test } from 'bun:test'
import { retryDelay } from '../../../src/pipeline/retry-delay.ts'

describe('retryDelay', () => {
  const policy = { transientErrorDelayMs: 0, backoffMaxMs: 20_000 }
  test('with no configured delay, a jittered floor doubles from 100 ms up to the cap', () => {
    expect(retryDelay(1, policy, () => 1)).toBe(100)
    expect(retryDelay(1, policy, () => 0)).toBe(50)
    expect(retryDelay(4, policy, () => 1)).toBe(800)
    expect(retryDelay(40, policy, () => 1)).toBe(20_000)
  })
  test('the configured delay wins when it is longer than the floor', () => {
    expect(retryDelay(1, { ...policy, transientErrorDelayMs: 5_000 }, () => 1)).toBe(5_000)
    expect(retryDelay(20, { transientErrorDelayMs: 5_000, backoffMaxMs: 20_000 }, () => 1)).toBe(20_000)
  })
})
