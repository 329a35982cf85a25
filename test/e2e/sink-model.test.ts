/**
 * The model-based test: fast-check generates connector variants and sequences of management calls, appends and
 * faults, runs them against the compiled sink and the rig, and checks Kafka (with kcat) against a model written
 * from the documentation (test/e2e/model/model.ts). A fixed seed keeps the suite reproducible; scripts/chaos runs the
 * same model with random seeds, more faults and a time budget.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { runSinkModel } from './model/run.ts'
import { startModelSystem, type ModelSystem } from './model/system.ts'

const seed = 20261201
let system: ModelSystem

beforeAll(async () => {
  system = await startModelSystem()
})
afterAll(async () => {
  await system?.close()
})

test('what reaches Kafka matches the model through API calls, restarts and faults (fixed seed)', async () => {
  const result = await runSinkModel(system, {
    seed,
    numRuns: 4,
    maxCommands: 14,
    durationMs: 150_000,
    weights: { fault: 1 },
    maxShrinks: 8,
    shrinkBudgetMs: 60_000,
    log: (line) => console.log(`[model] ${line}`),
  })
  if (!result.ok) throw new Error(result.report)
  expect(result.runs).toBeGreaterThan(0)
  expect(result.figures.due).toBeGreaterThan(0)
  expect(result.figures.lost).toBe(0)
}, 240_000)
