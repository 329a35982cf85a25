// One key must always land where every other Kafka producer puts it (Java, librdkafka's murmur2_random),
// or consumers that rely on key → partition see a key's events split over two partitions. Kafka's own answers for a
// fixed list of keys are in kafka-known-answers.test.ts; these cover what a vector list cannot.
import { describe, expect, test } from 'bun:test'
import { createPartitioner, partitionForKey } from '../../../../src/sink/kafka/partitioner.ts'

describe('partitionForKey', () => {
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
