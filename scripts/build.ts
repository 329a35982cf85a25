/**
 * Builds the single executable `dist/kafka-sink` with `bun build --compile` (the dependency fixes every build needs
 * are in build-plugins.ts).
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { bundlePlugins, megabytes, projectRoot } from './build-plugins.ts'

const outfile = join(projectRoot, 'dist', 'kafka-sink')

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
  plugins: [...bundlePlugins],
  // Never bundle the Node-only librdkafka engine's client: Bun cannot load it.
  external: ['@confluentinc/kafka-javascript'],
})
if (!result.success) {
  for (const log of result.logs) console.error(log)
  process.exit(1)
}
const size = Bun.file(outfile).size
console.log(`built ${outfile} (${megabytes(size)}) in ${((performance.now() - started) / 1000).toFixed(1)} s`)
