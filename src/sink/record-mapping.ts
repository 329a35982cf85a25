/**
 * Maps one KurrentDB event to one Kafka record: the value is the stored data bytes unchanged, the key comes from
 * the partition key extractor, the timestamp is the event's created time, and the headers carry the record's
 * identity the way KurrentDB's connectors name them (`esdb-*`), then the user's metadata, then default headers.
 * Pure apart from the request id and date, which are passed in as functions.
 */
import type { SourceEvent } from '../source/read-response-decoder.ts'
import type { KafkaMessage } from './kafka/port.ts'
import type { PartitionKeyExtractor } from './partition-key.ts'

export interface RecordMappingOptions {
  readonly connectorId: string
  /** True when the partition key is read from the metadata (source `headers`), so it cannot be cached per stream. */
  readonly keyUsesMetadata?: boolean
  readonly defaultHeaders: Readonly<Record<string, string>>
  /** When true (the default), metadata keys starting with `$` (KurrentDB's own, e.g. `$correlationId`) are not copied. */
  readonly ignoreSystemHeaders: boolean
  readonly partitionKey: PartitionKeyExtractor
  readonly newRequestId?: () => string
  readonly now?: () => number
}

export type RecordMapper = (event: SourceEvent) => KafkaMessage

export const headerNames = {
  connectorId: 'esdb-connector-id',
  requestId: 'esdb-request-id',
  requestDate: 'esdb-request-date',
  recordId: 'esdb-record-id',
  recordTimestamp: 'esdb-record-timestamp',
  recordRedacted: 'esdb-record-redacted',
  streamId: 'esdb-record-stream-id',
  streamRevision: 'esdb-record-stream-revision',
  logPosition: 'esdb-record-log-position',
  schemaSubject: 'esdb-record-schema-subject',
  schemaType: 'esdb-record-schema-type',
  metadataPrefix: 'esdb-record-headers-',
} as const

const ticksPerMillisecond = 10_000n
const utf8 = new TextDecoder('utf-8')

/** ISO-8601 UTC with the 100 ns precision KurrentDB stores (`2024-08-14T19:08:45.9078477Z`). */
export function formatTicksAsIso(ticks: bigint): string {
  const milliseconds = ticks / ticksPerMillisecond
  const subMillisecond = (ticks % ticksPerMillisecond).toString().padStart(4, '0')
  return new Date(Number(milliseconds)).toISOString().slice(0, -1) + subMillisecond + 'Z'
}

/** Top-level entries of the JSON metadata as strings; metadata that is not a JSON object yields no headers. */
export function readMetadataHeaders(customMetadata: Uint8Array): Map<string, string> {
  const headers = new Map<string, string>()
  if (customMetadata.length === 0) return headers
  let parsed: unknown
  try {
    parsed = JSON.parse(utf8.decode(customMetadata))
  } catch {
    return headers
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return headers
  for (const [name, value] of Object.entries(parsed)) {
    headers.set(name, typeof value === 'string' ? value : JSON.stringify(value))
  }
  return headers
}

export function createRecordMapper(options: RecordMappingOptions): RecordMapper {
  const newRequestId = options.newRequestId ?? (() => crypto.randomUUID())
  const usesMetadata = options.keyUsesMetadata ?? true
  const now = options.now ?? Date.now
  // Constant headers are encoded once per connector and shared by every record (Kafka clients only read them).
  const connectorIdBytes = Buffer.from(options.connectorId)
  const notRedacted = Buffer.from('false')
  const jsonType = Buffer.from('Json')
  const bytesType = Buffer.from('Bytes')
  const defaultHeaders = Object.entries(options.defaultHeaders).map(([name, value]) => [name, Buffer.from(value)] as const)
  const subjectCache = new Map<string, Buffer>()
  // Most events arrive in runs from one stream and one write (same created time): remember the last of each.
  let requestDateMillis = -1
  let requestDateBytes = Buffer.alloc(0)
  let lastTicks = -1n
  let lastTimestampBytes = Buffer.alloc(0)
  let lastKeySource = ''
  let lastMetadata: Uint8Array | undefined
  let lastKey = Buffer.alloc(0)
  let lastStreamId = ''
  let lastStreamIdBytes = Buffer.alloc(0)

  return (event) => {
    const metadataHeaders = readMetadataHeaders(event.customMetadata)
    const nowMillis = now()
    if (nowMillis !== requestDateMillis) {
      requestDateMillis = nowMillis
      requestDateBytes = Buffer.from(new Date(nowMillis).toISOString())
    }
    let subject = subjectCache.get(event.type)
    if (subject === undefined) {
      subject = Buffer.from(event.type)
      if (subjectCache.size < 10_000) subjectCache.set(event.type, subject)
    }

    // Set one by one: a Map built from an array of pairs allocates the pairs too.
    const headers = new Map<string, Buffer>()
      .set(headerNames.connectorId, connectorIdBytes)
      .set(headerNames.requestId, Buffer.from(newRequestId()))
      .set(headerNames.requestDate, requestDateBytes)
      .set(headerNames.recordId, Buffer.from(event.id))
      .set(headerNames.recordTimestamp, timestampBytes(event.createdTicks))
      .set(headerNames.recordRedacted, notRedacted)
      .set(headerNames.streamId, streamIdBytes(event.streamId))
      .set(headerNames.streamRevision, Buffer.from(event.revision.toString()))
      .set(headerNames.logPosition, Buffer.from(event.position.commit.toString()))
      .set(headerNames.schemaSubject, subject)
      .set(headerNames.schemaType, event.contentType === 'application/json' ? jsonType : bytesType)
    for (const [name, value] of metadataHeaders) {
      if (options.ignoreSystemHeaders && name.startsWith('$')) continue
      headers.set(headerNames.metadataPrefix + name, Buffer.from(value))
    }
    for (const [name, value] of defaultHeaders) headers.set(name, value)

    return {
      key: keyBytes(event, metadataHeaders),
      // A copy, not a view: gRPC hands out messages as slices of larger network chunks, so a view would keep whole
      // chunks alive while the record waits (measured: peak RSS 650 MB with views, under 400 MB with copies).
      value: Buffer.from(event.data),
      headers,
      timestamp: event.createdTicks / ticksPerMillisecond,
    }
  }

  function streamIdBytes(streamId: string): Buffer {
    if (streamId !== lastStreamId) {
      lastStreamId = streamId
      lastStreamIdBytes = Buffer.from(streamId)
    }
    return lastStreamIdBytes
  }

  function timestampBytes(ticks: bigint): Buffer {
    if (ticks !== lastTicks) {
      lastTicks = ticks
      lastTimestampBytes = Buffer.from(formatTicksAsIso(ticks))
    }
    return lastTimestampBytes
  }

  function keyBytes(event: SourceEvent, metadataHeaders: ReadonlyMap<string, string>): Buffer {
    // The key depends on the stream id and, for the headers source only, on the metadata bytes.
    if (event.streamId !== lastKeySource || (usesMetadata && event.customMetadata !== lastMetadata)) {
      lastKeySource = event.streamId
      lastMetadata = event.customMetadata
      lastKey = Buffer.from(options.partitionKey({ streamId: event.streamId, metadataHeaders }))
    }
    return lastKey
  }
}
