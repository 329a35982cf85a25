/**
 * Builds `dist/kafka-sink-deno` with `deno compile`: the Node bundle (build-node.ts, the same sources and fixes)
 * plus the KurrentDB bridge's native module, embedded in Deno's runtime. Compiling the bundle rather than
 * src/main.ts keeps node_modules (≈300 MB, dev tools included) out of the executable.
 *
 * `deno compile` writes the program into `denort`, Deno's runtime without its CLI, which it downloads on first use
 * and which no package registry ships; where that download cannot be reached, set DENORT_BIN to a denort binary of
 * the same Deno version (the `deno` CLI itself does not work as one: it ignores the embedded program).
 */
import { spawnSync } from 'node:child_process'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { megabytes, projectRoot } from './build-plugins.ts'

const outfile = join(projectRoot, 'dist', 'kafka-sink-deno')
const bundleDir = join(projectRoot, 'dist', 'node')
const deno = join(projectRoot, '.tools', 'node_modules', '.bin', 'deno')

const bundled = spawnSync(process.execPath, [join(projectRoot, 'scripts', 'build-node.ts')], { stdio: 'inherit' })
if (bundled.status !== 0) process.exit(1)

const nativeModules = (await readdir(bundleDir)).filter((file) => file.endsWith('.node'))
const started = performance.now()
const compiled = spawnSync(
  deno,
  [
    'compile',
    '--allow-all',
    // tsc checks the sources (scripts/test); the bundle is JavaScript.
    '--no-check',
    '--no-config',
    ...nativeModules.flatMap((file) => ['--include', join(bundleDir, file)]),
    '--output',
    outfile,
    join(bundleDir, 'kafka-sink.mjs'),
  ],
  { encoding: 'utf8', env: process.env },
)
if (compiled.status !== 0) {
  const output = `${compiled.stdout}${compiled.stderr}`
  const denortMissing = /denort/.test(output) && /error sending request|dns error|Connect/i.test(output)
  console.error(
    denortMissing
      ? 'deno compile cannot download denort (the runtime it embeds the program in) from here; set DENORT_BIN to a denort binary of the same Deno version'
      : output.trim(),
  )
  process.exit(1)
}
console.log(`built ${outfile} (${megabytes((await stat(outfile)).size)}) in ${((performance.now() - started) / 1000).toFixed(1)} s`)
