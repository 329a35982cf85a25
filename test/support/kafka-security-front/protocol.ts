/**
 * Kafka wire primitives for the security front: frame splitting, a bounds-checked reader and a writer for the
 * types the front parses or builds (int16/int32/int64, classic and compact strings and arrays, unsigned varints,
 * tagged-field buffers). Rules from the Kafka protocol guide (kafka.apache.org/protocol, "Protocol Primitive
 * Types"): classic lengths are int32 (arrays, bytes) or int16 (strings) with -1 for null; compact ("flexible")
 * lengths are unsigned varints holding length + 1, with 0 for null; a tagged-field buffer is a varint count, then
 * per field a varint tag, a varint size and the bytes.
 */

/** Thrown on any malformed or truncated input: the connection that sent it is closed. */
export class KafkaProtocolError extends Error {
  override readonly name = 'KafkaProtocolError'
}

/** Kafka brokers refuse requests above socket.request.max.bytes (100 MiB by default); so does the front. */
export const maxFrameBytes = 100 * 1024 * 1024

/**
 * Splits a byte stream into Kafka frames. Every request and response is `int32 size` + `size` bytes; chunks may
 * hold part of a frame or several frames. Chunks are kept in a list until the frame under way is complete, so a
 * large frame arriving in many chunks is copied once, not once per chunk.
 */
export class FrameSplitter {
  #pending: Buffer[] = []
  #pendingBytes = 0
  /** Bytes needed before anything can be cut: the size prefix, then the whole frame under way. */
  #needed = 4

  /** Adds a chunk and returns the frames it completed (without their size prefix), in order. */
  push(chunk: Buffer): Buffer[] {
    this.#pending.push(chunk)
    this.#pendingBytes += chunk.length
    if (this.#pendingBytes < this.#needed) return []
    const buffer = this.#pending.length === 1 ? chunk : Buffer.concat(this.#pending, this.#pendingBytes)
    const frames: Buffer[] = []
    let offset = 0
    while (buffer.length - offset >= 4) {
      const size = frameSize(buffer, offset)
      if (buffer.length - offset - 4 < size) break
      frames.push(buffer.subarray(offset + 4, offset + 4 + size))
      offset += 4 + size
    }
    // Copy the remainder so the completed frames' buffer is not kept alive by a small leftover.
    const rest = offset === buffer.length ? undefined : Buffer.from(buffer.subarray(offset))
    this.#pending = rest === undefined ? [] : [rest]
    this.#pendingBytes = rest?.length ?? 0
    this.#needed = rest !== undefined && rest.length >= 4 ? 4 + frameSize(rest, 0) : 4
    return frames
  }
}

function frameSize(buffer: Buffer, offset: number): number {
  const size = buffer.readInt32BE(offset)
  if (size < 0 || size > maxFrameBytes) throw new KafkaProtocolError(`frame size ${size} out of range`)
  return size
}

/** Prefixes a frame body with its int32 size. */
export function framed(body: Buffer): Buffer {
  const size = Buffer.allocUnsafe(4)
  size.writeInt32BE(body.length, 0)
  return Buffer.concat([size, body])
}

export class Reader {
  offset: number

  constructor(
    readonly buffer: Buffer,
    offset = 0,
  ) {
    this.offset = offset
  }

  #need(bytes: number, what: string): void {
    if (bytes < 0 || this.offset + bytes > this.buffer.length) {
      throw new KafkaProtocolError(`truncated ${what} at offset ${this.offset} (frame of ${this.buffer.length} bytes)`)
    }
  }

  int16(): number {
    this.#need(2, 'int16')
    const value = this.buffer.readInt16BE(this.offset)
    this.offset += 2
    return value
  }

  int32(): number {
    this.#need(4, 'int32')
    const value = this.buffer.readInt32BE(this.offset)
    this.offset += 4
    return value
  }

  int64(): bigint {
    this.#need(8, 'int64')
    const value = this.buffer.readBigInt64BE(this.offset)
    this.offset += 8
    return value
  }

  /** Unsigned varint (protobuf style, 7 bits per byte, low bits first), at most 5 bytes for 32 bits. */
  uvarint(): number {
    let value = 0
    for (let shift = 0; shift <= 28; shift += 7) {
      this.#need(1, 'varint')
      const byte = this.buffer[this.offset++]!
      value += (byte & 0x7f) * 2 ** shift
      if ((byte & 0x80) === 0) return value
    }
    throw new KafkaProtocolError('varint longer than 5 bytes')
  }

  bytes(length: number): Buffer {
    this.#need(length, 'bytes')
    const value = this.buffer.subarray(this.offset, this.offset + length)
    this.offset += length
    return value
  }

  /** STRING / NULLABLE_STRING: int16 length, -1 for null. */
  nullableString(): string | null {
    const length = this.int16()
    if (length === -1) return null
    return this.bytes(length).toString('utf8')
  }

  /** COMPACT_STRING / COMPACT_NULLABLE_STRING: uvarint length + 1, 0 for null. */
  compactNullableString(): string | null {
    const lengthPlusOne = this.uvarint()
    if (lengthPlusOne === 0) return null
    return this.bytes(lengthPlusOne - 1).toString('utf8')
  }

  /** BYTES: int32 length. */
  classicBytes(): Buffer {
    const length = this.int32()
    if (length < 0) throw new KafkaProtocolError('null BYTES where bytes are required')
    return this.bytes(length)
  }

  /** COMPACT_BYTES: uvarint length + 1. */
  compactBytes(): Buffer {
    const lengthPlusOne = this.uvarint()
    if (lengthPlusOne === 0) throw new KafkaProtocolError('null COMPACT_BYTES where bytes are required')
    return this.bytes(lengthPlusOne - 1)
  }

  /** ARRAY length (int32, -1 null) or COMPACT_ARRAY length (uvarint + 1, 0 null); null arrays read as -1. */
  arrayLength(compact: boolean): number {
    if (!compact) return this.int32()
    return this.uvarint() - 1
  }

  /** Skips a TAG_BUFFER (no tagged field is interpreted by the front). */
  skipTaggedFields(): void {
    const count = this.uvarint()
    for (let index = 0; index < count; index++) {
      this.uvarint() // tag
      this.bytes(this.uvarint())
    }
  }

  rest(): Buffer {
    return this.buffer.subarray(this.offset)
  }
}

export class Writer {
  readonly #parts: Buffer[] = []

  int16(value: number): this {
    const part = Buffer.allocUnsafe(2)
    part.writeInt16BE(value, 0)
    return this.raw(part)
  }

  int32(value: number): this {
    const part = Buffer.allocUnsafe(4)
    part.writeInt32BE(value, 0)
    return this.raw(part)
  }

  int64(value: bigint): this {
    const part = Buffer.allocUnsafe(8)
    part.writeBigInt64BE(value, 0)
    return this.raw(part)
  }

  uvarint(value: number): this {
    const bytes: number[] = []
    let rest = value
    while (rest >= 0x80) {
      bytes.push((rest % 0x80) | 0x80)
      rest = Math.floor(rest / 0x80)
    }
    bytes.push(rest)
    return this.raw(Buffer.from(bytes))
  }

  nullableString(value: string | null): this {
    if (value === null) return this.int16(-1)
    const bytes = Buffer.from(value, 'utf8')
    return this.int16(bytes.length).raw(bytes)
  }

  compactNullableString(value: string | null): this {
    if (value === null) return this.uvarint(0)
    const bytes = Buffer.from(value, 'utf8')
    return this.uvarint(bytes.length + 1).raw(bytes)
  }

  classicBytes(value: Buffer): this {
    return this.int32(value.length).raw(value)
  }

  compactBytes(value: Buffer): this {
    return this.uvarint(value.length + 1).raw(value)
  }

  arrayLength(length: number, compact: boolean): this {
    return compact ? this.uvarint(length + 1) : this.int32(length)
  }

  /** An empty TAG_BUFFER. */
  noTaggedFields(): this {
    return this.uvarint(0)
  }

  raw(bytes: Buffer): this {
    this.#parts.push(bytes)
    return this
  }

  build(): Buffer {
    return Buffer.concat(this.#parts)
  }
}

export interface RequestHeader {
  readonly apiKey: number
  readonly apiVersion: number
  readonly correlationId: number
}

/** The fixed start of request headers v0–v2: api_key int16, api_version int16, correlation_id int32. */
export function readRequestHeader(frame: Buffer): RequestHeader {
  const reader = new Reader(frame)
  return { apiKey: reader.int16(), apiVersion: reader.int16(), correlationId: reader.int32() }
}

/**
 * Where a request's body starts. Request header v1 = the fixed start + client_id NULLABLE_STRING; header v2 (the
 * request is "flexible") adds a TAG_BUFFER. Note client_id stays a classic int16-length string even in v2.
 */
export function requestBodyOffset(frame: Buffer, flexibleHeader: boolean): number {
  const reader = new Reader(frame, 8)
  reader.nullableString()
  if (flexibleHeader) reader.skipTaggedFields()
  return reader.offset
}

/** Response header v0 (correlation_id) or v1 (correlation_id + TAG_BUFFER) followed by `body`, unframed. */
export function responseFrame(correlationId: number, flexibleHeader: boolean, body: Buffer): Buffer {
  const header = new Writer().int32(correlationId)
  if (flexibleHeader) header.noTaggedFields()
  return framed(Buffer.concat([header.build(), body]))
}
