/**
 * The @platformatic/kafka patch (scripts/patches) replaces the client's record encoder with a single-buffer one.
 * Kafka consumers are the judge of the bytes (the e2e tests read them back with kcat); this pins the edge cases of
 * the record format through the client's own decoder: multi-byte and negative zigzag varints, null keys, empty
 * values, no headers, header values of every length class.
 */
import { describe, expect, test } from 'bun:test'
import { createRecordsBatch, readRecordsBatch, Reader } from '@platformatic/kafka'

interface TestMessage {
  key: Buffer | undefined
  value: Buffer
  headers: Map<Buffer, Buffer> | undefined
  timestamp: bigint
  topic: string
  partition: number
}

function message(overrides: Partial<TestMessage>): TestMessage {
  return { key: Buffer.from('key'), value: Buffer.from('value'), headers: undefined, timestamp: 1_700_000_000_000n, topic: 't', partition: 0, ...overrides }
}

describe('the patched record batch encoder', () => {
  test('round-trips through the client\'s decoder, edge cases included', () => {
    const messages: TestMessage[] = [
      message({}),
      message({ key: undefined, value: Buffer.alloc(0) }),
      message({ value: Buffer.alloc(200, 1), timestamp: 1_700_000_000_000n - 5n }), // negative delta, 2-byte length
      message({ value: Buffer.alloc(20_000, 2), timestamp: 1_700_000_000_000n + 70_000n }), // 3-byte varints
      message({ headers: new Map([[Buffer.from('esdb-record-id'), Buffer.from('5c6f0d0e-3b4a-4a43-9a6c-0f2f8f0a1b2c')], [Buffer.from('empty'), Buffer.alloc(0)], [Buffer.from('long'), Buffer.alloc(300, 3)]]) }),
    ]
    const encoded = createRecordsBatch(messages as never, { producerId: 7n, producerEpoch: 1 })
    const batch = readRecordsBatch(Reader.from(encoded.buffer))
    expect(batch.records).toHaveLength(messages.length)
    expect(batch.lastOffsetDelta).toBe(messages.length - 1)
    batch.records.forEach((record, index) => {
      const original = messages[index]!
      expect(record.offsetDelta).toBe(index)
      expect(BigInt(record.timestampDelta)).toBe(original.timestamp - messages[0]!.timestamp)
      if (original.key === undefined) expect(record.key === null || record.key === undefined || record.key.length === 0).toBe(true)
      else expect(Buffer.from(record.key!).equals(original.key)).toBe(true)
      expect(Buffer.from(record.value ?? Buffer.alloc(0)).equals(original.value)).toBe(true)
      const headers = (record.headers ?? []).map(([name, value]) => [Buffer.from(name ?? Buffer.alloc(0)).toString(), Buffer.from(value ?? Buffer.alloc(0)).toString('hex')])
      const expected = [...(original.headers ?? new Map())].map(([name, value]) => [name.toString(), value.toString('hex')])
      expect(headers).toEqual(expected)
    })
  })
})
