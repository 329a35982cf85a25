/**
 * Chaos: the model of test/e2e/sink-model.test.ts with random seeds, more faults and longer command sequences, for a
 * given time. Prints a line per run, fast-check's report (shrunk command sequence, seed, replay path) on a failure,
 * and ends with one summary line; exits 1 on any violation.
 *
 *   scripts/chaos --duration 300 [--seed 42] [--path "3:1" --replay-path "AAB"]
 */
import { parseArgs } from 'node:util'
import { runSinkModel } from '../test/e2e/model/run.ts'
import { startModelSystem } from '../test/e2e/model/system.ts'

const { values } = parseArgs({
  options: {
    duration: { type: 'string' },
    seed: { type: 'string' },
    path: { type: 'string' },
    'replay-path': { type: 'string' },
    'max-commands': { type: 'string' },
  },
  strict: true,
})

function integer(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback
  if (!/^-?\d+$/.test(text)) {
    console.error(`chaos: --${name} must be an integer, got ${JSON.stringify(text)}`)
    process.exit(2)
  }
  return Number(text)
}

const durationSeconds = integer('duration', values.duration, 300)
const seed = integer('seed', values.seed, Math.floor(Math.random() * 2 ** 31))
const maxCommands = integer('max-commands', values['max-commands'], 25)
console.log(`chaos: seed=${seed} duration=${durationSeconds}s max_commands=${maxCommands}`)

const system = await startModelSystem()
// Interrupted: stop the sink, the emulator and the brokers rather than leave them behind.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.log(`chaos: interrupted by ${signal}`)
    void system.close().finally(() => process.exit(130))
  })
}
let exitCode = 1
try {
  const result = await runSinkModel(system, {
    seed,
    durationMs: durationSeconds * 1000,
    numRuns: 1_000,
    maxCommands,
    weights: { fault: 3 },
    maxShrinks: 40,
    shrinkBudgetMs: 300_000,
    ...(values.path ? { path: values.path } : {}),
    ...(values['replay-path'] ? { replayPath: values['replay-path'] } : {}),
    log: (line) => console.log(`chaos: ${line}`),
  })
  if (result.report !== undefined) {
    console.log(result.report)
    console.log(`chaos: replay with scripts/chaos --seed ${seed} --path <path above> --replay-path <replayPath above> --max-commands ${maxCommands}`)
  }
  const { due, delivered, lost, duplicates } = result.figures
  console.log(`chaos: written=${due} delivered=${delivered} lost=${lost} duplicates=${duplicates} faults=${result.faults} max_rss_mb=${system.maxRssMb()} seed=${seed}`)
  exitCode = result.ok ? 0 : 1
} finally {
  await system.close()
}
process.exit(exitCode)
