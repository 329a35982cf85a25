/**
 * Decodes KurrentDB's `Streams.Read` responses (event_store.client.streams.ReadResp, v1 protocol) straight from the
 * wire bytes into the few fields the sink needs.
 *
 * Why not the client's own decoding: it JSON-parses every JSON event's data (the Kafka value must be the stored bytes,
 * unchanged: a parse/stringify round trip rewrites numbers, whitespace and escapes) and it builds a google-protobuf
 * object graph per event, which is where most of the subscription's ~20 µs per event went (measured under Bun).
 * Field numbers are those of the generated code shipped with @kurrent/kurrentdb-client (streams_pb.js, shared_pb.js).
 */
import type { LogPosition } from './positions.ts'

export interface SourceEvent {
  readonly id: string
  readonly streamId: string
  readonly revision: bigint
  readonly position: LogPosition
  readonly type: string
  readonly contentType: string
  /** .NET ticks (100 ns) since the Unix epoch, as KurrentDB stores `created`. */
  readonly createdTicks: bigint
  /** The stored data bytes (a view into the response buffer; never mutated). */
  readonly data: Uint8Array
  /** The user metadata bytes (JSON by convention, but any bytes are possible). */
  readonly customMetadata: Uint8Array
}

export type ReadResponse =
  | { readonly kind: 'event'; readonly event: SourceEvent }
  /** An event without position or body: a link whose target is gone, or an unresolved link. Nothing to forward. */
  | { readonly kind: 'emptyEvent' }
  | { readonly kind: 'confirmation'; readonly subscriptionId: string }
  | { readonly kind: 'checkpoint'; readonly position: LogPosition }
  | { readonly kind: 'caughtUp'; readonly position: LogPosition | undefined; readonly revision: bigint | undefined }
  | { readonly kind: 'fellBehind' }
  | { readonly kind: 'streamNotFound' }
  | { readonly kind: 'other' }

/** Thrown for bytes that are not a valid ReadResp: the connection is broken or speaks another protocol. */
export class MalformedReadResponseError extends Error {
  override readonly name = 'MalformedReadResponseError'
}

const wireVarint = 0
const wireFixed64 = 1
const wireLengthDelimited = 2
const wireFixed32 = 5

const utf8 = new TextDecoder('utf-8')

/*
 * The decoder runs once per event at full speed, so it allocates only what it returns: one reader per response, the
 * bounds of nested messages as plain numbers, no closure per field, strings read straight out of the bytes.
 */

/** The read offset into one response's bytes. */
interface Reader {
  readonly bytes: Uint8Array
  offset: number
}

function readVarintNumber(reader: Reader, end: number): number {
  // Fast path for values below 2^28 (tags, lengths, small revisions); falls back to exact bigint reading otherwise.
  const { bytes } = reader
  let result = 0
  let shift = 0
  for (let index = 0; index < 4; index++) {
    const byte = bytes[reader.offset++]
    if (byte === undefined || reader.offset > end) throw new MalformedReadResponseError('truncated varint')
    result |= (byte & 0x7f) << shift
    if (byte < 0x80) return result >>> 0
    shift += 7
  }
  reader.offset -= 4
  const big = readVarintBigInt(reader, end)
  if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new MalformedReadResponseError('length or tag out of range')
  return Number(big)
}

function readVarintBigInt(reader: Reader, end: number): bigint {
  const { bytes } = reader
  let low = 0
  let high = 0
  let shift = 0
  // Accumulate in two 28-bit halves with plain numbers; one BigInt conversion at the end.
  for (let index = 0; index < 10; index++) {
    const byte = bytes[reader.offset++]
    if (byte === undefined || reader.offset > end) throw new MalformedReadResponseError('truncated varint')
    if (index < 4) low |= (byte & 0x7f) << shift
    else high += (byte & 0x7f) * 2 ** (shift - 28)
    if (byte < 0x80) {
      const lowValue = low >>> 0
      // Below 2^53 (every revision and position a real log reaches) the value is exact as a number: one BigInt.
      return high < 2 ** 25 ? BigInt(high * 2 ** 28 + lowValue) : (BigInt(high) << 28n) + BigInt(lowValue)
    }
    shift += 7
  }
  throw new MalformedReadResponseError('varint longer than 10 bytes')
}

function skipField(reader: Reader, end: number, wireType: number): void {
  switch (wireType) {
    case wireVarint:
      readVarintBigInt(reader, end)
      return
    case wireFixed64:
      reader.offset += 8
      break
    case wireLengthDelimited: {
      // Read the length first: `offset += read()` would add to the offset from before the length was consumed.
      const length = readVarintNumber(reader, end)
      reader.offset += length
      break
    }
    case wireFixed32:
      reader.offset += 4
      break
    default:
      throw new MalformedReadResponseError(`unsupported wire type ${wireType}`)
  }
  if (reader.offset > end) throw new MalformedReadResponseError('field runs past the message end')
}

/** Reads a length prefix and returns the end of the nested message that starts at the reader's offset. */
function nestedEnd(reader: Reader, end: number): number {
  const length = readVarintNumber(reader, end)
  const nested = reader.offset + length
  if (nested > end) throw new MalformedReadResponseError('nested message runs past its parent')
  return nested
}

function readBytesView(reader: Reader, end: number): Uint8Array {
  const stop = nestedEnd(reader, end)
  // Most events carry no metadata: an empty field shares one empty array instead of a view of its own.
  const view = stop === reader.offset ? emptyBytes : reader.bytes.subarray(reader.offset, stop)
  reader.offset = stop
  return view
}

function readString(reader: Reader, end: number): string {
  const stop = nestedEnd(reader, end)
  const { bytes, offset } = reader
  reader.offset = stop
  return utf8Text(bytes, offset, stop)
}

/**
 * The last value read for one field (a stream id, an event type, a created time) and the bytes it came from: events
 * arrive in runs of one stream, one type and one write, so equal bytes are handed the value already decoded instead
 * of a new string or BigInt (which also lets the record mapping's own "same as the last one" checks succeed by
 * identity).
 */
class LastField<T> {
  private readonly last = new Uint8Array(128)
  private lastLength = -1
  private lastValue: T

  constructor(initial: T) {
    this.lastValue = initial
  }

  /** The value decoded from `bytes[start, stop)`: the last one when the bytes are the same, else `decode`'s. */
  read(bytes: Uint8Array, start: number, stop: number, decode: (bytes: Uint8Array, start: number, stop: number) => T): T {
    const length = stop - start
    if (length === this.lastLength && this.matches(bytes, start, length)) return this.lastValue
    const value = decode(bytes, start, stop)
    if (length <= this.last.length) {
      for (let index = 0; index < length; index++) this.last[index] = bytes[start + index]!
      this.lastLength = length
      this.lastValue = value
    }
    return value
  }

  private matches(bytes: Uint8Array, start: number, length: number): boolean {
    // From the end: names of one family (order-41, order-42) and times of one second differ last.
    for (let index = length - 1; index >= 0; index--) if (bytes[start + index] !== this.last[index]) return false
    return true
  }
}
const streamIds = new LastField('')
const eventTypes = new LastField('')
const createdTimes = new LastField<bigint | undefined>(undefined)

function readRepeatedString(reader: Reader, end: number, field: LastField<string>): string {
  const stop = nestedEnd(reader, end)
  const { bytes, offset } = reader
  reader.offset = stop
  return field.read(bytes, offset, stop, utf8Text)
}

function utf8Text(bytes: Uint8Array, start: number, end: number): string {
  // A Buffer (what gRPC hands over) decodes a range without a view object in between.
  return bytes instanceof Buffer ? bytes.toString('utf8', start, end) : utf8.decode(bytes.subarray(start, end))
}

/** True when the length-delimited field at the reader's offset holds exactly these (ASCII) bytes; the offset stays. */
function fieldEquals(reader: Reader, end: number, expected: Uint8Array): boolean {
  const saved = reader.offset
  const stop = nestedEnd(reader, end)
  const start = reader.offset
  reader.offset = saved
  if (stop - start !== expected.length) return false
  const { bytes } = reader
  for (let index = 0; index < expected.length; index++) if (bytes[start + index] !== expected[index]) return false
  return true
}

function readTag(reader: Reader, end: number): { fieldNumber: number; wireType: number } {
  const tag = readVarintNumber(reader, end)
  tagScratch.fieldNumber = tag >>> 3
  tagScratch.wireType = tag & 7
  return tagScratch
}
const tagScratch = { fieldNumber: 0, wireType: 0 }

function decodePosition(reader: Reader, end: number): LogPosition {
  let commit = 0n
  let prepare = 0n
  while (reader.offset < end) {
    const { fieldNumber, wireType } = readTag(reader, end)
    if (wireType === wireVarint && fieldNumber === 1) commit = readVarintBigInt(reader, end)
    else if (wireType === wireVarint && fieldNumber === 2) prepare = readVarintBigInt(reader, end)
    else skipField(reader, end, wireType)
  }
  return { commit, prepare }
}

function decodeUuid(reader: Reader, end: number): string {
  let text = ''
  let most: bigint | undefined
  let least: bigint | undefined
  while (reader.offset < end) {
    const { fieldNumber, wireType } = readTag(reader, end)
    if (fieldNumber === 2 && wireType === wireLengthDelimited) text = readString(reader, end)
    else if (fieldNumber === 1 && wireType === wireLengthDelimited) {
      const structuredEnd = nestedEnd(reader, end)
      // Proto3 leaves out fields at their default: a structured id without a half has zero there.
      most ??= 0n
      least ??= 0n
      while (reader.offset < structuredEnd) {
        const structured = readTag(reader, structuredEnd)
        if (structured.wireType === wireVarint && structured.fieldNumber === 1) most = readVarintBigInt(reader, structuredEnd)
        else if (structured.wireType === wireVarint && structured.fieldNumber === 2) least = readVarintBigInt(reader, structuredEnd)
        else skipField(reader, structuredEnd, structured.wireType)
      }
    } else skipField(reader, end, wireType)
  }
  if (text !== '' || most === undefined || least === undefined) return text
  const hex = (BigInt.asUintN(64, most).toString(16).padStart(16, '0') + BigInt.asUintN(64, least).toString(16).padStart(16, '0'))
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

interface MutableEvent {
  id: string
  streamId: string
  revision: bigint
  commit: bigint | undefined
  prepare: bigint | undefined
  type: string
  contentType: string
  createdTicks: bigint
  data: Uint8Array
  customMetadata: Uint8Array
}

const emptyBytes = new Uint8Array(0)
const ascii = (text: string) => Uint8Array.from(text, (character) => character.charCodeAt(0))
const typeKey = ascii('type')
const contentTypeKey = ascii('content-type')
const createdKey = ascii('created')
const jsonContentType = ascii('application/json')
const octetStreamContentType = ascii('application/octet-stream')
const digit0 = 0x30
const digit9 = 0x39

/**
 * `created` as .NET ticks, read from its decimal digits; undefined for anything else (the server always sends
 * digits).
 */
function readTicks(reader: Reader, end: number): bigint | undefined {
  const stop = nestedEnd(reader, end)
  const { bytes } = reader
  const start = reader.offset
  reader.offset = stop
  if (stop === start) return undefined
  return createdTimes.read(bytes, start, stop, ticksFromDigits)
}

/** Decimal digits as a BigInt; undefined if anything else is there. 15 digits are exact as a number. */
function ticksFromDigits(bytes: Uint8Array, start: number, stop: number): bigint | undefined {
  for (let index = start; index < stop; index++) if (bytes[index]! < digit0 || bytes[index]! > digit9) return undefined
  // Today's ticks have 18 digits: the leading ones and the last 15, each exact as a number, joined once.
  const split = Math.max(start, stop - 15)
  if (split - start > 15) return BigInt(utf8Text(bytes, start, stop))
  const low = BigInt(digitsValue(bytes, split, stop))
  return split === start ? low : BigInt(digitsValue(bytes, start, split)) * tenToTheFifteenth + low
}
const tenToTheFifteenth = 10n ** 15n

function digitsValue(bytes: Uint8Array, start: number, stop: number): number {
  let value = 0
  for (let index = start; index < stop; index++) value = value * 10 + (bytes[index]! - digit0)
  return value
}

/** One entry of the `metadata` map (type, content-type, created), set on the event. */
function decodeMetadataEntry(reader: Reader, end: number, event: MutableEvent): void {
  // Protobuf allows the value before the key: find the key first, then read the value it names.
  const entryStart = reader.offset
  let key: Uint8Array | undefined
  while (reader.offset < end) {
    const { fieldNumber, wireType } = readTag(reader, end)
    if (wireType === wireLengthDelimited && fieldNumber === 1) {
      key = fieldEquals(reader, end, typeKey) ? typeKey : fieldEquals(reader, end, contentTypeKey) ? contentTypeKey : fieldEquals(reader, end, createdKey) ? createdKey : emptyBytes
    }
    skipField(reader, end, wireType)
  }
  if (key === undefined || key === emptyBytes) return
  // The last value field wins, as protobuf merges repeated scalar fields.
  reader.offset = entryStart
  let valueAt = -1
  while (reader.offset < end) {
    const { fieldNumber, wireType } = readTag(reader, end)
    if (wireType === wireLengthDelimited && fieldNumber === 2) valueAt = reader.offset
    skipField(reader, end, wireType)
  }
  // An entry without a value field has the empty string as its value.
  reader.offset = valueAt
  if (key === typeKey) event.type = valueAt === -1 ? '' : readRepeatedString(reader, end, eventTypes)
  else if (key === contentTypeKey) {
    event.contentType =
      valueAt === -1
        ? ''
        : fieldEquals(reader, end, jsonContentType)
          ? 'application/json'
          : fieldEquals(reader, end, octetStreamContentType)
            ? 'application/octet-stream'
            : readString(reader, end)
  } else if (valueAt !== -1) {
    const ticks = readTicks(reader, end)
    if (ticks !== undefined) event.createdTicks = ticks
  }
  reader.offset = end
}

function resetEvent(event: MutableEvent): MutableEvent {
  event.id = ''
  event.streamId = ''
  event.revision = 0n
  event.commit = undefined
  event.prepare = undefined
  event.type = ''
  event.contentType = 'application/octet-stream'
  event.createdTicks = 0n
  event.data = emptyBytes
  event.customMetadata = emptyBytes
  return event
}
// What a ReadEvent's recorded event and link are decoded into before the one returned object is built: filled anew
// for every response (decoding never runs twice at once), so they cost no allocation per event.
const recordedScratch = resetEvent({} as MutableEvent)
const linkScratch = resetEvent({} as MutableEvent)

function decodeRecordedEvent(reader: Reader, end: number, event: MutableEvent): MutableEvent {
  resetEvent(event)
  while (reader.offset < end) {
    const { fieldNumber, wireType } = readTag(reader, end)
    switch (fieldNumber) {
      case 1:
        if (wireType !== wireLengthDelimited) break
        event.id = decodeUuid(reader, nestedEnd(reader, end))
        continue
      case 2: {
        if (wireType !== wireLengthDelimited) break
        const identifierEnd = nestedEnd(reader, end)
        while (reader.offset < identifierEnd) {
          const identifier = readTag(reader, identifierEnd)
          if (identifier.fieldNumber === 3 && identifier.wireType === wireLengthDelimited) event.streamId = readRepeatedString(reader, identifierEnd, streamIds)
          else skipField(reader, identifierEnd, identifier.wireType)
        }
        continue
      }
      case 3:
        if (wireType !== wireVarint) break
        event.revision = readVarintBigInt(reader, end)
        continue
      case 4:
        if (wireType !== wireVarint) break
        event.prepare = readVarintBigInt(reader, end)
        continue
      case 5:
        if (wireType !== wireVarint) break
        event.commit = readVarintBigInt(reader, end)
        continue
      case 6:
        if (wireType !== wireLengthDelimited) break
        decodeMetadataEntry(reader, nestedEnd(reader, end), event)
        continue
      case 7:
        if (wireType !== wireLengthDelimited) break
        event.customMetadata = readBytesView(reader, end)
        continue
      case 8:
        if (wireType !== wireLengthDelimited) break
        event.data = readBytesView(reader, end)
        continue
    }
    skipField(reader, end, wireType)
  }
  return event
}

function decodeReadEvent(reader: Reader, end: number): ReadResponse {
  let event: MutableEvent | undefined
  let link: MutableEvent | undefined
  let commitPosition: bigint | undefined
  while (reader.offset < end) {
    const { fieldNumber, wireType } = readTag(reader, end)
    if (fieldNumber === 1 && wireType === wireLengthDelimited) event = decodeRecordedEvent(reader, nestedEnd(reader, end), recordedScratch)
    else if (fieldNumber === 2 && wireType === wireLengthDelimited) link = decodeRecordedEvent(reader, nestedEnd(reader, end), linkScratch)
    else if (fieldNumber === 3 && wireType === wireVarint) commitPosition = readVarintBigInt(reader, end)
    else skipField(reader, end, wireType)
  }
  // Without link resolution the server sends the recorded event itself; a resolved link carries its target in
  // `event` and the link record (whose position is the one in `$all`) in `link`.
  const record = event ?? link
  if (record === undefined) return { kind: 'emptyEvent' }
  const positionSource = link ?? record
  const commit = positionSource.commit ?? commitPosition
  if (commit === undefined) return { kind: 'emptyEvent' }
  return {
    kind: 'event',
    event: {
      id: record.id,
      streamId: record.streamId,
      revision: record.revision,
      position: { commit, prepare: positionSource.prepare ?? commit },
      type: record.type,
      contentType: record.contentType,
      createdTicks: record.createdTicks,
      data: record.data,
      customMetadata: record.customMetadata,
    },
  }
}

function decodeCaughtUp(reader: Reader, end: number): ReadResponse {
  let position: LogPosition | undefined
  let revision: bigint | undefined
  while (reader.offset < end) {
    const { fieldNumber, wireType } = readTag(reader, end)
    if (fieldNumber === 2 && wireType === wireVarint) revision = readVarintBigInt(reader, end)
    else if (fieldNumber === 3 && wireType === wireLengthDelimited) position = decodePosition(reader, nestedEnd(reader, end))
    else skipField(reader, end, wireType)
  }
  return { kind: 'caughtUp', position, revision }
}

/** Moves past a nested message whose content does not matter (an Empty). */
function skipNested(reader: Reader, end: number): void {
  reader.offset = nestedEnd(reader, end)
}

export function decodeReadResponse(bytes: Uint8Array): ReadResponse {
  const reader: Reader = { bytes, offset: 0 }
  const end = bytes.length
  let response: ReadResponse = { kind: 'other' }
  while (reader.offset < end) {
    const { fieldNumber, wireType } = readTag(reader, end)
    if (wireType !== wireLengthDelimited) {
      skipField(reader, end, wireType)
      continue
    }
    switch (fieldNumber) {
      case 1:
        response = decodeReadEvent(reader, nestedEnd(reader, end))
        break
      case 2: {
        const confirmationEnd = nestedEnd(reader, end)
        let subscriptionId = ''
        while (reader.offset < confirmationEnd) {
          const confirmation = readTag(reader, confirmationEnd)
          if (confirmation.fieldNumber === 1 && confirmation.wireType === wireLengthDelimited) subscriptionId = readString(reader, confirmationEnd)
          else skipField(reader, confirmationEnd, confirmation.wireType)
        }
        response = { kind: 'confirmation', subscriptionId }
        break
      }
      case 3:
        response = { kind: 'checkpoint', position: decodePosition(reader, nestedEnd(reader, end)) }
        break
      case 4:
        skipNested(reader, end)
        response = { kind: 'streamNotFound' }
        break
      case 8:
        response = decodeCaughtUp(reader, nestedEnd(reader, end))
        break
      case 9:
        skipNested(reader, end)
        response = { kind: 'fellBehind' }
        break
      default:
        skipField(reader, end, wireType)
    }
  }
  return response
}
