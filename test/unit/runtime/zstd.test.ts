import { describe, expect, test } from 'bun:test'
import zlib from 'node:zlib'
import { zstdCompressor } from '../../../src/runtime/zstd.ts'

// Any zstd decoder must read what the compressor writes (RFC 8878 frames); node:zlib's is an independent one here.
describe('zstdCompressor', () => {
  const compressor = zstdCompressor()
  const text = Buffer.from(Array.from({ length: 2_000 }, (_, index) => `event-${index % 37} stream-${index % 11};`).join(''))

  test('this runtime has zstd', () => {
    expect(compressor).toBeDefined()
  })

  test('sync and async output is a zstd frame of the input, smaller at a higher level', async () => {
    const fast = compressor!.compressSync(text, 1)
    const strong = compressor!.compressSync(text, 19)
    const asynchronous = await compressor!.compress(text, 19)
    for (const frame of [fast, strong, asynchronous]) {
      expect(frame.readUInt32LE(0)).toBe(0xfd2fb528) // the frame's magic number (RFC 8878, 3.1.1)
      expect(zlib.zstdDecompressSync(frame).equals(text)).toBe(true)
    }
    expect(strong.length).toBeLessThan(fast.length)
  })

  test('an empty batch compresses to a frame of nothing', () => {
    expect(zlib.zstdDecompressSync(compressor!.compressSync(Buffer.alloc(0), 6)).length).toBe(0)
  })
})
