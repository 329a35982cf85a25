/**
 * Runs StrykerJS once per mutated source file, each time with only the test files that are meant to protect it
 * (the command runner has no per-test coverage, so running the whole unit suite for every mutant would take hours).
 * Incremental: a file's previous results are reused for mutants whose code and tests did not change.
 * Prints the score per file and writes test/mutation/scores.md; the HTML and JSON reports go to test/mutation/reports/.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'

const runConnector = 'test/unit/in-process/run-connector.test.ts'
// For mutants of the pipeline's own files, every in-process test but the 20k-event backpressure one (2.5 s of the
// file's 4.5 s): a bound the credit-window and run-connector mutants also break in the tests that remain.
const runConnectorQuick = `${runConnector} -t '^(?!backpressure)'`
const supervisor = 'test/unit/in-process/connector-supervisor.test.ts'
const startPositions = 'test/unit/in-process/start-positions.test.ts'
const service = 'test/unit/in-process/connector-service.test.ts'
const settingsTests = ['test/unit/settings', 'test/unit/cli.test.ts']
// The platformatic engine against the Kafka test broker and a SASL front, in the test process (about 3 s).
const engineInProcess = 'test/unit/in-process/platformatic-engine.test.ts'

/**
 * Each mutated file and the tests that guard it, in stages: the quick unit tests first, and the in-process ones
 * (KurrentDB emulator, seconds per run) only for a mutant the unit tests did not kill. Files run in this order.
 */
const targets: Record<string, readonly (readonly string[])[]> = {
  'src/pipeline/checkpoint-tracker.ts': [['test/unit/pipeline'], [runConnector]],
  'src/pipeline/deliver-batch.ts': [['test/unit/pipeline'], [runConnector]],
  'src/pipeline/batch-work.ts': [['test/unit/pipeline'], [runConnector]],
  'src/pipeline/credit-window.ts': [['test/unit/pipeline'], [runConnector]],
  'src/pipeline/retry-delay.ts': [['test/unit/pipeline'], [runConnector]],
  'src/pipeline/work-item.ts': [['test/unit/pipeline'], [runConnector]],
  'src/connectors/start-point.ts': [['test/unit/connectors/start-point.test.ts'], [startPositions]],
  'src/settings/durations.ts': [settingsTests],
  'src/connectors/connector-supervisor.ts': [[supervisor], [startPositions, service]],
  'src/sink/partition-key.ts': [['test/unit/sink'], [runConnector]],
  'src/sink/record-mapping.ts': [['test/unit/sink'], [runConnector]],
  'src/sink/bounded-cache.ts': [['test/unit/sink/bounded-cache.test.ts']],
  'src/sink/kafka/record-arena.ts': [['test/unit/sink/kafka/record-arena.test.ts', 'test/unit/sink/record-mapping.test.ts', 'test/unit/sink/kafka/header-block-support.test.ts']],
  'src/sink/kafka/header-block-support.ts': [['test/unit/sink/kafka/header-block-support.test.ts']],
  'src/sink/kafka/errors.ts': [['test/unit/sink']],
  'src/sink/kafka/kafka-error-names.ts': [['test/unit/sink']],
  'src/sink/kafka/platformatic-errors.ts': [['test/unit/sink']],
  'src/sink/kafka/partitioner.ts': [['test/unit/sink']],
  'src/sink/kafka/producer-config.ts': [['test/unit/sink', 'test/unit/pipeline'], [runConnector]],
  'src/sink/kafka/create-kafka-port.ts': [['test/unit/sink']],
  'src/sink/kafka/kafka-engines.ts': [['test/unit/sink/kafka/kafka-engines.test.ts', 'test/unit/cli.test.ts']],
  'src/sink/kafka/librdkafka-errors.ts': [['test/unit/sink/kafka/librdkafka-errors.test.ts']],
  'src/sink/kafka/librdkafka-plan.ts': [['test/unit/sink/kafka/librdkafka-plan.test.ts']],
  // Not mutated: librdkafka-engine.ts (the client's I/O): its client loads only under Node, and this runner drives
  // bun test; the Kafka port conformance suite runs it on Node, against the mock and real Kafka (scripts/test).
  'src/sink/kafka/platformatic-compression.ts': [['test/unit/sink']],
  'src/settings/parse-sink-settings.ts': [settingsTests],
  // No unit test imports run-connector.ts: only the in-process tests can kill its mutants.
  'src/pipeline/run-connector.ts': [[runConnectorQuick]],
  'src/sink/kafka/listener-probe.ts': [['test/unit/sink/kafka/listener-probe.test.ts', 'test/unit/sink/kafka/listener-probe-sockets.test.ts']],
  'src/sink/kafka/listener-probe-conversation.ts': [['test/unit/sink/kafka/listener-probe-conversation.test.ts']],
  // Only the unit files that import the engine: the rest of test/unit/sink cannot reach it, and every second of the
  // first stage is paid ~500 times.
  'src/sink/kafka/platformatic-engine.ts': [['test/unit/sink/kafka/platformatic-engine.test.ts', 'test/unit/sink/kafka/create-kafka-port.test.ts'], [engineInProcess]],
  'src/sink/kafka/topic-partitions.ts': [['test/unit/sink/kafka/topic-partitions.test.ts'], [engineInProcess]],
  'src/sink/kafka/platformatic-partial-delivery.ts': [['test/unit/sink/kafka/platformatic-partial-delivery.test.ts'], [engineInProcess]],
}

// --fresh: forget earlier results. The command runner cannot tell Stryker which tests changed, so after adding a
// test for a survivor, rerun its file with --fresh (incremental results would keep the survivor).
const fresh = process.argv.includes('--fresh')
const requested = process.argv.slice(2).filter((argument) => argument !== '--fresh')
const selected = requested.length === 0 ? Object.keys(targets) : Object.keys(targets).filter((file) => requested.some((name) => file === name || file.startsWith(name.endsWith('/') ? name : `${name}/`)))
if (selected.length === 0) {
  console.error(`nothing to mutate for ${requested.join(' ')}; known files:\n  ${Object.keys(targets).join('\n  ')}`)
  process.exit(2)
}

const root = 'test/mutation'
mkdirSync(join(root, 'reports'), { recursive: true })
mkdirSync(join(root, 'incremental'), { recursive: true })
mkdirSync(join(root, '.config'), { recursive: true })

interface FileScore {
  readonly file: string
  readonly killed: number
  readonly survived: number
  readonly noCoverage: number
  readonly timeout: number
  readonly errors: number
  readonly total: number
}

const failed: string[] = []
for (const file of selected) {
  const name = basename(file, '.ts')
  const stages = targets[file]!.map((stage) => stage.filter((path) => existsSync(path.split(' ')[0]!))).filter((stage) => stage.length > 0)
  const config = {
    $schema: '../../../node_modules/@stryker-mutator/core/schema/stryker-schema.json',
    mutate: [file],
    testRunner: 'command',
    // --bail: the first failing test kills the mutant; the rest need not run.
    commandRunner: { command: stages.map((stage) => `bun test --bail --timeout 20000 ${stage.join(' ')}`).join(' && ') },
    coverageAnalysis: 'off',
    // Stryker rewrites the tsconfig through the TypeScript compiler API, which TypeScript 7 no longer has; bun needs no
    // rewrite, so point it at a file that does not exist.
    tsconfigFile: 'tsconfig.stryker-skip.json',
    concurrency: Number(process.env.MUTATION_CONCURRENCY ?? 1),
    incremental: true,
    incrementalFile: join(root, 'incremental', `${name}.json`),
    reporters: ['clear-text', 'progress', 'html', 'json'],
    htmlReporter: { fileName: join(root, 'reports', `${name}.html`) },
    jsonReporter: { fileName: join(root, 'reports', `${name}.json`) },
    clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
    ignorePatterns: ['dist', '.tools', 'bench', 'deploy', 'docs', 'test/mutation', 'test/e2e', 'coverage', '.stryker-tmp*'],
    timeoutMS: 30_000,
    tempDirName: process.env.MUTATION_TEMP_DIR ?? '.stryker-tmp',
    cleanTempDir: true,
    logLevel: 'warn',
  }
  if (fresh) rmSync(config.incrementalFile, { force: true })
  const configPath = join(root, '.config', `${name}.json`)
  writeFileSync(configPath, JSON.stringify(config, null, 2))
  console.error(`[mutation] ${file} against ${stages.map((stage) => stage.join(' ')).join(', then ')}`)
  const started = performance.now()
  const run = Bun.spawnSync(['bun', 'node_modules/@stryker-mutator/core/bin/stryker.js', 'run', configPath], { stdio: ['inherit', 'inherit', 'inherit'] })
  console.error(`[mutation] ${file}: ${Math.round((performance.now() - started) / 1000)} s`)
  if (run.exitCode !== 0) failed.push(file)
}

// The summary: a fresh row for every file with a local report, the committed row for the others.
const scores: FileScore[] = []
for (const file of Object.keys(targets)) {
  const reportPath = join(root, 'reports', `${basename(file, '.ts')}.json`)
  if (!existsSync(reportPath)) continue
  const report = JSON.parse(readFileSync(reportPath, 'utf8')) as { files: Record<string, { mutants: { status: string }[] }> }
  const mutants = Object.values(report.files).flatMap((entry) => entry.mutants)
  const count = (...statuses: string[]) => mutants.filter((mutant) => statuses.includes(mutant.status)).length
  scores.push({
    file,
    killed: count('Killed'),
    timeout: count('Timeout'),
    survived: count('Survived'),
    noCoverage: count('NoCoverage'),
    errors: count('CompileError', 'RuntimeError'),
    total: mutants.length,
  })
}
const score = (entry: FileScore) => {
  const valid = entry.total - entry.errors
  return valid === 0 ? 100 : ((entry.killed + entry.timeout) * 100) / valid
}
// Rows of files without a local report (reports are not committed) come from the committed table as they are, so a
// checkout that has run one file does not drop everyone else's rows.
const scoresPath = join(root, 'scores.md')
const committedRows = new Map<string, string>()
if (existsSync(scoresPath)) {
  for (const line of readFileSync(scoresPath, 'utf8').split('\n')) {
    const file = /^\| (src\/\S+) \|/.exec(line)?.[1]
    if (file !== undefined) committedRows.set(file, line)
  }
}
const measured = new Map(scores.map((entry) => [entry.file, `| ${entry.file} | ${score(entry).toFixed(1)} % | ${entry.killed} | ${entry.timeout} | ${entry.survived} | ${entry.noCoverage} | ${entry.errors} | ${entry.total} |`]))
const lines = [
  '| file | score | killed | timeout | survived | no coverage | errors | mutants |',
  '|---|---:|---:|---:|---:|---:|---:|---:|',
  ...Object.keys(targets).flatMap((file) => {
    const row = measured.get(file) ?? committedRows.get(file)
    return row === undefined ? [] : [row]
  }),
]
writeFileSync(scoresPath, `# Mutation scores\n\nWritten by \`scripts/mutation\`; killed + timed out over valid mutants.\n\n${lines.join('\n')}\n`)
console.log(lines.join('\n'))
if (failed.length > 0) {
  console.error(`[mutation] Stryker did not finish for: ${failed.join(', ')} (see its output above)`)
  process.exit(1)
}
