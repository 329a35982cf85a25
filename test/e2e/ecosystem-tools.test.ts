/**
 * The checks the ecosystem's own tools make: `promtool check metrics` (Prometheus) on /metrics and `redocly lint`
 * on /openapi.json, both on the real API over the KurrentDB emulator, with every metric family given a series.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startApiRig, type ApiRig } from '../unit/api/api-rig.ts'

/**
 * KurrentDB's own connector metric names, kept so dashboards built for KurrentDB work (reference: its connectors'
 * metrics documentation). They break Prometheus naming conventions (`_total` on a gauge, `_count` on counters,
 * `_s` for seconds), which promtool's lint reports; those findings, and only those, are accepted.
 */
const kurrentDbMetricNames = new Set([
  'kurrent_connector_active_total',
  'kurrent_sink_written_total_records',
  'kurrent_sink_errors_total',
  'kurrent_sink_write_latency_s',
  'messaging_kurrent_consumer_message_count',
  'messaging_kurrent_consumer_commit_latency_s',
  'messaging_kurrent_consumer_lag',
  'messaging_kurrent_producer_queue_length',
  'messaging_kurrent_producer_message_count',
  'messaging_kurrent_producer_produce_duration_s',
  'messaging_kurrent_processor_error_count',
])

let rig: ApiRig
let workDir: string

beforeAll(async () => {
  rig = await startApiRig()
  workDir = await mkdtemp(join(tmpdir(), 'kafka-sink-ecosystem-'))
})
afterAll(async () => {
  await rig?.close()
  await rm(workDir, { recursive: true, force: true })
})

async function run(command: string[], options: { stdin?: string; env?: Record<string, string> } = {}) {
  const child = Bun.spawn(command, { cwd: workDir, stdin: options.stdin === undefined ? 'ignore' : new Blob([options.stdin]), stdout: 'pipe', stderr: 'pipe', env: { ...process.env, ...options.env } })
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited])
  return { stdout, stderr, exitCode }
}

describe('ecosystem tools', () => {
  test('promtool check metrics finds nothing in /metrics but the naming of the metrics KurrentDB itself exports', async () => {
    const connector = rig.metrics.forConnector('promtool-connector')
    connector.recordsWritten(3)
    connector.writeLatency(0.2)
    connector.sinkError()
    connector.messagesConsumed(3)
    connector.commitLatency(0.1)
    connector.consumerLag(5)
    connector.producerQueueLength(1)
    connector.messagesProduced(3)
    connector.produceDuration(0.01)
    connector.processorError()
    rig.metrics.setActiveConnectors(1)
    const metrics = await rig.request('GET', '/metrics', { authorization: null })
    expect(metrics.status).toBe(200)
    const { stdout, stderr, exitCode } = await run(['promtool', 'check', 'metrics'], { stdin: metrics.text })
    // Exit 1 is a format error; 3 a lint finding, judged below.
    expect(exitCode, stderr).not.toBe(1)
    const findings = `${stdout}\n${stderr}`.split('\n').map((line) => line.trim()).filter((line) => /^[a-zA-Z_:][a-zA-Z0-9_:]* /.test(line))
    const foreign = findings.filter((line) => !kurrentDbMetricNames.has(line.split(' ', 1)[0]!))
    expect(foreign).toEqual([])
  })

  test('redocly lint reports no error in /openapi.json, and no example that breaks its own schema', async () => {
    const document = await rig.request('GET', '/openapi.json', { authorization: null })
    expect(document.status).toBe(200)
    const file = join(workDir, 'openapi.json')
    await writeFile(file, document.text)
    const redocly = join(import.meta.dir, '..', '..', 'node_modules', '.bin', 'redocly')
    const { stdout, stderr } = await run([redocly, 'lint', file, '--format=json'], { env: { REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' } })
    const report = JSON.parse(stdout.slice(stdout.indexOf('{'))) as { problems: Array<{ ruleId: string; severity: string; message: string; location: Array<{ pointer: string }> }> }
    const describe = (problems: typeof report.problems) => problems.map((problem) => `${problem.ruleId} ${problem.location[0]?.pointer}: ${problem.message}`)
    expect(describe(report.problems.filter((problem) => problem.severity === 'error')), stderr).toEqual([])
    expect(describe(report.problems.filter((problem) => problem.ruleId === 'no-invalid-schema-examples'))).toEqual([])
  }, 120_000)
})
