import { describe, expect, test } from 'bun:test'
import { createPartitionKeyExtractor } from '../../../src/sink/partition-key.ts'
import { messageSize } from '../../../src/pipeline/work-item.ts'
import { createRecordMapper, formatTicksAsIso, readMetadataHeaders } from '../../../src/sink/record-mapping.ts'
import type { SourceEvent } from '../../../src/source/read-response-decoder.ts'

const createdTicks = 17236640859078477n // 2024-08-14T19:34:45.9078477Z in .NET ticks since the Unix epoch

const event: SourceEvent = {
  id: '5c6f0d0e-3b4a-4a43-9a6c-0f2f8f0a1b2c',
  streamId: 'LoanRequest-1',
  revision: 3n,
  position: { commit: 2n ** 60n + 7n, prepare: 2n ** 60n + 7n },
  type: 'LoanRequested',
  contentType: 'application/json',
  createdTicks,
  data: Buffer.from('{"Amount": 10000, "loanTerm": 12}'),
  customMetadata: Buffer.from('{"key1":"value1","$correlationId":"c-1","count":3,"nested":{"a":1}}'),
}

function headersAsStrings(headers: ReadonlyMap<string, Buffer>): Record<string, string> {
  return Object.fromEntries([...headers].map(([name, value]) => [name, value.toString('utf8')]))
}

describe('createRecordMapper', () => {
  const map = createRecordMapper({
    connectorId: 'kafka-sink-connector',
    defaultHeaders: { 'X-Tenant-ID': 'production-tenant' },
    ignoreSystemHeaders: true,
    partitionKey: createPartitionKeyExtractor({ enabled: false, source: 'partitionKey' }),
    newRequestId: () => 'request-1',
    now: () => Date.parse('2026-01-02T03:04:05.678Z'),
  })

  test('value is the data bytes unchanged, key the stream id, timestamp the created time in ms', () => {
    const record = map(event)
    expect(record.value.equals(Buffer.from(event.data))).toBe(true)
    expect(record.key?.toString()).toBe('LoanRequest-1')
    expect(record.timestamp).toBe(1723664085907n)
  })

  test('carries the esdb-* headers, user metadata (without $ keys) and default headers, in that order', () => {
    const record = map(event)
    expect(headersAsStrings(record.headers)).toEqual({
      'esdb-connector-id': 'kafka-sink-connector',
      'esdb-request-id': 'request-1',
      'esdb-request-date': '2026-01-02T03:04:05.678Z',
      'esdb-record-id': '5c6f0d0e-3b4a-4a43-9a6c-0f2f8f0a1b2c',
      'esdb-record-timestamp': '2024-08-14T19:34:45.9078477Z',
      'esdb-record-redacted': 'false',
      'esdb-record-stream-id': 'LoanRequest-1',
      'esdb-record-stream-revision': '3',
      'esdb-record-log-position': (2n ** 60n + 7n).toString(),
      'esdb-record-schema-subject': 'LoanRequested',
      'esdb-record-schema-type': 'Json',
      'esdb-record-headers-key1': 'value1',
      'esdb-record-headers-count': '3',
      'esdb-record-headers-nested': '{"a":1}',
      'X-Tenant-ID': 'production-tenant',
    })
    expect([...record.headers.keys()].at(-1)).toBe('X-Tenant-ID')
  })

  test('headers:ignoreSystem=false keeps $-prefixed metadata keys', () => {
    const keepSystem = createRecordMapper({ connectorId: 'c', defaultHeaders: {}, ignoreSystemHeaders: false, partitionKey: () => 'k' })
    expect(keepSystem(event).headers.get('esdb-record-headers-$correlationId')?.toString()).toBe('c-1')
  })

  test('binary events are typed Bytes, and metadata that is not a JSON object adds no headers', () => {
    const record = map({ ...event, contentType: 'application/octet-stream', customMetadata: Buffer.from('[1,2]') })
    expect(record.headers.get('esdb-record-schema-type')?.toString()).toBe('Bytes')
    expect([...record.headers.keys()].some((name) => name.startsWith('esdb-record-headers-'))).toBe(false)
  })
})

describe('formatTicksAsIso', () => {
  test('keeps the 100 ns precision', () => {
    expect(formatTicksAsIso(createdTicks)).toBe('2024-08-14T19:34:45.9078477Z')
    expect(formatTicksAsIso(0n)).toBe('1970-01-01T00:00:00.0000000Z')
  })
})

describe('readMetadataHeaders', () => {
  test('empty or invalid metadata yields no headers', () => {
    expect(readMetadataHeaders(new Uint8Array()).size).toBe(0)
    expect(readMetadataHeaders(Buffer.from('{oops')).size).toBe(0)
    expect(readMetadataHeaders(Buffer.from('"text"')).size).toBe(0)
  })
})

describe('createRecordMapper over a run of events (what it remembers between records must not leak into the next)', () => {
  test('the request date follows the clock, the timestamp each event, the subject each type', () => {
    let clock = Date.parse('2026-01-02T03:04:05.678Z')
    let request = 0
    const map = createRecordMapper({ connectorId: 'c', defaultHeaders: {}, ignoreSystemHeaders: true, partitionKey: ({ streamId }) => streamId, newRequestId: () => `r-${request++}`, now: () => clock })
    const first = map(event)
    clock += 1
    const second = map({ ...event, createdTicks: createdTicks + 10_000n, type: 'LoanApproved' })
    const third = map({ ...event, createdTicks: createdTicks + 10_000n })
    const text = (record: ReturnType<typeof map>, name: string) => record.headers.get(name)?.toString('utf8')
    expect([first, second, third].map((record) => text(record, 'esdb-request-date'))).toEqual(['2026-01-02T03:04:05.678Z', '2026-01-02T03:04:05.679Z', '2026-01-02T03:04:05.679Z'])
    expect([first, second, third].map((record) => text(record, 'esdb-request-id'))).toEqual(['r-0', 'r-1', 'r-2'])
    expect([first, second, third].map((record) => text(record, 'esdb-record-timestamp'))).toEqual(['2024-08-14T19:34:45.9078477Z', '2024-08-14T19:34:45.9088477Z', '2024-08-14T19:34:45.9088477Z'])
    expect([first, second, third].map((record) => record.timestamp)).toEqual([1723664085907n, 1723664085908n, 1723664085908n])
    expect([first, second, third].map((record) => text(record, 'esdb-record-schema-subject'))).toEqual(['LoanRequested', 'LoanApproved', 'LoanRequested'])
  })

  test('keys from headers follow each event\'s metadata, within one stream and across streams', () => {
    const partitionKey = createPartitionKeyExtractor({ enabled: true, source: 'headers', expression: 'region' })
    const map = createRecordMapper({ connectorId: 'c', defaultHeaders: {}, ignoreSystemHeaders: true, partitionKey, keyUsesMetadata: true })
    const keys = [
      { streamId: 'a-1', metadata: '{"region":"eu"}' },
      { streamId: 'a-1', metadata: '{"region":"us"}' },
      { streamId: 'a-1', metadata: '{}' },
      { streamId: 'b-1', metadata: '{}' },
    ].map(({ streamId, metadata }) => map({ ...event, streamId, customMetadata: Buffer.from(metadata) }).key?.toString())
    expect(keys).toEqual(['eu', 'us', 'a-1', 'b-1'])
  })

  test('keys from the stream follow the stream id; without keyUsesMetadata set, metadata is assumed to matter', () => {
    const byStream = createRecordMapper({ connectorId: 'c', defaultHeaders: {}, ignoreSystemHeaders: true, partitionKey: createPartitionKeyExtractor({ enabled: true, source: 'streamSuffix' }), keyUsesMetadata: false })
    expect(['a-1', 'a-1', 'a-2', 'b-2'].map((streamId) => byStream({ ...event, streamId }).key?.toString())).toEqual(['1', '1', '2', '2'])
    const byHeaders = createRecordMapper({ connectorId: 'c', defaultHeaders: {}, ignoreSystemHeaders: true, partitionKey: createPartitionKeyExtractor({ enabled: true, source: 'headers', expression: 'region' }) })
    expect(['{"region":"eu"}', '{"region":"us"}'].map((metadata) => byHeaders({ ...event, customMetadata: Buffer.from(metadata) }).key?.toString())).toEqual(['eu', 'us'])
  })

  test('metadata that is JSON null, a number or an array adds no headers; string values are kept as they are', () => {
    for (const metadata of ['null', '42', '[{"a":1}]']) expect(readMetadataHeaders(Buffer.from(metadata)).size).toBe(0)
    expect([...readMetadataHeaders(Buffer.from('{"text":"a \\"quoted\\" value","flag":true,"none":null}'))]).toEqual([
      ['text', 'a "quoted" value'],
      ['flag', 'true'],
      ['none', 'null'],
    ])
  })

  test('without a request id function, each record gets its own UUID', () => {
    const map = createRecordMapper({ connectorId: 'c', defaultHeaders: {}, ignoreSystemHeaders: true, partitionKey: () => 'k' })
    const ids = [map(event), map(event)].map((record) => record.headers.get('esdb-request-id')?.toString())
    expect(ids[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(ids[0]).not.toBe(ids[1])
  })

  test('a record\'s size for the in-flight window is its value, key and header names and values, in bytes', () => {
    const map = createRecordMapper({ connectorId: 'connector-é', defaultHeaders: { 'X-Tenant': 'tenant-ü' }, ignoreSystemHeaders: true, partitionKey: ({ streamId }) => streamId })
    const record = map({ ...event, customMetadata: Buffer.from('{"region":"eu-wést","n":3}') })
    let expected = record.value.length + (record.key?.length ?? 0)
    for (const [name, value] of record.headers) expected += Buffer.byteLength(name) + value.length
    expect(messageSize(record)).toBe(expected)
  })
})
