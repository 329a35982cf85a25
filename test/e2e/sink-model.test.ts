/**
 * The model-based test: fast-check generates connector variants and sequences of management calls, appends and
 * faults, runs them against the compiled sink and the rig, and checks Kafka (with kcat) against a model written
 * from the documentation (test/e2e/model/model.ts). A fixed seed keeps the suite reproducible; scripts/chaos runs the
 * same model with random seeds, more faults and a time budget.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import {
  ActivateCommand,
  AppendCommand,
  CheckCommand,
  KurrentDbDownCommand,
  RecreateCommand,
  RestartSinkCommand,
  StopCommand,
} from './model/commands.ts'
import type { ConnectorVariant } from './model/model.ts'
import { runSinkModel, runSinkSequence } from './model/run.ts'
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
    numRuns: 12,
    maxCommands: 20,
    durationMs: 120_000,
    weights: { fault: 1 },
    maxShrinks: 8,
    shrinkBudgetMs: 45_000,
    log: (line) => console.log(`[model] ${line}`),
  })
  if (!result.ok) throw new Error(result.report)
  expect(result.runs).toBeGreaterThan(0)
  expect(result.figures.due).toBeGreaterThan(0)
  expect(result.figures.lost).toBe(0)
}, 240_000)

describe('sequences measured before, through the same model', () => {
  const variant = (changes: Partial<ConnectorVariant>): ConnectorVariant => ({
    filter: 'prefix',
    initialPosition: 'latest',
    keySource: 'default',
    waitForBrokerAck: true,
    recordsThreshold: 1000,
    ...changes,
  })
  const start = () => new ActivateCommand('start', undefined)
  const appendToOrder1 = (count: number) => new AppendCommand(0, count)

  test('latest: start, stop before any event, append, start: the events appended while stopped arrive', async () => {
    const figures = await runSinkSequence(system, variant({}), [start(), new StopCommand(), appendToOrder1(3), start(), new CheckCommand()])
    expect(figures.lost).toBe(0)
  }, 120_000)

  test('latest: start, kill -9 before any event, append while the sink is down, restart: the events arrive', async () => {
    const figures = await runSinkSequence(system, variant({}), [start(), new RestartSinkCommand('SIGKILL', 3), new CheckCommand()])
    expect(figures.lost).toBe(0)
  }, 120_000)

  test('latest, one stream: KurrentDB drops the subscription before its first event: later events still arrive', async () => {
    const figures = await runSinkSequence(system, variant({ filter: 'streamId' }), [start(), new KurrentDbDownCommand(), appendToOrder1(2), new CheckCommand()])
    expect(figures.lost).toBe(0)
  }, 120_000)

  test('earliest: deliver, stop, delete, create again with the same id: the new incarnation delivers everything again', async () => {
    const earliest = variant({ initialPosition: 'earliest' })
    const figures = await runSinkSequence(system, earliest, [appendToOrder1(5), start(), new CheckCommand(), new RecreateCommand(earliest), start(), new CheckCommand()])
    expect(figures.lost).toBe(0)
    expect(figures.delivered).toBeGreaterThanOrEqual(5)
  }, 120_000)
})
