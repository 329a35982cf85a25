/**
 * Runs the model-based test: fast-check generates a connector variant and a command sequence per run, executes
 * them against the compiled sink and the rig with `fc.asyncModelRun`, and ends every run with a check. The e2e
 * test (fixed seed, few runs) and scripts/chaos (random seed, a time budget, more faults) both call `runSinkModel`.
 */
import fc from 'fast-check'
import { randomUUID } from 'node:crypto'
import { cleanUp, commandArbitrary, CreateCommand, finalCheck, variantArbitrary, type CommandWeights, type SinkCommand } from './commands.ts'
import { newModel, sumFigures, type ConnectorVariant, type Figures } from './model.ts'
import type { ModelSystem } from './system.ts'

export interface SinkModelRunOptions {
  readonly seed: number
  /** Stop starting new runs after this long (a run in progress completes). */
  readonly durationMs: number
  /** At most this many runs (the fixed-seed test uses a few; chaos lets the duration decide). */
  readonly numRuns: number
  readonly maxCommands: number
  readonly weights: CommandWeights
  /** Replays attempted while shrinking a failure (each replays a whole run against the rig). */
  readonly maxShrinks: number
  /** Time allowed for shrinking after the first failure; later candidates pass without running. */
  readonly shrinkBudgetMs: number
  /** To replay a reported failure: fast-check's `path` and the commands' `replayPath`. */
  readonly path?: string
  readonly replayPath?: string
  readonly log: (line: string) => void
}

export interface SinkModelRunResult {
  readonly ok: boolean
  readonly runs: number
  readonly figures: Figures
  readonly faults: number
  /** fast-check's report of a failure: the shrunk command sequence, the error, and how to replay it. */
  readonly report: string | undefined
  readonly seed: number
}

export async function runSinkModel(system: ModelSystem, options: SinkModelRunOptions): Promise<SinkModelRunResult> {
  const deadline = Date.now() + options.durationMs
  const commands = fc.limitShrink(
    fc.commands([commandArbitrary(options.weights)], { maxCommands: options.maxCommands, size: 'max', ...(options.replayPath ? { replayPath: options.replayPath } : {}) }),
    options.maxShrinks,
  )
  const variants = fc.limitShrink(variantArbitrary, 3)
  let runs = 0
  let faults = 0
  let failed = false
  let shrinkDeadline = Infinity
  let lastFailure = ''
  const figures: Figures[] = []
  const started = Date.now()

  const property = fc.asyncProperty(variants, commands, async (variant: ConnectorVariant, sequence: Iterable<SinkCommand>) => {
    // Past the budget, new runs pass without touching the rig; a failure being shrunk still replays.
    if (!failed && Date.now() > deadline) return
    if (failed && Date.now() > shrinkDeadline) return
    const namespace = `m${randomUUID().replaceAll('-', '').slice(0, 10)}`
    const model = newModel(namespace, `model-${namespace}`)
    await system.heal()
    const counted = !failed
    try {
      await new CreateCommand(variant).run(model, system)
      await fc.asyncModelRun(() => ({ model, real: system }), sequence)
      await finalCheck(model, system)
    } catch (error) {
      if (!failed) {
        options.log(`run ${runs + 1} failed: ${error instanceof Error ? error.message : String(error)}`)
        shrinkDeadline = Date.now() + options.shrinkBudgetMs
      } else {
        options.log(`  candidate failed too: ${error instanceof Error ? error.message.slice(0, 300) : String(error)}`)
      }
      failed = true
      lastFailure = error instanceof Error ? error.message : String(error)
      throw error
    } finally {
      if (counted) {
        runs += 1
        faults += model.faults
        const runFigures = sumFigures(model.incarnations.flatMap((incarnation) => (incarnation.lastFigures ? [incarnation.lastFigures] : [])))
        figures.push(runFigures)
        options.log(
          `run ${runs}: ${model.events.length} events, ${model.incarnations.length} incarnation(s), due=${runFigures.due} delivered=${runFigures.delivered} ` +
            `duplicates=${runFigures.duplicates} faults=${model.faults} max_rss_mb=${system.maxRssMb()} (${Math.round((Date.now() - started) / 1000)} s)`,
        )
        options.log(`  create(${JSON.stringify(variant)}), ${String(sequence)}`)
      } else {
        options.log(`shrinking: replayed a candidate (${Math.round((Date.now() - started) / 1000)} s)`)
      }
      await cleanUp(model, system)
    }
  })

  const details = await fc.check(property, {
    seed: options.seed,
    numRuns: options.numRuns,
    ...(options.path ? { path: options.path } : {}),
  })
  return {
    ok: !details.failed,
    runs,
    figures: sumFigures(figures),
    faults,
    report: details.failed ? `${fc.defaultReportMessage(details)}\nError of the last failing sequence: ${lastFailure}` : undefined,
    seed: options.seed,
  }
}

/**
 * Runs one given sequence through the same model and checks (the scenarios the issue tracker measured, kept as
 * named tests next to the generated ones). Throws the model's violation.
 */
export async function runSinkSequence(system: ModelSystem, variant: ConnectorVariant, sequence: readonly SinkCommand[]): Promise<Figures> {
  const namespace = `m${randomUUID().replaceAll('-', '').slice(0, 10)}`
  const model = newModel(namespace, `model-${namespace}`)
  await system.heal()
  try {
    await new CreateCommand(variant).run(model, system)
    for (const command of sequence) {
      if (command.check(model)) await command.run(model, system)
    }
    await finalCheck(model, system)
    return sumFigures(model.incarnations.flatMap((incarnation) => (incarnation.lastFigures ? [incarnation.lastFigures] : [])))
  } finally {
    await cleanUp(model, system)
  }
}
