/**
 * The @grpc/grpc-js patch (scripts/patches) hands a length-prefixed message that lies whole in one received chunk on
 * as a view of the chunk instead of a copy. The judge is gRPC's framing over HTTP/2 (a 1-byte compressed flag, a
 * 4-byte big-endian length, the message): whatever way a stream of framed messages is cut into chunks, the decoder
 * must give back exactly those framed messages, in order, and refuse one above its size limit.
 */
import { describe, expect, test } from 'bun:test'
import { StreamDecoder } from '@grpc/grpc-js/build/src/stream-decoder.js'

/** A deterministic generator, so a failure can be replayed from its seed. */
function random(seed: number) {
  let state = seed >>> 0
  return (below: number) => {
    state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0
    return state % below
  }
}

function framed(body: Uint8Array, compressed = false): Buffer {
  const frame = Buffer.alloc(5 + body.length)
  frame[0] = compressed ? 1 : 0
  frame.writeUInt32BE(body.length, 1)
  frame.set(body, 5)
  return frame
}

function decodeAll(decoder: StreamDecoder, chunks: readonly Buffer[]): Buffer[] {
  return chunks.flatMap((chunk) => decoder.write(chunk))
}

describe('gRPC message framing on the read side', () => {
  test('any cut of a stream into chunks gives back the framed messages exactly, in order', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const next = random(seed)
      const sizes = Array.from({ length: 1 + next(12) }, () => [0, 1, 4, 5, 700, 16_379, 40_000][next(7)]! + next(3))
      const messages = sizes.map((size, index) => framed(Buffer.alloc(size, (seed + index) % 251), next(2) === 1))
      const stream = Buffer.concat(messages)
      // Cut points of every kind: inside a prefix, at a boundary, inside a body, single bytes.
      const chunks: Buffer[] = []
      for (let offset = 0; offset < stream.length; ) {
        const length = Math.min(stream.length - offset, [1, 2, 3, 5, 6, 64, 16_384, 100_000][next(8)]!)
        chunks.push(Buffer.from(stream.subarray(offset, offset + length)))
        offset += length
      }
      const decoded = decodeAll(new StreamDecoder(-1), chunks)
      expect(decoded.length, `seed ${seed}`).toBe(messages.length)
      decoded.forEach((message, index) => expect(Buffer.compare(message, messages[index]!), `seed ${seed}, message ${index}`).toBe(0))
    }
  })

  test('several messages in one chunk, and a message split across chunks after them', () => {
    const first = framed(Buffer.from('first'))
    const second = framed(Buffer.from('second'))
    const third = framed(Buffer.alloc(1_000, 7))
    const chunk = Buffer.concat([first, second, third.subarray(0, 3)])
    const decoder = new StreamDecoder(-1)
    expect(decoder.write(chunk).map((message) => message.toString('latin1'))).toEqual([first.toString('latin1'), second.toString('latin1')])
    expect(decoder.write(Buffer.from(third.subarray(3)))).toEqual([third])
  })

  test('a message whole in its chunk is not copied', () => {
    const chunk = Buffer.concat([framed(Buffer.from('a')), framed(Buffer.alloc(300, 2))])
    const [first, second] = new StreamDecoder(-1).write(chunk)
    expect(first!.buffer).toBe(chunk.buffer)
    expect(second!.buffer).toBe(chunk.buffer)
    expect(second!.byteOffset).toBe(chunk.byteOffset + first!.length)
  })

  test('a message above the size limit is refused, whole in its chunk or not', () => {
    const tooLarge = framed(Buffer.alloc(101))
    expect(() => new StreamDecoder(100).write(tooLarge)).toThrow('Received message larger than max (101 vs 100)')
    const decoder = new StreamDecoder(100)
    decoder.write(tooLarge.subarray(0, 2))
    expect(() => decoder.write(tooLarge.subarray(2))).toThrow('Received message larger than max (101 vs 100)')
    expect(new StreamDecoder(100).write(framed(Buffer.alloc(100)))).toHaveLength(1)
  })
})
