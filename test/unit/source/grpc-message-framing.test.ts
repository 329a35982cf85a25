/**
 * The @grpc/grpc-js patch (scripts/patches) hands a length-prefixed message that lies whole in one received chunk on
 * as a view of the chunk instead of a copy. The judge is gRPC's framing over HTTP/2 (a 1-byte compressed flag, a
 * 4-byte big-endian length, the message): whatever way a stream of framed messages is cut into chunks, the decoder
 * must give back exactly those framed messages, in order, and refuse one above its size limit.
 */
import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { StreamDecoder } from '@grpc/grpc-js/build/src/stream-decoder.js'

function framed(body: Uint8Array, compressed = false): Buffer {
  const frame = Buffer.alloc(5 + body.length)
  frame[0] = compressed ? 1 : 0
  frame.writeUInt32BE(body.length, 1)
  frame.set(body, 5)
  return frame
}

/** Cuts `stream` into copies of these lengths, cycling through them (copies: a chunk owns its bytes, as on the wire). */
function cut(stream: Buffer, lengths: readonly number[]): Buffer[] {
  const chunks: Buffer[] = []
  for (let offset = 0, index = 0; offset < stream.length; index++) {
    const length = Math.min(stream.length - offset, lengths[index % lengths.length]!)
    chunks.push(Buffer.from(stream.subarray(offset, offset + length)))
    offset += length
  }
  return chunks
}

// Sizes around the edges: empty, inside and at the 5-byte prefix, a typical event, an HTTP/2 frame's payload, larger.
const messageSize = fc.oneof(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 690, max: 710 }), fc.integer({ min: 16_370, max: 16_390 }), fc.integer({ min: 40_000, max: 40_002 }))
const message = fc.tuple(messageSize, fc.integer({ min: 0, max: 255 }), fc.boolean()).map(([size, fill, compressed]) => framed(Buffer.alloc(size, fill), compressed))
// Cut points of every kind: inside a prefix, at a boundary, inside a body, single bytes.
const chunkLength = fc.oneof(fc.integer({ min: 1, max: 6 }), fc.constantFrom(64, 16_384, 100_000))

describe('gRPC message framing on the read side', () => {
  test('any cut of a stream into chunks gives back the framed messages exactly, in order', () => {
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 12 }), fc.array(chunkLength, { minLength: 1, maxLength: 8 }), (messages, lengths) => {
        const decoder = new StreamDecoder(-1)
        const decoded = cut(Buffer.concat(messages), lengths).flatMap((chunk) => decoder.write(chunk))
        expect(decoded.length).toBe(messages.length)
        decoded.forEach((decodedMessage, index) => expect(Buffer.compare(decodedMessage, messages[index]!)).toBe(0))
      }),
      { numRuns: 200 },
    )
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
