import { describe, expect, test } from 'bun:test'
import { backoffDelay } from '../../src/backoff.ts'

describe('backoffDelay', () => {
  const policy = { initialMs: 200, maxMs: 5_000 }
  test('doubles from the initial delay up to the cap', () => {
    expect(backoffDelay(1, policy, () => 1)).toBe(200)
    expect(backoffDelay(3, policy, () => 1)).toBe(800)
    expect(backoffDelay(30, policy, () => 1)).toBe(5_000)
    expect(backoffDelay(10_000, policy, () => 1)).toBe(5_000)
  })
  test('the wait is jittered over the upper half of the ceiling, never zero', () => {
    expect(backoffDelay(1, policy, () => 0)).toBe(100)
    expect(backoffDelay(3, policy, () => 0.5)).toBe(600)
    for (let attempt = 0; attempt < 60; attempt++) {
      expect(backoffDelay(attempt, policy, () => 0)).toBeGreaterThanOrEqual(100)
      expect(backoffDelay(attempt, policy, () => 1)).toBeLessThanOrEqual(5_000)
    }
  })
})
