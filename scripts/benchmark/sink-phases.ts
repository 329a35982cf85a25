/**
 * The phases that run the real binary, driven by its REST API: draining a backlog end to end, latency at a steady
 * rate, memory while Kafka is down, and start-up time.
 */
import { jsonEvent, type KurrentDBClient } from '@kurrent/kurrentdb-client'
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { KafkaTestBroker } from '../../test/support/kafka-test-broker.ts'
import { sinkApi, sinkBinary, startSinkProcess, type SinkProcess } from '../../test/support/sink-process.ts'
import { createProgress, percentile, perSecond, processMemory, round, sampleMemory, startCpuMeter } from './measure.ts'

export interface SinkBenchContext {
  readonly kurrentdb: string
  /** The Kafka the connectors write to (the mock's, or a real broker's). */
  readonly bootstrapServers: string
  /** The mock cluster, for the phase that takes Kafka down. */
  readonly broker: KafkaTestBroker
  readonly client: KurrentDBClient
  readonly createTopic: () => Promise<string>
  /** Another build of the binary to measure instead of dist/kafka-sink (a side-by-side comparison in one run). */
  readonly binary?: string
  /** Distinguishes the connector ids of several runs against one KurrentDB (ids are kept there). */
  readonly runLabel?: string
  /** Connector settings on top of the benchmark's own (e.g. `compression:level`), to compare settings side by side. */
  readonly connectorSettings?: Readonly<Record<string, string>>
}

/** Connector ids are kept by KurrentDB: a baseline run needs its own. */
const connectorIdFor = (context: Pick<SinkBenchContext, 'binary' | 'runLabel'>, id: string) => `${id}${context.binary === undefined ? '' : '-baseline'}${context.runLabel === undefined ? '' : `-${context.runLabel}`}`

const startSink = (context: Pick<SinkBenchContext, 'kurrentdb' | 'binary'>) =>
  startSinkProcess({ kurrentdb: context.kurrentdb, ...(context.binary === undefined ? {} : { command: [context.binary] as const }) })

/** A connector reading the benchmark streams (`<prefix>-*`) into `topic`. */
function benchmarkConnector(context: Pick<SinkBenchContext, 'bootstrapServers' | 'connectorSettings'>, topic: string, prefix: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    instanceTypeName: 'kafka-sink',
    topic,
    bootstrapServers: context.bootstrapServers,
    'subscription:filter:scope': 'stream',
    'subscription:filter:filterType': 'prefix',
    'subscription:filter:expression': prefix,
    ...extra,
    ...context.connectorSettings,
  }
}

async function startConnector(sink: SinkProcess, connectorId: string, settings: Record<string, unknown>): Promise<void> {
  const api = sinkApi(sink.baseUrl)
  const created = await api.request('POST', `/connectors/${connectorId}`, { settings })
  if (created.status !== 200) throw new Error(`creating ${connectorId} failed: ${created.text}`)
  const started = await api.request('POST', `/connectors/${connectorId}/start`)
  if (started.status !== 200) throw new Error(`starting ${connectorId} failed: ${started.text}`)
}

/**
 * Every phase removes its connector when it ends: KurrentDB keeps connectors, and the next phase's sink would load and
 * run every earlier one beside its own, so its CPU and memory would be those of several connectors.
 */
export async function removeConnector(api: ReturnType<typeof sinkApi>, connectorId: string): Promise<void> {
  const stopped = await api.request('POST', `/connectors/${connectorId}/stop`)
  if (stopped.status === 404) return // never created (the phase failed before)
  await api.waitForState(connectorId, 'CONNECTOR_STATE_STOPPED')
  const deleted = await api.request('DELETE', `/connectors/${connectorId}`)
  if (deleted.status !== 200) throw new Error(`deleting ${connectorId} failed: ${deleted.status} ${deleted.text}`)
}

async function producedSoFar(sink: SinkProcess): Promise<number> {
  const metrics = await sinkApi(sink.baseUrl).request('GET', '/metrics')
  const match = /^messaging_kurrent_producer_message_count\{[^}]*\} (\d+)/m.exec(metrics.text)
  return match === null ? 0 : Number(match[1])
}

/**
 * From the start command to every event confirmed by Kafka and covered by a committed checkpoint (the connector's
 * position reaches the backlog's last position). Also the sink's peak RSS over the run, and the peak of its private
 * part (sampled at each poll: the kernel keeps no high-water mark of it).
 */
export async function measureEndToEnd(context: Omit<SinkBenchContext, 'broker'>, options: { prefix: string; events: number; lastPosition: bigint; waitForBrokerAck: boolean; /** Tells connectors of several runs on one KurrentDB apart. */ label?: string }) {
  const sink = await startSink(context)
  const connectorId = connectorIdFor(context, `bench-e2e-${options.waitForBrokerAck ? 'ack' : 'no-ack'}${options.label ? `-${options.label}` : ''}`)
  try {
    const topic = await context.createTopic()
    const cpu = await startCpuMeter(sink.pid)
    const progress = createProgress(`end-to-end${options.label ? ` (${options.label})` : ''}${options.waitForBrokerAck ? '' : ' (no ack wait)'}`, 'events', options.events)
    await startConnector(sink, connectorId, benchmarkConnector(context, topic, `${options.prefix}-`, { 'subscription:initialPosition': 'earliest', waitForBrokerAck: String(options.waitForBrokerAck) }))
    const api = sinkApi(sink.baseUrl)
    let peakPrivateMb = 0
    for (;;) {
      peakPrivateMb = Math.max(peakPrivateMb, (await processMemory(sink.pid)).privateMb)
      const connector = await api.connector(connectorId)
      if (connector?.state === 'CONNECTOR_STATE_STOPPED') throw new Error(`the connector stopped: ${JSON.stringify(connector.errorDetails)}`)
      if (connector?.position !== undefined && BigInt(connector.position as string) >= options.lastPosition) break
      progress.update(await producedSoFar(sink))
      await Bun.sleep(100)
    }
    const seconds = progress.elapsedSeconds()
    const { cpuUsPerEvent, cores, mainThreadCores, machineUsPerEvent, machineCores } = await cpu.stop(options.events)
    const memory = await processMemory(sink.pid)
    return { topic, events: options.events, seconds: round(seconds, 2), eventsPerSecond: perSecond(options.events, seconds), peakRssMb: round(memory.peakMb), peakPrivateMb: round(Math.max(peakPrivateMb, memory.privateMb)), cpuUsPerEvent, cores, mainThreadCores, machineUsPerEvent, machineCores }
  } finally {
    await removeConnector(sinkApi(sink.baseUrl), connectorId)
    await sink.stop()
  }
}

/**
 * Append-to-Kafka latency at a steady rate: each event carries its append time; an independent consumer (kcat, with
 * a 1 ms fetch wait so its own polling adds little) reads them as they land. With `warmupSeconds`, appends first run
 * that long at the same rate uncounted: the JIT keeps compiling for minutes when traffic is light, and a sidecar that
 * runs for hours pays that once.
 */
export async function measureLatency(context: SinkBenchContext, options: { eventsPerSecond: number; seconds: number; warmupSeconds?: number }) {
  const sink = await startSink(context)
  const topic = await context.createTopic()
  const consumer = spawn('kcat', ['-C', '-b', context.bootstrapServers, '-t', topic, '-o', 'end', '-u', '-q', '-f', '%s\\n', '-X', 'fetch.wait.max.ms=1', '-X', 'fetch.error.backoff.ms=1'], { stdio: ['ignore', 'pipe', 'ignore'] })
  const connectorId = connectorIdFor(context, 'bench-latency')
  try {
    await startConnector(sink, connectorId, benchmarkConnector(context, topic, 'latency-'))
    await sinkApi(sink.baseUrl).waitForState(connectorId, 'CONNECTOR_STATE_RUNNING')
    await Bun.sleep(2_000) // let kcat's assignment settle at the end of the topic
    const warmup = options.eventsPerSecond * (options.warmupSeconds ?? 0)
    const latencies: number[] = []
    const lines = createInterface({ input: consumer.stdout! })
    lines.on('line', (line) => {
      const { seq, appendedAt } = JSON.parse(line) as { seq?: number; appendedAt?: number }
      if (appendedAt !== undefined && seq !== undefined && seq >= warmup) latencies.push(performance.timeOrigin + performance.now() - appendedAt)
    })
    const total = options.eventsPerSecond * options.seconds
    const perTick = Math.max(1, Math.round(options.eventsPerSecond / 100))
    const warmingUp = createProgress('latency: warm-up, uncounted', 'events', warmup)
    const progress = createProgress(warmup > 0 ? 'latency (after warm-up)' : 'latency', 'events', total)
    let cpu: Awaited<ReturnType<typeof startCpuMeter>> | undefined
    const started = performance.now()
    for (let appended = 0, tick = 0; appended < warmup + total; tick++) {
      if (cpu === undefined && appended >= warmup) cpu = await startCpuMeter(sink.pid)
      const due = started + tick * 10
      if (due > performance.now()) await Bun.sleep(due - performance.now())
      const events = []
      for (let index = 0; index < perTick && appended < warmup + total; index++, appended++) {
        events.push(jsonEvent({ type: 'LatencyProbe', data: { seq: appended, appendedAt: performance.timeOrigin + performance.now() } }))
      }
      await context.client.appendToStream(`latency-${tick % 100}`, events)
      if (cpu !== undefined) progress.update(latencies.length)
      else warmingUp.update(appended)
    }
    // The sink's CPU while appends arrive at the steady rate: what a sidecar costs when traffic is light.
    const { cpuUsPerEvent, cores, mainThreadCores } = await cpu!.stop(total)
    const deadline = performance.now() + 15_000
    while (latencies.length < total && performance.now() < deadline) await Bun.sleep(100)
    const sorted = [...latencies].sort((left, right) => left - right)
    return {
      events: sorted.length,
      expected: total,
      p50: round(percentile(sorted, 0.5)),
      p99: round(percentile(sorted, 0.99)),
      max: round(sorted.at(-1) ?? Number.NaN),
      cpuUsPerEvent,
      cores,
      mainThreadCores,
    }
  } finally {
    consumer.kill()
    await removeConnector(sinkApi(sink.baseUrl), connectorId)
    await sink.stop()
  }
}

/** RSS while Kafka is down and a backlog waits: the sink should fill its in-flight window and then stay flat. */
export async function measureMemoryWhileKafkaDown(context: SinkBenchContext, options: { prefix: string; seconds: number }) {
  const sink = await startSink(context)
  const connectorId = connectorIdFor(context, 'bench-kafka-down')
  try {
    const topic = await context.createTopic()
    await context.broker.setAllBrokersDown()
    await startConnector(sink, connectorId, benchmarkConnector(context, topic, `${options.prefix}-`, { 'subscription:initialPosition': 'earliest' }))
    const sampler = sampleMemory(sink.pid)
    const progress = createProgress('memory: Kafka down', 's', options.seconds)
    while (progress.elapsedSeconds() < options.seconds) {
      await Bun.sleep(500)
      progress.update(Math.floor(progress.elapsedSeconds()))
    }
    const samples = sampler.stop()
    const tenth = Math.max(1, Math.floor(samples.length / 10))
    const average = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length
    return {
      peakMb: round(Math.max(...samples)),
      // Flat means the last tenth of the window is no higher than the tenth after the first fill.
      earlyMb: round(average(samples.slice(tenth, 2 * tenth))),
      lateMb: round(average(samples.slice(-tenth))),
    }
  } finally {
    await context.broker.setAllBrokersUp()
    await removeConnector(sinkApi(sink.baseUrl), connectorId)
    await sink.stop()
  }
}

/** Exec of the binary to `/health/live` answering 200, the median of several starts. */
export async function measureStartup(kurrentdb: string, runs = 7, binary = sinkBinary) {
  const timings: number[] = []
  for (let run = 0; run < runs; run++) {
    const port = 20_000 + Math.floor(Math.random() * 20_000)
    const started = performance.now()
    const child = Bun.spawn([binary, '--insecure', '--host', '127.0.0.1', '--port', String(port), '--kurrentdb', kurrentdb, '--log-level', 'error'], { stdout: 'ignore', stderr: 'ignore' })
    let live = false
    while (!live && performance.now() - started < 10_000) {
      live = await fetch(`http://127.0.0.1:${port}/health/live`).then((response) => response.status === 200, () => false)
      if (!live) await Bun.sleep(2)
    }
    if (live) timings.push(performance.now() - started)
    child.kill()
    await child.exited
  }
  const sorted = timings.sort((left, right) => left - right)
  return { medianMs: round(percentile(sorted, 0.5)), runs: sorted.length, binaryMb: round(Bun.file(binary).size / 1024 / 1024) }
}
