// What each compression type becomes in the @platformatic/kafka engine, checked by decompressing with Node's zlib
// (an independent implementation of gzip and zstd), and the levels as Kafka's codecs define them.
import { describe, expect, test } from 'bun:test'
import { compressionsAlgorithms } from '@platformatic/kafka'
import zlib from 'node:zlib'
import { chooseCompression } from '../../../../src/sink/kafka/platformatic-compression.ts'

type Entry = { compress?(data: Buffer): Promise<Buffer>; compressSync(data: Buffer): Buffer; decompressSync(data: Buffer): Buffer; bitmask: number; available: boolean }
const registry = compressionsAlgorithms as unknown as Record<string, Entry | undefined>
const sample = Buffer.from(JSON.stringify(Array.from({ length: 200 }, (_, index) => ({ index, text: 'lorem ipsum dolor sit amet' }))))

describe('chooseCompression', () => {
  test('snappy and none have no levels; lz4 warns that its level is fixed unless the default is asked for', () => {
    expect(chooseCompression('snappy', 6)).toEqual({ codec: 'snappy', warning: undefined })
    expect(chooseCompression('none', 6)).toEqual({ codec: 'none', warning: undefined })
    expect(chooseCompression('lz4', -1)).toEqual({ codec: 'lz4', warning: undefined })
    expect(chooseCompression('lz4', 6)).toEqual({ codec: 'lz4', warning: 'compression level 6 is not supported for lz4 by the @platformatic/kafka engine (its lz4 codec has a fixed level)' })
  })

  // zstd's manual: ZSTD_CLEVEL_DEFAULT is 3, the level its library (and node:zlib) uses when none is given.
  test("the default level (-1): gzip's built-in codec as it is, zstd at zstd's default level 3", () => {
    expect(chooseCompression('gzip', -1)).toEqual({ codec: 'gzip', warning: undefined })
    expect(chooseCompression('zstd', -1)).toEqual(chooseCompression('zstd', 3))
    expect(chooseCompression('zstd', -1).warning).toBeUndefined()
  })

  for (const [type, decompress, bitmask] of [
    ['gzip', zlib.gunzipSync, 1],
    ['zstd', zlib.zstdDecompressSync, 4],
  ] as const) {
    test(`${type} at a level: both the sync and the async compressor produce what zlib decompresses, with ${type}'s bitmask`, async () => {
      const entry = registry[chooseCompression(type, 5).codec]!
      expect(entry.bitmask).toBe(bitmask)
      expect(entry.available).toBe(true)
      expect(decompress(entry.compressSync(sample)).equals(sample)).toBe(true)
      expect(decompress(await entry.compress!(sample)).equals(sample)).toBe(true)
      expect(entry.decompressSync(entry.compressSync(sample)).equals(sample)).toBe(true)
      // The level is applied: the fastest and strongest levels give different bytes.
      const fast = registry[chooseCompression(type, type === 'gzip' ? 1 : 1).codec]!.compressSync(sample)
      const strong = registry[chooseCompression(type, type === 'gzip' ? 9 : 19).codec]!.compressSync(sample)
      expect(fast.equals(strong)).toBe(false)
    })
  }

  test('gzip at level 0 stores without compressing: the level reaches zlib', () => {
    const stored = registry[chooseCompression('gzip', 0).codec]!.compressSync(sample)
    expect(stored.length).toBeGreaterThan(sample.length)
    expect(zlib.gunzipSync(stored).equals(sample)).toBe(true)
  })

  // Batches of 64 KiB and more are compressed on zlib's thread pool: the level must reach that path too.
  test('a large batch compressed asynchronously gets the level it asked for', async () => {
    const large = Buffer.from(Array.from({ length: 3_000 }, (_, index) => `{"seq":${index},"text":"lorem ipsum"}`).join(''))
    expect(large.length).toBeGreaterThan(64 * 1024)
    for (const [type, decompress, fastest, strongest] of [
      ['gzip', zlib.gunzipSync, 1, 9],
      ['zstd', zlib.zstdDecompressSync, 1, 3],
    ] as const) {
      const fast = registry[chooseCompression(type, fastest).codec]!
      const strong = registry[chooseCompression(type, strongest).codec]!
      const fastBytes = await fast.compress!(large)
      const strongBytes = await strong.compress!(large)
      expect(decompress(fastBytes).equals(large)).toBe(true)
      expect(decompress(strongBytes).equals(large)).toBe(true)
      expect(strongBytes.equals(fastBytes)).toBe(false)
    }
    // gzip level 0 stores: asynchronously too, the output is larger than the input.
    const stored = await registry[chooseCompression('gzip', 0).codec]!.compress!(large)
    expect(stored.length).toBeGreaterThan(large.length)
    expect(zlib.gunzipSync(stored).equals(large)).toBe(true)
  })

  // Node before 22.15 has no zstd in node:zlib: the choice says why, so the port refuses instead of hanging sends.
  test('zstd on a runtime without node:zlib zstd is unavailable, with the reason and what to choose instead', () => {
    const choice = chooseCompression('zstd', 4, { zstd: undefined })
    expect(choice.codec).toBe('zstd')
    expect(choice.warning).toBeUndefined()
    expect(choice.unavailable).toContain("compression:type=zstd needs node:zlib's zstd (Node 22.15 or later)")
    expect(choice.unavailable).toContain('choose another compression:type, or the librdkafka engine (--kafka-engine librdkafka)')
    expect(chooseCompression('zstd', 4).unavailable).toBeUndefined()
  })

  test('asking for the same level twice gives the same codec entry', () => {
    const first = chooseCompression('zstd', 7).codec
    const entry = registry[first]
    expect(chooseCompression('zstd', 7).codec).toBe(first)
    expect(registry[first]).toBe(entry)
  })
})
