/**
 * Builds the single executable `dist/kafka-sink` with `bun build --compile`.
 *
 * Two dependencies read files next to themselves at run time, which a compiled binary does not have:
 * - `@kurrent/bridge` picks its native module with `require()`s for every platform (and a debug `../index.node`);
 *   bundling fails on the missing ones, so the loader is replaced by a require of this platform's package only.
 * - `@platformatic/wasm-utils` reads `dist/native.wasm` from disk at import time (ENOENT inside the binary);
 *   its `dist/bundled.js` carries the same wasm inlined, so imports are resolved to that file.
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { BunPlugin } from 'bun'

const projectRoot = join(import.meta.dir, '..')
const outfile = join(projectRoot, 'dist', 'kafka-sink')

function bridgePlatformPackage(): string {
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

await mkdir(join(projectRoot, 'dist'), { recursive: true })
const started = performance.now()
const result = await Bun.build({
  entrypoints: [join(projectRoot, 'src', 'main.ts')],
  compile: { outfile },
  minify: { syntax: true, whitespace: true },
  sourcemap: 'none',
  // Precompiled bytecode: parsing the bundled clients was most of the start-up time (measured ~0.7 s → see bench).
  bytecode: true,
  format: 'cjs',
  plugins: [pinKurrentBridge, inlineWasmUtils],
  // Never bundle the Node-only librdkafka engine's client: Bun cannot load it.
  external: ['@confluentinc/kafka-javascript'],
})
if (!result.success) {
  for (const log of result.logs) console.error(log)
  process.exit(1)
}
const size = Bun.file(outfile).size
console.log(`built ${outfile} (${(size / 1024 / 1024).toFixed(1)} MB) in ${((performance.now() - started) / 1000).toFixed(1)} s`)
