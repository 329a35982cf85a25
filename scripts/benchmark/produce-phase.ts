/**
 * Produce-only and the native reference: the same messages (the sink's records for the benchmark's events: value,
 * key and esdb-* headers) pushed into the same broker, once by our Kafka engine with the sink's batching and
 * settings, once by kcat -P (librdkafka in C), the practical ceiling of this machine; against a real Kafka also
 * by Kafka's own Java producer (kafka-producer-perf-test, ProducerPerformance).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { silentLogger } from '../../src/observability/logger.ts'
import { defaultPipelineTuning } from '../../src/pipeline/run-connector.ts'
import { parseSinkSettings } from '../../src/settings/parse-sink-settings.ts'
import { createKafkaPort } from '../../src/sink/kafka/create-kafka-port.ts'
import type { KafkaMessage } from '../../src/sink/kafka/port.ts'
import { toProducerConfig } from '../../src/sink/kafka/producer-config.ts'
import { createPartitionKeyExtractor } from '../../src/sink/partition-key.ts'
import { createRecordMapper } from '../../src/sink/record-mapping.ts'
import type { RealKafkaCluster } from '../../test/support/real-kafka-cluster.ts'
import { createProgress, perSecond, startCpuMeter } from './measure.ts'

export interface BenchmarkEventShape {
  readonly prefix: string
  readonly streams: number
  readonly dataBytes: number
}

/** The sink's records for `count` benchmark events, cycling over the streams as the seeded backlog does. */
export function benchmarkMessages(shape: BenchmarkEventShape, count: number): KafkaMessage[] {
  const toRecord = createRecordMapper({ connectorId: 'bench', defaultHeaders: {}, ignoreSystemHeaders: true, partitionKey: createPartitionKeyExtractor({ enabled: false, source: 'partitionKey' }) })
  const messages: KafkaMessage[] = []
  const created = BigInt(Date.now()) * 10_000n
  for (let index = 0; index < count; index++) {
    const stream = `${shape.prefix}-${Math.floor(index / 100) % shape.streams}`
    const body = `{"seq":${index},"stream":"${stream}","global":${index},"pad":"`
    const data = Buffer.from(`${body}${'x'.repeat(Math.max(0, shape.dataBytes - body.length - 2))}"}`)
    messages.push(
      toRecord({
        id: crypto.randomUUID(),
        streamId: stream,
        revision: BigInt(index),
        position: { commit: BigInt(index * 250), prepare: BigInt(index * 250) },
        type: 'BenchmarkEvent',
        contentType: 'application/json',
        createdTicks: created,
        data,
        customMetadata: new Uint8Array(0),
      }),
    )
  }
  return messages
}

export async function measureEngineProduce(bootstrapServers: string, topic: string, pool: readonly KafkaMessage[], total: number) {
  const parsed = parseSinkSettings({ instanceTypeName: 'kafka-sink', topic, bootstrapServers })
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.violations))
  const port = createKafkaPort(toProducerConfig(parsed.settings, 'bench-produce'), silentLogger)
  await port.connect()
  const batchSize = defaultPipelineTuning.maxBatchMessages
  const progress = createProgress('produce: engine', 'messages', total)
  const cpu = await startCpuMeter('self')
  let sent = 0
  while (sent < total) {
    const batch: KafkaMessage[] = []
    for (let index = 0; index < batchSize && sent + index < total; index++) batch.push(pool[(sent + index) % pool.length]!)
    const outcomes = await port.send(topic, batch)
    const failed = outcomes.find((outcome) => !outcome.delivered)
    if (failed !== undefined && !failed.delivered) throw failed.error
    sent += batch.length
    progress.update(sent)
  }
  const seconds = progress.elapsedSeconds()
  const { cpuUsPerEvent, machineUsPerEvent, machineCores } = await cpu.stop(sent)
  await port.close({ flush: true })
  return { messages: sent, seconds, messagesPerSecond: perSecond(sent, seconds), cpuUsPerMessage: cpuUsPerEvent, machineUsPerMessage: machineUsPerEvent, machineCores }
}

export async function measureKcatProduce(bootstrapServers: string, topic: string, pool: readonly KafkaMessage[], total: number) {
  const directory = await mkdtemp(join(tmpdir(), 'kafka-sink-bench-'))
  try {
    const file = join(directory, 'messages.txt')
    const lines: string[] = []
    for (let index = 0; index < total; index++) {
      const message = pool[index % pool.length]!
      lines.push(`${message.key!.toString()}\t${message.value.toString()}`)
    }
    await writeFile(file, lines.join('\n') + '\n')
    // The same headers on every message (kcat cannot vary them per message), so the bytes per message match.
    const headerArgs = [...pool[0]!.headers].flatMap(([name, value]) => ['-H', `${name}=${value.toString()}`])
    const started = performance.now()
    const child = Bun.spawn(
      // The sink's defaults: zstd at level 6, idempotent, acks=all.
      ['kcat', '-P', '-b', bootstrapServers, '-t', topic, '-K', '\t', '-z', 'zstd', '-X', 'compression.level=6', '-X', 'enable.idempotence=true', '-X', 'acks=all', '-X', 'linger.ms=5', ...headerArgs, '-l', file],
      { stdout: 'ignore', stderr: 'pipe' },
    )
    const [exitCode, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()])
    if (exitCode !== 0) throw new Error(`kcat -P failed: ${stderr}`)
    const seconds = (performance.now() - started) / 1_000
    return { messages: total, seconds, messagesPerSecond: perSecond(total, seconds) }
  } finally {
    await rm(directory, { recursive: true, force: true })
  }
}

/** Bytes a message puts on the wire before compression: key, value, header names and values. */
function messageBytes(message: KafkaMessage): number {
  let bytes = (message.key?.length ?? 0) + message.value.length
  for (const [name, value] of message.headers) bytes += Buffer.byteLength(name) + value.length
  return bytes
}

/**
 * Kafka's Java producer (kafka-producer-perf-test) with the sink's delivery settings: acks=all, idempotent, zstd at
 * level 6, 5 ms linger. It cannot send keys or headers, so each payload is a message's value followed by its key and
 * header bytes: the same size, and about as compressible, as what the sink sends.
 */
export async function measureJavaProducerPerformance(cluster: RealKafkaCluster, topic: string, pool: readonly KafkaMessage[], total: number) {
  const directory = await mkdtemp(join(tmpdir(), 'kafka-sink-bench-'))
  try {
    const payloadFile = join(directory, 'payloads.txt')
    const payloads = pool.slice(0, 5_000).map((message) => {
      const parts = [message.value.toString(), message.key?.toString() ?? '']
      for (const [name, value] of message.headers) parts.push(name, value.toString())
      return parts.join('').replaceAll('\n', ' ')
    })
    await writeFile(payloadFile, payloads.join('\n') + '\n')
    const recordBytes = Math.round(pool.slice(0, 5_000).reduce((sum, message) => sum + messageBytes(message), 0) / Math.min(pool.length, 5_000))
    const run = await cluster.runTool('org.apache.kafka.tools.ProducerPerformance', [
      '--topic', topic, '--num-records', String(total), '--throughput', '-1', '--payload-file', payloadFile,
      '--producer-props', `bootstrap.servers=${cluster.bootstrapServers}`, 'acks=all', 'enable.idempotence=true',
      'compression.type=zstd', 'compression.zstd.level=6', 'linger.ms=5', 'batch.size=262144',
    ], { timeoutMs: 600_000, jvmOptions: ['-Xmx512m', '-XX:+UseSerialGC'] })
    // The last summary line: "N records sent, R records/sec (M MB/sec), A ms avg latency, X ms max latency, …".
    const summary = /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\)/.exec(run.stdout.trim().split('\n').at(-1) ?? '')
    if (run.exitCode !== 0 || summary === null) throw new Error(`ProducerPerformance failed (exit ${run.exitCode}): ${run.stderr.trim().slice(-1000)}`)
    return { messages: Number(summary[1]), messagesPerSecond: Math.round(Number(summary[2])), megabytesPerSecond: Number(summary[3]), recordBytes }
  } finally {
    await rm(directory, { recursive: true, force: true })
  }
}
