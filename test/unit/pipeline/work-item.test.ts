import { describe, expect, test } from 'bun:test'
import { messageSize } from '../../../src/pipeline/work-item.ts'

describe('messageSize', () => {
  test('counts the value, the key, and every header name and value, in bytes', () => {
    const headers = new Map([
      ['esdb-record-id', Buffer.from('abc')],
      ['x', Buffer.from('ünï')],
    ])
    expect(messageSize({ key: Buffer.from('key-1'), value: Buffer.alloc(100), headers, timestamp: 0n })).toBe(100 + 5 + 14 + 3 + 1 + 5)
  })

  test('a null key counts nothing', () => {
    expect(messageSize({ key: null, value: Buffer.alloc(7), headers: new Map(), timestamp: 0n })).toBe(7)
  })
})
