import { describe, expect, test } from 'bun:test'
import { createPartitionKeyExtractor } from '../../../src/sink/partition-key.ts'
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
