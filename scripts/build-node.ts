/**
 * Bundles the sources for Node 20+ into `dist/node/kafka-sink.mjs` (plus the KurrentDB bridge's native module next
 * to it), so `node dist/node/kafka-sink.mjs serve …` runs the whole product without node_modules. The librdkafka
 * engine's client stays outside the bundle: it is a native addon built for the machine (scripts/bootstrap), loaded
 * from a node_modules folder beside or above the bundle when `--kafka-engine librdkafka` asks for it.
 */
import { mkdir, readdir, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { bundlePlugins, megabytes, projectRoot } from './build-plugins.ts'

const outdir = join(projectRoot, 'dist', 'node')

await rm(outdir, { recursive: true, force: true })
await mkdir(outdir, { recursive: true })
const started = performance.now()
const result = await Bun.build({
  entrypoints: [join(projectRoot, 'src', 'main.ts')],
  outdir,
  naming: { entry: 'kafka-sink.mjs', asset: '[name]-[hash].[ext]' },
  target: 'node',
  format: 'esm',
  minify: { syntax: true, whitespace: true },
  sourcemap: 'none',
  plugins: [...bundlePlugins],
  external: ['@confluentinc/kafka-javascript'],
})
if (!result.success) {
  for (const log of result.logs) console.error(log)
  process.exit(1)
}
let size = 0
for (const file of await readdir(outdir)) size += (await stat(join(outdir, file))).size
console.log(`built ${join(outdir, 'kafka-sink.mjs')} (${megabytes(size)} with its native module) in ${((performance.now() - started) / 1000).toFixed(1)} s`)
