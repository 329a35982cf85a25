import { describe, expect, test } from 'bun:test'
import { boundedCache } from '../../../src/sink/bounded-cache.ts'

describe('boundedCache', () => {
  test('computes a value once per key and keeps it', () => {
    const computed: string[] = []
    const cache = boundedCache(10, (key: string) => {
      computed.push(key)
      return { key }
    })
    const first = cache.get('a')
    expect(cache.get('a')).toBe(first)
    cache.get('b')
    expect(computed).toEqual(['a', 'b'])
    expect(cache.size).toBe(2)
  })

  test('past the bound, values are still computed (and right) but no longer kept', () => {
    const computed: string[] = []
    const cache = boundedCache(3, (key: string) => {
      computed.push(key)
      return key.toUpperCase()
    })
    for (const key of ['a', 'b', 'c', 'd', 'd']) expect(cache.get(key)).toBe(key.toUpperCase())
    expect(cache.size).toBe(3)
    expect(computed).toEqual(['a', 'b', 'c', 'd', 'd'])
    // The first three stay.
    cache.get('c')
    expect(computed).toHaveLength(5)
  })

  test('exactly at the bound: the last key that fits is kept', () => {
    let computations = 0
    const cache = boundedCache(2, (key: number) => {
      computations++
      return key * 2
    })
    cache.get(1)
    cache.get(2)
    cache.get(2)
    expect(computations).toBe(2)
    expect(cache.size).toBe(2)
  })
})
