/**
 * The same product on each runtime and Kafka engine, side by side: the Bun binary, the Node bundle with either
 * engine, and the bundle on Deno (and the Deno binary when it was built). Each drains one backlog end to end
 * (confirmed and checkpointed) against the rig; figures per build: throughput, CPU per event, peak RSS, start-up
 * to /health/live, and size on disk. Prints a table; writes bench/results/runtimes-latest.json.
 *   bun scripts/bench-runtimes.ts [--events N] [--only TEXT]   (default 200,000 events; TEXT selects builds by name;
 *   build first: bun run build && bun run build:node)
 */
import { KurrentDBClient } from '@kurrent/kurrentdb-client'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { startKafkaTestBroker, uniqueTopicName } from '../test/support/kafka-test-broker.ts'
import { spawnKurrentDbEmulator } from '../test/support/kurrentdb-emulator-process.ts'
import { sinkApi, sinkCommand, sinkExecutableFile, startSinkProcess, type SinkExecutable } from '../test/support/sink-process.ts'
import { percentile, perSecond, processMemory, round, startCpuMeter } from './benchmark/measure.ts'
import { removeConnector } from './benchmark/sink-phases.ts'

const argument = (name: string) => {
  const index = process.argv.indexOf(name)
  return index < 0 ? undefined : process.argv[index + 1]
}
const events = Number(argument('--events') ?? 200_000)
const prefix = 'rtbench'

interface Build {
  readonly name: string
  readonly executable: SinkExecutable
  readonly engine: 'platformatic' | 'librdkafka'
  readonly compression: string
}
const builds: Build[] = [
  { name: 'Bun binary, platformatic', executable: 'bun', engine: 'platformatic', compression: 'zstd' },
  { name: 'Node bundle, librdkafka', executable: 'node', engine: 'librdkafka', compression: 'zstd' },
  // Node 20's node:zlib has no zstd, which the platformatic engine needs for it: measured with lz4 instead.
  { name: 'Node bundle, platformatic (lz4)', executable: 'node', engine: 'platformatic', compression: 'lz4' },
  { name: 'Deno (bundle), platformatic', executable: 'deno', engine: 'platformatic', compression: 'zstd' },
  ...(existsSync(sinkExecutableFile('deno-binary')) ? [{ name: 'Deno binary, platformatic', executable: 'deno-binary' as const, engine: 'platformatic' as const, compression: 'zstd' }] : []),
]

const only = argument('--only')
const selected = only === undefined ? builds : builds.filter((build) => build.name.includes(only))

/** Bytes on disk of what the build needs beside the runtime: the binary, or the bundle's folder. */
function sizeMb(executable: SinkExecutable): number {
  const file = sinkExecutableFile(executable)
  if (executable === 'bun' || executable === 'deno-binary') return round(statSync(file).size / 1024 / 1024)
  const folder = dirname(file)
  return round(readdirSync(folder).reduce((total, entry) => total + statSync(join(folder, entry)).size, 0) / 1024 / 1024)
}

async function startupMs(build: Build, kurrentdb: string, runs = 5): Promise<number> {
  const timings: number[] = []
  for (let run = 0; run < runs; run++) {
    const port = 20_000 + Math.floor(Math.random() * 20_000)
    const started = performance.now()
    const child = Bun.spawn(sinkCommand(['--insecure', '--host', '127.0.0.1', '--port', String(port), '--kurrentdb', kurrentdb, '--log-level', 'error', '--kafka-engine', build.engine], build.executable), { stdout: 'ignore', stderr: 'ignore' })
    let live = false
    while (!live && performance.now() - started < 10_000) {
      live = await fetch(`http://127.0.0.1:${port}/health/live`).then((response) => response.status === 200, () => false)
      if (!live) await sleep(2)
    }
    if (live) timings.push(performance.now() - started)
    child.kill()
    await child.exited
  }
  return round(percentile(timings.sort((left, right) => left - right), 0.5))
}

const emulator = await spawnKurrentDbEmulator()
const broker = await startKafkaTestBroker({ brokers: 3 })
const client = KurrentDBClient.connectionString(emulator.connectionString)
const rows: Record<string, unknown>[] = []
try {
  const lastPosition = await emulator.seed({ events, streams: 1_000, prefix, dataBytes: 150 })
  if (lastPosition === undefined) throw new Error('seeding the backlog failed')
  process.stderr.write(`${events.toLocaleString('en')} events of ~150 B over 1,000 streams\n`)
  for (const [index, build] of selected.entries()) {
    process.stderr.write(`▶ ${build.name}\n`)
    // One connector per build; it is deleted afterwards so the next build's process does not resume it.
    const connectorId = `rtbench-e2e-${index}`
    const sink = await startSinkProcess({ kurrentdb: emulator.connectionString, executable: build.executable, withCredentials: false, args: ['--insecure', '--kafka-engine', build.engine] })
    try {
      const topic = uniqueTopicName('rtbench')
      await broker.createTopic(topic, { partitions: 6, replicationFactor: 3 })
      const api = sinkApi(sink.baseUrl, undefined)
      const cpu = await startCpuMeter(sink.pid)
      const started = performance.now()
      const settings = {
        instanceTypeName: 'kafka-sink',
        topic,
        bootstrapServers: broker.bootstrapServers,
        'subscription:filter:scope': 'stream',
        'subscription:filter:filterType': 'prefix',
        'subscription:filter:expression': `${prefix}-`,
        'subscription:initialPosition': 'earliest',
        'compression:type': build.compression,
      }
      if ((await api.request('POST', `/connectors/${connectorId}`, { settings })).status !== 200) throw new Error('creating the connector failed')
      await api.request('POST', `/connectors/${connectorId}/start`)
      for (;;) {
        const connector = await api.connector(connectorId)
        if (connector?.state === 'CONNECTOR_STATE_STOPPED') throw new Error(`the connector stopped: ${JSON.stringify(connector.errorDetails)}`)
        if (connector?.position !== undefined && BigInt(connector.position as string) >= lastPosition) break
        await sleep(100)
      }
      const seconds = (performance.now() - started) / 1_000
      const { cpuUsPerEvent } = await cpu.stop(events)
      const memory = await processMemory(sink.pid)
      rows.push({
        build: build.name,
        events_per_s: perSecond(events, seconds),
        cpu_us_per_event: cpuUsPerEvent,
        peak_rss_mb: round(memory.peakMb),
        startup_ms: await startupMs(build, emulator.connectionString),
        size_mb: sizeMb(build.executable),
      })
      await removeConnector(api, connectorId)
    } finally {
      await sink.stop()
    }
  }
  const columns = ['build', 'events_per_s', 'cpu_us_per_event', 'peak_rss_mb', 'startup_ms', 'size_mb'] as const
  const header = ['build', 'events/s', 'CPU µs/event', 'peak RSS MB', 'start-up ms', 'size MB']
  const cells = [header, ...rows.map((row) => columns.map((column) => String(row[column])))]
  const widths = header.map((_, index) => Math.max(...cells.map((line) => line[index]!.length)))
  console.log(`\nkafka-sink on each runtime, ${new Date().toISOString()}, ${events.toLocaleString('en')}-event backlog end to end\n`)
  for (const line of cells) console.log(`  ${line.map((cell, index) => (index === 0 ? cell.padEnd(widths[index]!) : cell.padStart(widths[index]!))).join('  ')}`)
  await Bun.write(new URL('../bench/results/runtimes-latest.json', import.meta.url), JSON.stringify({ date: new Date().toISOString(), events, rows }, null, 2) + '\n')
} finally {
  await client.dispose().catch(() => {})
  await Promise.allSettled([emulator.stop(), broker.stop()])
}
