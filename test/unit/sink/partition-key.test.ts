import { describe, expect, test } from 'bun:test'
import { createPartitionKeyExtractor, type PartitionKeySettings } from '../../../src/sink/partition-key.ts'

const noHeaders = new Map<string, string>()

describe('createPartitionKeyExtractor', () => {
  const rows: Array<{ name: string; settings: PartitionKeySettings; streamId: string; headers?: Record<string, string>; expected: string }> = [
    { name: 'extraction disabled: the stream id', settings: { enabled: false, source: 'stream', expression: '^(.*)_data$' }, streamId: 'user_data', expected: 'user_data' },
    { name: 'partitionKey source: the stream id', settings: { enabled: true, source: 'partitionKey' }, streamId: 'LoanRequest-1', expected: 'LoanRequest-1' },
    { name: 'stream with a capture group (documentation example)', settings: { enabled: true, source: 'stream', expression: '^(.*)_data$' }, streamId: 'customer_data', expected: 'customer' },
    { name: 'stream without a capture group: the whole match', settings: { enabled: true, source: 'stream', expression: '[a-z]+' }, streamId: 'ORDERS-abc-1', expected: 'abc' },
    { name: 'stream without an expression: the stream id', settings: { enabled: true, source: 'stream' }, streamId: 'orders-1', expected: 'orders-1' },
    { name: 'stream regex without a match: the stream id', settings: { enabled: true, source: 'stream', expression: '^(.*)_data$' }, streamId: 'orders-1', expected: 'orders-1' },
    { name: 'streamSuffix (documentation example)', settings: { enabled: true, source: 'streamSuffix' }, streamId: 'user-123', expected: '123' },
    { name: 'streamSuffix keeps everything after the first hyphen', settings: { enabled: true, source: 'streamSuffix' }, streamId: 'order-3f2a-77c1', expected: '3f2a-77c1' },
    { name: 'streamSuffix without a hyphen: the stream id', settings: { enabled: true, source: 'streamSuffix' }, streamId: 'orders', expected: 'orders' },
    { name: 'streamSuffix with a trailing hyphen: the stream id', settings: { enabled: true, source: 'streamSuffix' }, streamId: 'orders-', expected: 'orders-' },
    { name: 'headers joined with a hyphen (documentation example)', settings: { enabled: true, source: 'headers', expression: 'key1,key2' }, streamId: 's-1', headers: { key1: 'value1', key2: 'value2' }, expected: 'value1-value2' },
    { name: 'headers: missing ones are skipped', settings: { enabled: true, source: 'headers', expression: 'key1, missing ,key2' }, streamId: 's-1', headers: { key2: 'value2' }, expected: 'value2' },
    // RE2 syntax (linear time): inline options work, which JavaScript's engine refuses.
    { name: 'stream: an RE2 pattern with an inline option', settings: { enabled: true, source: 'stream', expression: '(?i)^orders-(.*)$' }, streamId: 'ORDERS-42', expected: '42' },
    { name: 'stream: an optional group that did not take part gives the stream id', settings: { enabled: true, source: 'stream', expression: '^x(y)?' }, streamId: 'xz', expected: 'xz' },
    { name: 'stream: spaces around the expression do not count', settings: { enabled: true, source: 'stream', expression: ' (.*)-1 ' }, streamId: 'orders-1', expected: 'orders' },
    { name: 'headers: spaces around names do not count', settings: { enabled: true, source: 'headers', expression: ' key1 , key2 ' }, streamId: 's-1', headers: { key1: 'a', key2: 'b' }, expected: 'a-b' },
    { name: 'headers: an empty name in the list is not a header name', settings: { enabled: true, source: 'headers', expression: 'key1,,key2' }, streamId: 's-1', headers: { '': 'nameless', key1: 'a', key2: 'b' }, expected: 'a-b' },
    { name: 'headers: an empty value is skipped like a missing one', settings: { enabled: true, source: 'headers', expression: 'key1,key2' }, streamId: 's-1', headers: { key1: '', key2: 'b' }, expected: 'b' },
    { name: 'headers: none present gives the stream id', settings: { enabled: true, source: 'headers', expression: 'key1,key2' }, streamId: 's-1', headers: { other: 'x' }, expected: 's-1' },
  ]
  for (const row of rows) {
    test(row.name, () => {
      const extract = createPartitionKeyExtractor(row.settings)
      expect(extract({ streamId: row.streamId, metadataHeaders: row.headers ? new Map(Object.entries(row.headers)) : noHeaders })).toBe(row.expected)
    })
  }
})
