import { describe, expect, test } from 'bun:test'
import { status } from '@grpc/grpc-js'
import { classifyReadError, KurrentDbReadError } from '../../../src/source/subscribe.ts'

describe('classifyReadError', () => {
  test('outages are transient, refusals are not', () => {
    for (const code of [status.UNAVAILABLE, status.DEADLINE_EXCEEDED, status.INTERNAL, status.UNKNOWN, status.CANCELLED]) {
      expect(classifyReadError(Object.assign(new Error('x'), { code })).transient).toBe(true)
    }
    for (const code of [status.PERMISSION_DENIED, status.UNAUTHENTICATED, status.INVALID_ARGUMENT, status.NOT_FOUND]) {
      expect(classifyReadError(Object.assign(new Error('x'), { code })).transient).toBe(false)
    }
    expect(classifyReadError(new Error('connect ECONNREFUSED')).transient).toBe(true)
    const typed = new KurrentDbReadError('bad bytes', false, undefined)
    expect(classifyReadError(typed)).toBe(typed)
  })
})
