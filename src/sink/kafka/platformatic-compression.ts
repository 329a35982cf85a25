/**
 * Compression levels for the platformatic engine. @platformatic/kafka compresses with fixed settings
 * (protocol/compression.js: `gzipSync(data)`, `zstdCompressSync(data)`, i.e. zlib's and zstd's defaults) and
 * has no level option. Its records writer looks codecs up by name in the exported `compressionsAlgorithms`
 * table (protocol/records.js), so we add one entry per (codec, level) under a name of our own, with the
 * codec's standard bitmask: the batch on the wire is ordinary gzip/zstd, readable by every consumer. The
 * client's own entries are left untouched.
 */
import { compressionsAlgorithms } from '@platformatic/kafka'
import zlib from 'node:zlib'
import { runtimeDescription } from '../../runtime/runtime.ts'
import { type ZstdCompressor, zstdCompressor } from '../../runtime/zstd.ts'
import type { CompressionType } from './port.ts'

/**
 * The codec name handed to the client: one of its own, or one we registered. `unavailable` says why this runtime
 * cannot compress with the codec at all: the port then refuses to connect instead of failing every batch.
 */
export type CompressionChoice = { readonly codec: string; readonly warning: string | undefined; readonly unavailable?: string }

/** librdkafka's convention, which the sink's settings follow: -1 means the codec's default level. */
const codecDefaultLevel = -1

/**
 * Below this size a batch is compressed on the event loop: handing it to the thread pool costs more than compressing
 * it (measured with zstd level 6: ~280 µs of CPU per asynchronous call for a 10-record batch, ~20 µs synchronously).
 * Large batches still go to the thread pool, where compressing them does not hold up the event loop.
 */
const asyncCompressionMinBytes = 64 * 1024

const gzipBitmask = 1
const zstdBitmask = 4
const gzipLevels = { min: 0, max: 9 }
const zstdLevels = { min: 1, max: 22 }
/** ZSTD_CLEVEL_DEFAULT, what node:zlib and Bun use without a level. */
const zstdDefaultLevel = 3

interface CompressionEntry {
  /** Used by the client's asynchronous request path (see the patch note in README): runs on zlib's thread pool. */
  compress?(data: Buffer): Promise<Buffer>
  compressSync(data: Buffer): Buffer
  decompressSync(data: Buffer): Buffer
  bitmask: number
  available: boolean
}

// The table is typed as a closed object literal; adding a key is the extension point described above.
const registry = compressionsAlgorithms as unknown as Record<string, CompressionEntry | undefined>

/** What the runtime offers, given by tests that play a runtime without zstd. */
export interface AvailableCodecs {
  readonly zstd: ZstdCompressor | undefined
}

export function chooseCompression(type: CompressionType, level: number, available: AvailableCodecs = { zstd: zstdCompressor() }): CompressionChoice {
  switch (type) {
    case 'none':
      return { codec: 'none', warning: undefined }
    case 'snappy':
      // Snappy has no levels in Kafka's protocol nor in any client (librdkafka: "only 0 for snappy").
      return { codec: 'snappy', warning: undefined }
    case 'lz4':
      return {
        codec: 'lz4',
        warning:
          level === codecDefaultLevel
            ? undefined
            : `compression level ${level} is not supported for lz4 by the @platformatic/kafka engine ` +
              '(its lz4 codec has a fixed level)',
      }
    case 'gzip':
      return leveled('gzip', level, gzipLevels, gzipBitmask, {
        sync: (data, clamped) => zlib.gzipSync(data, { level: clamped }),
        async: (data, clamped) => promisified(zlib.gzip, data, { level: clamped }),
      })
    case 'zstd': {
      // Without a zstd codec the client's async compressor throws inside a request builder whose rejection it never
      // observes, so the send would hang, not fail: the port refuses to connect instead.
      const zstd = available.zstd
      if (zstd === undefined) {
        return {
          codec: 'zstd',
          warning: undefined,
          unavailable:
            `compression:type=zstd needs node:zlib's zstd (Node 22.15 or later), which ${runtimeDescription()} does not have; ` +
            'choose another compression:type, or the librdkafka engine (--kafka-engine librdkafka)',
        }
      }
      // The default level through our codec too (zstd's default is 3, as the client's own codec uses): it is the
      // cheaper path (runtime/zstd.ts).
      const chosen = level === codecDefaultLevel ? zstdDefaultLevel : level
      return leveled('zstd', chosen, zstdLevels, zstdBitmask, { sync: zstd.compressSync, async: zstd.compress })
    }
  }
}

interface Compressors {
  readonly sync: (data: Buffer, level: number) => Buffer
  /** Compressing off the event loop: measured as the largest single cost of producing with zstd level 6. */
  readonly async: (data: Buffer, level: number) => Promise<Buffer>
}

function promisified<Options>(compress: (data: Buffer, options: Options, callback: (error: Error | null, result: Buffer) => void) => void, data: Buffer, options: Options): Promise<Buffer> {
  return new Promise((resolve, reject) => compress(data, options, (error, result) => (error ? reject(error) : resolve(result))))
}

function leveled(codec: 'gzip' | 'zstd', level: number, range: { min: number; max: number }, bitmask: number, compressors: Compressors): CompressionChoice {
  if (level === codecDefaultLevel) return { codec, warning: undefined }
  const clamped = Math.min(range.max, Math.max(range.min, Math.trunc(level)))
  const warning =
    clamped === level
      ? undefined
      : `compression level ${level} is outside ${codec}'s ${range.min}..${range.max}; using ${clamped}`
  const name = `kafka-sink-${codec}-${clamped}`
  if (registry[name] === undefined) {
    const builtIn = registry[codec]
    if (builtIn === undefined) throw new Error(`@platformatic/kafka has no ${codec} codec`)
    registry[name] = {
      compress: (data) => {
        const bytes = toBuffer(data)
        // A failure of the synchronous path still arrives as a rejection, as the asynchronous one's does.
        return bytes.length < asyncCompressionMinBytes ? new Promise((resolve) => resolve(compressors.sync(bytes, clamped))) : compressors.async(bytes, clamped)
      },
      compressSync: (data) => compressors.sync(toBuffer(data), clamped),
      decompressSync: (data) => builtIn.decompressSync(data),
      bitmask,
      available: builtIn.available,
    }
  }
  return { codec: name, warning }
}

/** The writer passes a Buffer (records.js: `compressSync(prepared.buffer.buffer)`); a DynamicBuffer has `.buffer`. */
function toBuffer(data: Buffer | { readonly buffer: Buffer }): Buffer {
  return Buffer.isBuffer(data) ? data : data.buffer
}
