/**
 * What every build of kafka-sink (the Bun binary, the Node bundle, the Deno binary) must change in two dependencies
 * that read files next to themselves at run time, which a bundle or compiled binary does not have:
 * - `@kurrent/bridge` picks its native module with `require()`s for every platform (and a debug `../index.node`);
 *   bundling fails on the missing ones, so the loader is replaced by a require of this platform's package only.
 * - `@platformatic/wasm-utils` reads `dist/native.wasm` from disk at import time (ENOENT inside the binary);
 *   its `dist/bundled.js` carries the same wasm inlined, so imports are resolved to that file.
 * And one that is about memory, not correctness:
 * - `@platformatic/kafka`'s entry re-exports every part of the client (admin, consumer, the schema registries with
 *   their Avro and JSON-schema libraries), and a bundle keeps and evaluates them all since the package does not
 *   declare itself free of side effects. The sink only produces, so in a build the entry re-exports only the parts
 *   it uses: ~6 MB less private memory at rest with a connector running (bench/README.md). A name the sink starts
 *   importing from another part fails the build with a missing export, not at run time.
 */
import { join } from 'node:path'
import type { BunPlugin } from 'bun'

export const projectRoot = join(import.meta.dir, '..')

export function bridgePlatformPackage(): string {
  const libc = process.platform === 'linux' && isMusl() ? 'musl' : 'gnu'
  const suffix = process.platform === 'linux' ? `linux-${process.arch}-${libc}` : process.platform === 'win32' ? `win32-${process.arch}-msvc` : `${process.platform}-${process.arch}`
  return `@kurrent/bridge-${suffix}`
}

function isMusl(): boolean {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined
  return report?.header?.glibcVersionRuntime === undefined
}

const pinKurrentBridge: BunPlugin = {
  name: 'pin-kurrent-bridge',
  setup(build) {
    build.onLoad({ filter: /@kurrent[\\/]bridge[\\/]lib[\\/]load\.js$/ }, () => ({
      contents: `module.exports = require(${JSON.stringify(bridgePlatformPackage())})`,
      loader: 'js',
    }))
  },
}

const inlineWasmUtils: BunPlugin = {
  name: 'inline-wasm-utils',
  setup(build) {
    build.onResolve({ filter: /^@platformatic\/wasm-utils$/ }, () => ({
      path: join(projectRoot, 'node_modules', '@platformatic', 'wasm-utils', 'dist', 'bundled.js'),
    }))
  },
}

/** The parts of the client's entry the sink imports from: errors, the protocol (records, codecs), the producer. */
const kafkaClientPartsUsed = ['./errors.js', './protocol/index.js', './apis/enumerations.js', './clients/producer/index.js']

const producerOnlyKafkaClient: BunPlugin = {
  name: 'producer-only-kafka-client',
  setup(build) {
    build.onLoad({ filter: /@platformatic[\\/]kafka[\\/]dist[\\/]index\.js$/ }, () => ({
      contents: kafkaClientPartsUsed.map((module) => `export * from ${JSON.stringify(module)}`).join('\n'),
      loader: 'js',
    }))
  },
}

export const bundlePlugins: readonly BunPlugin[] = [pinKurrentBridge, inlineWasmUtils, producerOnlyKafkaClient]

/** Megabytes with one decimal, for the build's closing line. */
export function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}
