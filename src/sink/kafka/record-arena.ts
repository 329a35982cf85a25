/**
 * Writes the parts of Kafka records (header blocks and values) into large shared chunks instead of one small
 * allocation per field. A record's header block is written once, in the form Kafka's record format v2 puts on the
 * wire (a zigzag varint count, then each name and value as zigzag-varint-length-prefixed bytes), so an engine that
 * encodes records itself copies it with one `set`; `EncodedHeaders` still reads as a `Map` for engines and code that
 * want names and values.
 *
 * Why: per event, building a `Map` of a dozen headers and a `Buffer` for each value cost more CPU and garbage than
 * reading the event and compressing it together. A chunk stays alive while any record written into it does: records
 * are released as Kafka confirms them, and the pipeline's credit window bounds how many wait, so at most a few
 * chunks beyond the window's bytes are held.
 */

const defaultChunkBytes = 256 * 1024
/** One byte holds the zigzag varint of a count up to 63: a block with more headers is shifted once when finished. */
const countReserve = 1
/** UTF-8 takes at most 3 bytes per UTF-16 code unit. */
const maxUtf8BytesPerCodeUnit = 3
const maxVarintBytes = 5

/*
 * Lengths and counts in Kafka's record format are zigzag varints. A header block holds only non-negative ones (no
 * null names or values), whose zigzag form is the value doubled.
 */
export function zigZagVarIntSize(value: number): number {
  let unsigned = value * 2
  let size = 1
  while (unsigned >= 0x80) {
    unsigned = Math.floor(unsigned / 128)
    size++
  }
  return size
}

export function writeZigZagVarInt(target: Uint8Array, offset: number, value: number): number {
  let unsigned = value * 2
  while (unsigned >= 0x80) {
    target[offset++] = (unsigned % 128) | 0x80
    unsigned = Math.floor(unsigned / 128)
  }
  target[offset++] = unsigned
  return offset
}

/**
 * Copies `source` into `target` at `offset`; returns the offset after it. Most copies here are a header's name or
 * value of a few dozen bytes, for which `TypedArray.prototype.set`'s call into the runtime costs more than the copy:
 * a plain loop, which the JIT compiles into the caller, is cheaper up to about this length (bench/README.md).
 */
const loopCopyMaxBytes = 64
function copyBytes(target: Uint8Array, offset: number, source: Uint8Array): number {
  const length = source.length
  if (length > loopCopyMaxBytes) target.set(source, offset)
  else for (let index = 0; index < length; index++) target[offset + index] = source[index]!
  return offset + length
}

function readZigZagVarInt(source: Uint8Array, offset: number): { readonly value: number; readonly next: number } {
  let unsigned = 0
  let multiplier = 1
  for (;;) {
    const byte = source[offset++]
    if (byte === undefined) throw new RangeError('encoded headers end inside a varint')
    unsigned += (byte & 0x7f) * multiplier
    if (byte < 0x80) break
    multiplier *= 128
  }
  return { value: unsigned / 2, next: offset }
}

/** A name (or a whole name/value pair) encoded once, with its length prefix, for headers every record carries. */
export function encodeHeaderField(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8')
  const encoded = Buffer.allocUnsafe(zigZagVarIntSize(bytes.length) + bytes.length)
  bytes.copy(encoded, writeZigZagVarInt(encoded, 0, bytes.length))
  return encoded
}

/** Record headers held in Kafka's wire form; reads like the `Map` of names to value bytes it encodes. */
export class EncodedHeaders implements ReadonlyMap<string, Buffer> {
  constructor(
    /** The header array as Kafka record format v2 encodes it: count, then length-prefixed names and values. */
    readonly encoded: Buffer,
    readonly size: number,
    /** Bytes of the names and values alone (what a `Map` of the same headers would hold). */
    readonly contentBytes: number,
  ) {}

  *entries(): MapIterator<[string, Buffer]> {
    let offset = readZigZagVarInt(this.encoded, 0).next
    for (let index = 0; index < this.size; index++) {
      const name = readZigZagVarInt(this.encoded, offset)
      const nameEnd = name.next + name.value
      const value = readZigZagVarInt(this.encoded, nameEnd)
      offset = value.next + value.value
      yield [this.encoded.toString('utf8', name.next, nameEnd), this.encoded.subarray(value.next, offset)]
    }
  }

  [Symbol.iterator](): MapIterator<[string, Buffer]> {
    return this.entries()
  }

  *keys(): MapIterator<string> {
    for (const [name] of this.entries()) yield name
  }

  *values(): MapIterator<Buffer> {
    for (const [, value] of this.entries()) yield value
  }

  get(name: string): Buffer | undefined {
    // Like a Map built by setting each header in turn: the last header of a name wins.
    let found: Buffer | undefined
    for (const [candidate, value] of this.entries()) if (candidate === name) found = value
    return found
  }

  has(name: string): boolean {
    return this.get(name) !== undefined
  }

  forEach(callback: (value: Buffer, name: string, map: ReadonlyMap<string, Buffer>) => void, thisArgument?: unknown): void {
    for (const [name, value] of this.entries()) callback.call(thisArgument, value, name, this)
  }
}

/**
 * Writes records' header blocks and values into shared chunks. One writer per connector run (not shared between
 * runs or threads): a block is begun, filled field by field, and finished before the next one begins.
 */
export class RecordArena {
  /** `chunkBytes`: the size of a new chunk (tests make it small, so every write meets a chunk's end somewhere). */
  constructor(private readonly chunkBytes = defaultChunkBytes) {
    this.chunk = Buffer.allocUnsafe(chunkBytes)
  }
  private chunk: Buffer
  private offset = 0
  private blockStart = -1
  private blockCount = 0
  private blockContent = 0
  private readonly random = new Uint8Array(4096)
  private randomOffset = this.random.length

  /** Starts a header block. */
  beginHeaders(): void {
    if (this.blockStart !== -1) throw new Error('RecordArena: a header block is already open')
    this.reserve(countReserve)
    this.blockStart = this.offset
    this.offset += countReserve
    this.blockCount = 0
    this.blockContent = 0
  }

  /**
   * A header whose name and value were encoded together by `encodeHeaderField` (the name's, then the value's,
   * length-prefixed bytes); `contentBytes` is the length of the name and value alone.
   */
  constantHeader(encodedPair: Uint8Array, contentBytes: number): void {
    this.reserve(encodedPair.length)
    this.offset = copyBytes(this.chunk, this.offset, encodedPair)
    this.blockCount++
    this.blockContent += contentBytes
  }

  /** A header with a name from `encodeHeaderField` and these value bytes. */
  bytesHeader(encodedName: Uint8Array, nameBytes: number, value: Uint8Array): void {
    this.reserve(encodedName.length + maxVarintBytes + value.length)
    this.offset = writeZigZagVarInt(this.chunk, copyBytes(this.chunk, this.offset, encodedName), value.length)
    this.offset = copyBytes(this.chunk, this.offset, value)
    this.blockCount++
    this.blockContent += nameBytes + value.length
  }

  /** A header with a name from `encodeHeaderField` and this text as its UTF-8 value. */
  textHeader(encodedName: Uint8Array, nameBytes: number, value: string): void {
    this.reserve(encodedName.length + maxVarintBytes + value.length * maxUtf8BytesPerCodeUnit)
    this.offset = copyBytes(this.chunk, this.offset, encodedName)
    const length = Buffer.byteLength(value, 'utf8')
    this.offset = writeZigZagVarInt(this.chunk, this.offset, length)
    this.offset += this.chunk.write(value, this.offset, length, 'utf8')
    this.blockCount++
    this.blockContent += nameBytes + length
  }

  /** A header whose value is a non-negative integer in decimal digits (a revision, a log position). */
  decimalHeader(encodedName: Uint8Array, nameBytes: number, value: bigint): void {
    if (value < 0n || value > maxSafeInteger) {
      this.textHeader(encodedName, nameBytes, value.toString())
      return
    }
    let number = Number(value)
    let digits = 1
    for (let rest = number; rest >= 10; rest = Math.floor(rest / 10)) digits++
    this.reserve(encodedName.length + 1 + digits)
    this.offset = copyBytes(this.chunk, this.offset, encodedName)
    this.chunk[this.offset++] = digits * 2 // the zigzag varint of 1..16 digits is one byte
    for (let index = digits - 1; index >= 0; index--) {
      this.chunk[this.offset + index] = 0x30 + (number % 10)
      number = Math.floor(number / 10)
    }
    this.offset += digits
    this.blockCount++
    this.blockContent += nameBytes + digits
  }

  /** A header whose value is a new random (version 4) UUID in its canonical 36-character form. */
  uuidHeader(encodedName: Uint8Array, nameBytes: number): void {
    if (this.randomOffset + 16 > this.random.length) {
      crypto.getRandomValues(this.random)
      this.randomOffset = 0
    }
    const random = this.random
    const first = this.randomOffset
    this.randomOffset += 16
    random[first + 6] = (random[first + 6]! & 0x0f) | 0x40 // version 4
    random[first + 8] = (random[first + 8]! & 0x3f) | 0x80 // RFC 4122 variant
    this.reserve(encodedName.length + 1 + 36)
    this.offset = copyBytes(this.chunk, this.offset, encodedName)
    this.chunk[this.offset++] = 36 * 2
    for (let index = 0; index < 16; index++) {
      if (index === 4 || index === 6 || index === 8 || index === 10) this.chunk[this.offset++] = 0x2d // '-'
      const byte = random[first + index]!
      this.chunk[this.offset++] = hexDigits[byte >> 4]!
      this.chunk[this.offset++] = hexDigits[byte & 0x0f]!
    }
    this.blockCount++
    this.blockContent += nameBytes + 36
  }

  /** Ends the open header block. */
  finishHeaders(): EncodedHeaders {
    if (this.blockStart === -1) throw new Error('RecordArena: no header block is open')
    const countBytes = zigZagVarIntSize(this.blockCount)
    if (countBytes > countReserve) {
      // More headers than one count byte can say: make room for the longer count.
      const extra = countBytes - countReserve
      this.reserve(extra)
      this.chunk.copyWithin(this.blockStart + countBytes, this.blockStart + countReserve, this.offset)
      this.offset += extra
    }
    const start = this.blockStart
    this.blockStart = -1
    writeZigZagVarInt(this.chunk, start, this.blockCount)
    return new EncodedHeaders(this.chunk.subarray(start, this.offset), this.blockCount, this.blockContent)
  }

  /** A copy of `bytes` in the arena (a record's value, copied once out of the network buffer it was read from). */
  copy(bytes: Uint8Array): Buffer {
    if (this.blockStart !== -1) throw new Error('RecordArena: copy while a header block is open')
    this.reserve(bytes.length)
    const start = this.offset
    this.offset = copyBytes(this.chunk, start, bytes)
    return this.chunk.subarray(start, this.offset)
  }

  /** Makes room for `bytes` more at the end: a new chunk when the current one is full, the open block moved to it. */
  private reserve(bytes: number): void {
    if (this.offset + bytes <= this.chunk.length) return
    const keptFrom = this.blockStart === -1 ? this.offset : this.blockStart
    const kept = this.offset - keptFrom
    // The old chunk stays alive through the records already written into it; only the open block moves.
    const next = Buffer.allocUnsafe(Math.max(this.chunkBytes, kept + bytes))
    if (kept > 0) this.chunk.copy(next, 0, keptFrom, this.offset)
    this.chunk = next
    this.offset = kept
    if (this.blockStart !== -1) this.blockStart = 0
  }
}

// A constant, not `BigInt(Number.MAX_SAFE_INTEGER)` per call: that allocates a BigInt each time, twice per record.
const maxSafeInteger = BigInt(Number.MAX_SAFE_INTEGER)
const hexDigits = Uint8Array.from('0123456789abcdef', (character) => character.charCodeAt(0))

