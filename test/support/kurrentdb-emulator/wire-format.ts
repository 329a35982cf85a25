/**
 * Protocol Buffers wire format, just the parts the hot path needs: varints (uint64 as bigint or number),
 * length-delimited fields, and a forward-only reader. google-protobuf's generated classes cost ~11 µs to
 * decode and ~15 µs to encode one event under Bun (measured), so events are read and written by hand;
 * every other message still goes through the classes the client ships.
 */

export const wireType = { varint: 0, fixed64: 1, lengthDelimited: 2, fixed32: 5 } as const

export function tagOf(fieldNumber: number, type: number): number {
  return (fieldNumber << 3) | type
}

/** Bytes taken by a varint of a non-negative safe integer. */
export function varintSize(value: number): number {
  let size = 1
  while (value >= 0x80) {
    value = Math.floor(value / 128)
    size++
  }
  return size
}

const maxSafeInteger = BigInt(Number.MAX_SAFE_INTEGER)

/** Bytes taken by a varint of a uint64 (or an int64 as its two's complement, which takes 10 bytes). */
export function varint64Size(value: bigint): number {
  if (value >= 0n && value <= maxSafeInteger) return varintSize(Number(value))
  return encodeVarint64(value).length
}

/** Writes a varint of a non-negative safe integer; returns the offset after it. */
export function writeVarint(target: Uint8Array, offset: number, value: number): number {
  while (value >= 0x80) {
    target[offset++] = (value % 128) | 0x80
    value = Math.floor(value / 128)
  }
  target[offset++] = value
  return offset
}

/** Writes a uint64 (or int64 as two's complement) varint; returns the offset after it. */
export function writeVarint64(target: Uint8Array, offset: number, value: bigint): number {
  if (value >= 0n && value <= maxSafeInteger) return writeVarint(target, offset, Number(value))
  const bytes = encodeVarint64(value)
  target.set(bytes, offset)
  return offset + bytes.length
}

/**
 * The varint bytes of a uint64, worked on two 32-bit halves: BigInt arithmetic per byte costs ~1 µs a
 * value, which positions above 2^53 (written three times per event) would pay on every append.
 */
export function encodeVarint64(value: bigint): Uint8Array {
  if (value >= 0n && value <= maxSafeInteger) {
    const number = Number(value)
    const bytes = new Uint8Array(varintSize(number))
    writeVarint(bytes, 0, number)
    return bytes
  }
  const unsigned = BigInt.asUintN(64, value)
  let low = Number(unsigned & 0xffffffffn)
  let high = Number(unsigned >> 32n)
  const bytes: number[] = []
  while (high > 0 || low > 0x7f) {
    bytes.push((low & 0x7f) | 0x80)
    low = ((low >>> 7) | ((high & 0x7f) << 25)) >>> 0
    high >>>= 7
  }
  bytes.push(low)
  return Uint8Array.from(bytes)
}

export type WireReader = {
  readonly bytes: Uint8Array
  offset: number
  readonly end: number
}

export function createReader(bytes: Uint8Array, start = 0, end = bytes.length): WireReader {
  return { bytes, offset: start, end }
}

export function readVarint(reader: WireReader): number {
  let result = 0
  let multiplier = 1
  for (;;) {
    if (reader.offset >= reader.end) throw new Error('truncated varint')
    const byte = reader.bytes[reader.offset++]!
    result += (byte & 0x7f) * multiplier
    if (byte < 0x80) return result
    multiplier *= 128
  }
}

export function readVarint64(reader: WireReader): bigint {
  let result = 0n
  let shift = 0n
  for (;;) {
    if (reader.offset >= reader.end) throw new Error('truncated varint')
    const byte = reader.bytes[reader.offset++]!
    result |= BigInt(byte & 0x7f) << shift
    if (byte < 0x80) return result
    shift += 7n
  }
}

/** Reads a length-delimited field's bounds and moves the reader past it. */
export function readLengthDelimited(reader: WireReader): { start: number; end: number } {
  const length = readVarint(reader)
  const start = reader.offset
  const end = start + length
  if (end > reader.end) throw new Error('truncated length-delimited field')
  reader.offset = end
  return { start, end }
}

export function skipField(reader: WireReader, type: number): void {
  switch (type) {
    case wireType.varint:
      readVarint64(reader)
      return
    case wireType.fixed64:
      reader.offset += 8
      return
    case wireType.lengthDelimited:
      readLengthDelimited(reader)
      return
    case wireType.fixed32:
      reader.offset += 4
      return
    default:
      throw new Error(`unsupported wire type ${type}`)
  }
}

/**
 * Walks a message's top-level fields: `visit` gets each length-delimited field's bounds; `onVarint`, when
 * given, must read each varint field itself (the others are skipped).
 */
export function forEachField(
  bytes: Uint8Array,
  visit: (fieldNumber: number, start: number, end: number) => void,
  onVarint?: (fieldNumber: number, reader: WireReader) => void,
): void {
  const reader = createReader(bytes)
  while (reader.offset < reader.end) {
    const tag = readVarint(reader)
    const type = tag & 7
    if (type === wireType.lengthDelimited) {
      const bounds = readLengthDelimited(reader)
      visit(tag >>> 3, bounds.start, bounds.end)
    } else if (type === wireType.varint && onVarint) {
      onVarint(tag >>> 3, reader)
    } else {
      skipField(reader, type)
    }
  }
}

const utf8Decoder = new TextDecoder()

export function decodeUtf8(bytes: Uint8Array, start: number, end: number): string {
  // grpc-js hands deserializers a Buffer, whose native slice is several times faster than TextDecoder on
  // the short strings of an event (id, type, content type).
  return Buffer.isBuffer(bytes) ? bytes.toString('utf8', start, end) : utf8Decoder.decode(bytes.subarray(start, end))
}
