// One key must always land where every other Kafka producer puts it (Java, librdkafka's murmur2_random),
// or consumers that rely on key → partition see a key's events split over two partitions.
import { describe, expect, test } from 'bun:test'
import { murmur2 as clientMurmur2 } from '@platformatic/kafka'
import { createPartitioner, murmur2, partitionForKey } from '../../../../src/sink/kafka/partitioner.ts'

function randomBytes(length: number, seed: number): Buffer {
  const bytes = Buffer.alloc(length)
  let state = seed
  for (let index = 0; index < length; index++) {
    state = (Math.imul(state, 1103515245) + 12345) | 0
    bytes[index] = (state >>> 16) & 0xff
  }
  return bytes
}

describe('murmur2', () => {
  test("agrees with the client's BigInt port of Kafka's Utils.murmur2 on every tail length", () => {
    for (let length = 0; length < 64; length++) {
      for (let seed = 1; seed <= 20; seed++) {
        const data = randomBytes(length, seed * 7919 + length)
        expect(murmur2(data)).toBe(clientMurmur2(data))
      }
    }
  })

  test('agrees on typical keys (stream ids, UTF-8)', () => {
    for (const key of ['', 'a', 'order-1', 'customer-42', 'ünïcødé-ключ', '$all', 'x'.repeat(1000)]) {
      expect(murmur2(Buffer.from(key))).toBe(clientMurmur2(Buffer.from(key)))
    }
  })
})

describe('partitionForKey', () => {
  test("uses toPositive (& 0x7fffffff) like Java and librdkafka, not the client's >>> 0", () => {
    // Find a key whose hash is negative and where the two conventions disagree.
    let key: Buffer | undefined
    for (let index = 0; key === undefined; index++) {
      const candidate = Buffer.from(`key-${index}`)
      const hash = murmur2(candidate)
      if (hash < 0 && (hash >>> 0) % 6 !== (hash & 0x7fffffff) % 6) key = candidate
    }
    expect(partitionForKey(key, 6)).toBe((murmur2(key) & 0x7fffffff) % 6)
    expect(partitionForKey(key, 6)).not.toBe((murmur2(key) >>> 0) % 6)
  })

  test('is stable and within range', () => {
    for (let index = 0; index < 1000; index++) {
      const key = Buffer.from(`stream-${index}`)
      const partition = partitionForKey(key, 7)
      expect(partition).toBeGreaterThanOrEqual(0)
      expect(partition).toBeLessThan(7)
      expect(partitionForKey(key, 7)).toBe(partition)
    }
  })
})

describe('createPartitioner', () => {
  test('keyed messages follow the key; null keys share one partition per call, rotating per topic', () => {
    const partitioner = createPartitioner()
    const messages = [{ key: Buffer.from('a') }, { key: null }, { key: null }, { key: Buffer.from('b') }]
    const first = new Int32Array(messages.length)
    const second = new Int32Array(messages.length)
    partitioner.assign('orders', messages, 3, first)
    partitioner.assign('orders', messages, 3, second)
    expect(first[0]).toBe(partitionForKey(Buffer.from('a'), 3))
    expect(first[3]).toBe(partitionForKey(Buffer.from('b'), 3))
    expect(first[1]).toBe(first[2]!)
    expect(second[1]).toBe(second[2]!)
    expect(second[1]).toBe((first[1]! + 1) % 3)
    const other = new Int32Array(1)
    partitioner.assign('payments', [{ key: null }], 3, other)
    expect(other[0]).toBe(0)
  })
})
