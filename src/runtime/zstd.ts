/**
 * zstd compression as each runtime offers it most cheaply. Bun's own `zstdCompressSync` is a single native call; its
 * node:zlib twin builds a stream object (a Duplex, its states and a 16 KiB output buffer) for every call, which
 * measured as the largest single cost of sending a small batch (see bench/README.md). Node (22.15 on) and Deno have
 * only node:zlib's.
 */
import zlib from 'node:zlib'

export interface ZstdCompressor {
  readonly compressSync: (data: Buffer, level: number) => Buffer
  /** Off the event loop, on the runtime's thread pool. */
  readonly compress: (data: Buffer, level: number) => Promise<Buffer>
}

interface BunZstd {
  readonly zstdCompressSync?: (data: Buffer, options: { level: number }) => Buffer
  readonly zstdCompress?: (data: Buffer, options: { level: number }) => Promise<Buffer>
}

/** undefined when this runtime has no zstd at all (Node before 22.15). */
export function zstdCompressor(): ZstdCompressor | undefined {
  const bun = (globalThis as { readonly Bun?: BunZstd }).Bun
  if (bun?.zstdCompressSync !== undefined && bun.zstdCompress !== undefined) {
    const { zstdCompressSync, zstdCompress } = bun
    return {
      compressSync: (data, level) => zstdCompressSync(data, { level }),
      compress: (data, level) => zstdCompress(data, { level }),
    }
  }
  if (typeof zlib.zstdCompressSync !== 'function') return undefined
  const options = (level: number) => ({ params: { [zlib.constants.ZSTD_c_compressionLevel]: level } })
  return {
    compressSync: (data, level) => zlib.zstdCompressSync(data, options(level)),
    compress: (data, level) =>
      new Promise((resolve, reject) => zlib.zstdCompress(data, options(level), (error, result) => (error ? reject(error) : resolve(result)))),
  }
}
