/**
 * Events on the wire: proposed events in `AppendReq` / `BatchAppendReq` in, `ReadResp{event}` out.
 * Field numbers are those of the client's generated code (generated/kurrentdb/protocols/v1/streams_pb.js,
 * shared_pb.js): the client decodes what this writes with those same classes, so a wrong number fails
 * every read test. A stored event is one `ReadResp` encoded once, at append time.
 */
import {
  createReader,
  decodeUtf8,
  encodeVarint64,
  readLengthDelimited,
  readVarint,
  readVarint64,
  skipField,
  tagOf,
  varint64Size,
  varintSize,
  wireType,
  writeVarint,
  writeVarint64,
} from './wire-format.ts'

export type ProposedEvent = {
  id: string
  type: string
  contentType: string
  customMetadata: Uint8Array
  data: Uint8Array
}

const field = {
  uuid: { structured: 1, string: 2 },
  structuredUuid: { mostSignificantBits: 1, leastSignificantBits: 2 },
  streamIdentifier: { streamName: 3 },
  proposedMessage: { id: 1, metadata: 2, customMetadata: 3, data: 4 },
  mapEntry: { key: 1, value: 2 },
  readResp: { event: 1 },
  readEvent: { event: 1, commitPosition: 3 },
  recordedEvent: {
    id: 1,
    streamIdentifier: 2,
    streamRevision: 3,
    preparePosition: 4,
    commitPosition: 5,
    metadata: 6,
    customMetadata: 7,
    data: 8,
  },
} as const

const emptyBytes = new Uint8Array(0)

/** Reads `event_store.client.UUID` (either form) as the canonical lower-case string. */
export function decodeUuid(bytes: Uint8Array, start: number, end: number): string {
  const reader = createReader(bytes, start, end)
  let text = ''
  while (reader.offset < reader.end) {
    const tag = readVarint(reader)
    const number = tag >>> 3
    if (number === field.uuid.string && (tag & 7) === wireType.lengthDelimited) {
      const bounds = readLengthDelimited(reader)
      text = decodeUtf8(bytes, bounds.start, bounds.end).toLowerCase()
    } else if (number === field.uuid.structured && (tag & 7) === wireType.lengthDelimited) {
      const bounds = readLengthDelimited(reader)
      text = structuredUuidToString(bytes, bounds.start, bounds.end)
    } else {
      skipField(reader, tag & 7)
    }
  }
  return text
}

function structuredUuidToString(bytes: Uint8Array, start: number, end: number): string {
  const reader = createReader(bytes, start, end)
  let most = 0n
  let least = 0n
  while (reader.offset < reader.end) {
    const tag = readVarint(reader)
    if (tag === tagOf(field.structuredUuid.mostSignificantBits, wireType.varint)) most = readVarint64(reader)
    else if (tag === tagOf(field.structuredUuid.leastSignificantBits, wireType.varint)) least = readVarint64(reader)
    else skipField(reader, tag & 7)
  }
  const hex = BigInt.asUintN(64, most).toString(16).padStart(16, '0') + BigInt.asUintN(64, least).toString(16).padStart(16, '0')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** Reads one `ProposedMessage` (the same shape in AppendReq and BatchAppendReq). */
export function decodeProposedEvent(bytes: Uint8Array, start: number, end: number): ProposedEvent {
  const reader = createReader(bytes, start, end)
  const event: ProposedEvent = { id: '', type: '', contentType: 'application/octet-stream', customMetadata: emptyBytes, data: emptyBytes }
  while (reader.offset < reader.end) {
    const tag = readVarint(reader)
    const number = tag >>> 3
    if ((tag & 7) !== wireType.lengthDelimited) {
      skipField(reader, tag & 7)
      continue
    }
    const bounds = readLengthDelimited(reader)
    switch (number) {
      case field.proposedMessage.id:
        event.id = decodeUuid(bytes, bounds.start, bounds.end)
        break
      case field.proposedMessage.metadata: {
        const [key, value] = decodeMapEntry(bytes, bounds.start, bounds.end)
        if (key === 'type') event.type = value
        else if (key === 'content-type') event.contentType = value
        break
      }
      case field.proposedMessage.customMetadata:
        event.customMetadata = bytes.subarray(bounds.start, bounds.end)
        break
      case field.proposedMessage.data:
        event.data = bytes.subarray(bounds.start, bounds.end)
        break
    }
  }
  return event
}

function decodeMapEntry(bytes: Uint8Array, start: number, end: number): [string, string] {
  const reader = createReader(bytes, start, end)
  let key = ''
  let value = ''
  while (reader.offset < reader.end) {
    const tag = readVarint(reader)
    if ((tag & 7) !== wireType.lengthDelimited) {
      skipField(reader, tag & 7)
      continue
    }
    const bounds = readLengthDelimited(reader)
    if (tag >>> 3 === field.mapEntry.key) key = decodeUtf8(bytes, bounds.start, bounds.end)
    else if (tag >>> 3 === field.mapEntry.value) value = decodeUtf8(bytes, bounds.start, bounds.end)
  }
  return [key, value]
}

// ---- encoding a recorded event as a whole ReadResp ----

/**
 * An event ready to encode. The parts many events share (stream identifier, metadata entries) come
 * already encoded, from `encodeStreamIdentifierField` / `encodeMetadataField`, so the log encodes them once
 * per stream, type or commit instead of once per event.
 */
export type EncodableEvent = {
  id: string
  /** `RecordedEvent.stream_identifier`, tag and length included. */
  streamIdentifierField: Uint8Array
  /** uint64; a tombstone's revision is 2^63 - 1. */
  revision: bigint
  /** Commit and prepare position: equal in this emulator. */
  position: bigint
  /** `RecordedEvent.metadata` entries (`type`, `content-type`, `created`), tags and lengths included. */
  metadataFields: readonly Uint8Array[]
  customMetadata: Uint8Array
  data: Uint8Array
}

function lengthDelimitedSize(fieldNumber: number, contentSize: number): number {
  return varintSize(tagOf(fieldNumber, wireType.lengthDelimited)) + varintSize(contentSize) + contentSize
}

function writeHeader(target: Uint8Array, offset: number, fieldNumber: number, contentSize: number): number {
  offset = writeVarint(target, offset, tagOf(fieldNumber, wireType.lengthDelimited))
  return writeVarint(target, offset, contentSize)
}

function writeBytes(target: Uint8Array, offset: number, fieldNumber: number, bytes: Uint8Array): number {
  offset = writeHeader(target, offset, fieldNumber, bytes.length)
  target.set(bytes, offset)
  return offset + bytes.length
}

function encodeStringsMessage(fieldNumber: number, entries: [number, string][]): Uint8Array {
  const encoded = entries.map(([number, text]) => [number, Buffer.from(text, 'utf8')] as const)
  const contentSize = encoded.reduce((total, [number, bytes]) => total + lengthDelimitedSize(number, bytes.length), 0)
  const field = Buffer.allocUnsafe(lengthDelimitedSize(fieldNumber, contentSize))
  let offset = writeHeader(field, 0, fieldNumber, contentSize)
  for (const [number, bytes] of encoded) offset = writeBytes(field, offset, number, bytes)
  return field
}

export function encodeStreamIdentifierField(streamName: string): Uint8Array {
  return encodeStringsMessage(field.recordedEvent.streamIdentifier, [[field.streamIdentifier.streamName, streamName]])
}

export function encodeMetadataField(key: string, value: string): Uint8Array {
  return encodeStringsMessage(field.recordedEvent.metadata, [
    [field.mapEntry.key, key],
    [field.mapEntry.value, value],
  ])
}

/**
 * Encodes `ReadResp{event: ReadEvent{event: RecordedEvent, commit_position}}` into the room `reserve`
 * gives for its exact size. The id always goes in string form: the client asks for that
 * (`uuid_option.string`) and reads either form.
 */
export function encodeReadResponse<Room extends { buffer: Buffer; offset: number }>(event: EncodableEvent, reserve: (size: number) => Room): { room: Room; size: number } {
  const idLength = Buffer.byteLength(event.id)
  const idSize = lengthDelimitedSize(field.uuid.string, idLength)
  const position = encodeVarint64(event.position)
  let recordedEventSize =
    lengthDelimitedSize(field.recordedEvent.id, idSize) +
    event.streamIdentifierField.length +
    (event.revision === 0n ? 0 : 1 + varint64Size(event.revision)) +
    (1 + position.length) * 2
  for (const metadataField of event.metadataFields) recordedEventSize += metadataField.length
  if (event.customMetadata.length > 0) recordedEventSize += lengthDelimitedSize(field.recordedEvent.customMetadata, event.customMetadata.length)
  if (event.data.length > 0) recordedEventSize += lengthDelimitedSize(field.recordedEvent.data, event.data.length)
  const readEventSize = lengthDelimitedSize(field.readEvent.event, recordedEventSize) + 1 + position.length
  const size = lengthDelimitedSize(field.readResp.event, readEventSize)

  const room = reserve(size)
  const buffer = room.buffer
  let offset = writeHeader(buffer, room.offset, field.readResp.event, readEventSize)
  offset = writeHeader(buffer, offset, field.readEvent.event, recordedEventSize)
  offset = writeHeader(buffer, offset, field.recordedEvent.id, idSize)
  offset = writeHeader(buffer, offset, field.uuid.string, idLength)
  offset += buffer.write(event.id, offset, idLength, 'utf8')
  buffer.set(event.streamIdentifierField, offset)
  offset += event.streamIdentifierField.length
  if (event.revision !== 0n) {
    offset = writeVarint(buffer, offset, tagOf(field.recordedEvent.streamRevision, wireType.varint))
    offset = writeVarint64(buffer, offset, event.revision)
  }
  for (const fieldNumber of [field.recordedEvent.preparePosition, field.recordedEvent.commitPosition]) {
    offset = writeVarint(buffer, offset, tagOf(fieldNumber, wireType.varint))
    buffer.set(position, offset)
    offset += position.length
  }
  for (const metadataField of event.metadataFields) {
    buffer.set(metadataField, offset)
    offset += metadataField.length
  }
  if (event.customMetadata.length > 0) offset = writeBytes(buffer, offset, field.recordedEvent.customMetadata, event.customMetadata)
  if (event.data.length > 0) offset = writeBytes(buffer, offset, field.recordedEvent.data, event.data)
  offset = writeVarint(buffer, offset, tagOf(field.readEvent.commitPosition, wireType.varint))
  buffer.set(position, offset)
  return { room, size }
}
