/**
 * The benchmark: how close the sink runs to its limits on this machine, every figure measured side by side in one
 * run against the rig (KurrentDB emulator in its own process, Kafka test broker with 3 brokers, 6 partitions,
 * replication 3, zstd, idempotent), then, where Java 17+ is there, against a real Apache Kafka (1 broker, 6
 * partitions): end-to-end, produce-only, kcat and Kafka's own Java producer (kafka-producer-perf-test) as native
 * references. Prints one table and writes bench/results/latest.json. Options:
 *   --events N           backlog size (default 1,000,000)
 *   --save-reference F   also write the results to bench/results/F.json (committed reference runs)
 *   --no-real-kafka      skip the real-broker phase
 *   --baseline PATH      also run the end-to-end (broker acks), latency and start-up phases with another build of the
 *                        binary, each right after the same phase of dist/kafka-sink: a before/after comparison in one
 *                        run on a shared machine
 */
import { KurrentDBClient } from '@kurrent/kurrentdb-client'
import { cpus, hostname, totalmem } from 'node:os'
import { startKafkaTestBroker, uniqueTopicName } from '../test/support/kafka-test-broker.ts'
import { spawnKurrentDbEmulator } from '../test/support/kurrentdb-emulator-process.ts'
import { round } from './benchmark/measure.ts'
import { realKafkaUnavailableReason, startRealKafkaCluster } from '../test/support/real-kafka-cluster.ts'
import { benchmarkMessages, measureEngineProduce, measureJavaProducerPerformance, measureKcatProduce } from './benchmark/produce-phase.ts'
import { measureClientBatchedReads, measureClientSubscription, measureSinkReadPath } from './benchmark/read-phase.ts'
import { measureEndToEnd, measureLatency, measureMemoryWhileKafkaDown, measureStartup } from './benchmark/sink-phases.ts'

const argument = (name: string) => {
  const index = process.argv.indexOf(name)
  return index < 0 ? undefined : process.argv[index + 1]
}
const events = Number(argument('--events') ?? 1_000_000)
const reference = argument('--save-reference')
const baselineBinary = argument('--baseline')
const shape = { prefix: 'bench', streams: 1_000, dataBytes: 150 }
// The official client reads ~20–60k events/s: a sample is enough to know its rate, the whole backlog is not needed.
const clientSample = Math.min(events, 200_000)

const phase = (title: string) => process.stderr.write(`\n▶ ${title}\n`)
const started = performance.now()

phase('Starting the rig and seeding the backlog')
const emulator = await spawnKurrentDbEmulator()
const broker = await startKafkaTestBroker({ brokers: 3 })
const client = KurrentDBClient.connectionString(emulator.connectionString)
const createTopic = async () => {
  const topic = uniqueTopicName('bench')
  await broker.createTopic(topic, { partitions: 6, replicationFactor: 3 })
  return topic
}
try {
  const lastPosition = await emulator.seed({ events, streams: shape.streams, prefix: shape.prefix, dataBytes: shape.dataBytes })
  if (lastPosition === undefined) throw new Error('seeding the backlog failed')
  process.stderr.write(`  ${events.toLocaleString('en')} events of ~${shape.dataBytes} B over ${shape.streams} streams\n`)

  phase('1. Read-only: KurrentDB to an empty consumer')
  const sinkRead = await measureSinkReadPath(emulator.connectionString, `${shape.prefix}-`, events)
  const clientSubscription = await measureClientSubscription(emulator.connectionString, `${shape.prefix}-`, clientSample)
  const clientReads = await measureClientBatchedReads(emulator.connectionString, `${shape.prefix}-`, clientSample)

  phase('2. Produce-only: our Kafka engine with the sink\'s batching')
  const pool = benchmarkMessages(shape, 20_000)
  const produce = await measureEngineProduce(broker.bootstrapServers, await createTopic(), pool, Math.min(events, 500_000))

  phase('3. Native reference: kcat -P (librdkafka) with the same messages')
  const native = await measureKcatProduce(broker.bootstrapServers, await createTopic(), pool, events)

  phase('4. End-to-end: the backlog through dist/kafka-sink until confirmed and checkpointed')
  const context = { kurrentdb: emulator.connectionString, bootstrapServers: broker.bootstrapServers, broker, client, createTopic }
  const endToEnd = await measureEndToEnd(context, { prefix: shape.prefix, events, lastPosition, waitForBrokerAck: true })
  const endToEndNoAckWait = await measureEndToEnd(context, { prefix: shape.prefix, events, lastPosition, waitForBrokerAck: false })

  const baselineContext = baselineBinary === undefined ? undefined : { ...context, binary: baselineBinary }
  const baselineEndToEnd = baselineContext === undefined ? undefined : await measureEndToEnd(baselineContext, { prefix: shape.prefix, events, lastPosition, waitForBrokerAck: true })

  phase('5. Latency: append to Kafka at 1,000 events/s for 30 s')
  const latency = await measureLatency(context, { eventsPerSecond: 1_000, seconds: 30 })

  const baselineLatency = baselineContext === undefined ? undefined : await measureLatency(baselineContext, { eventsPerSecond: 1_000, seconds: 30 })

  phase('6. Memory while Kafka is down for 30 s with the backlog waiting')
  const kafkaDown = await measureMemoryWhileKafkaDown(context, { prefix: shape.prefix, seconds: 30 })

  phase('7. Start-up')
  const startup = await measureStartup(emulator.connectionString)
  const baselineStartup = baselineBinary === undefined ? undefined : await measureStartup(emulator.connectionString, 7, baselineBinary)

  const realKafkaSkipped = process.argv.includes('--no-real-kafka') ? 'skipped (--no-real-kafka)' : realKafkaUnavailableReason()
  let realKafka: Awaited<ReturnType<typeof measureRealKafka>> | undefined
  if (realKafkaSkipped === undefined) {
    phase('8. Real Apache Kafka (1 broker, 6 partitions): end-to-end, produce-only, kcat, Java producer')
    await broker.stop()
    realKafka = await measureRealKafka()
  } else {
    process.stderr.write(`\n▶ 8. Real Apache Kafka: ${realKafkaSkipped}\n`)
  }

  /**
   * Against a real broker; the mock is stopped first so the two never compete for the 2 cores. A fresh KurrentDB
   * too: the connectors of the phases above are stored in the first one, and a sink started on it resumes them
   * all, pointing at the stopped mock.
   */
  async function measureRealKafka() {
    const realEmulator = await spawnKurrentDbEmulator()
    const cluster = await startRealKafkaCluster({ brokers: 1, heap: '1g' })
    try {
      const realLastPosition = await realEmulator.seed({ events, streams: shape.streams, prefix: shape.prefix, dataBytes: shape.dataBytes })
      if (realLastPosition === undefined) throw new Error('seeding the backlog failed')
      const createRealTopic = async () => {
        const topic = uniqueTopicName('bench-real')
        await cluster.createTopic(topic, { partitions: 6, replicationFactor: 1 })
        return topic
      }
      const realContext = { kurrentdb: realEmulator.connectionString, bootstrapServers: cluster.bootstrapServers, client, createTopic: createRealTopic }
      const endToEnd = await measureEndToEnd(realContext, { prefix: shape.prefix, events, lastPosition: realLastPosition, waitForBrokerAck: true, label: 'real-kafka' })
      const produce = await measureEngineProduce(cluster.bootstrapServers, await createRealTopic(), pool, Math.min(events, 500_000))
      const kcat = await measureKcatProduce(cluster.bootstrapServers, await createRealTopic(), pool, events)
      process.stderr.write('  java: kafka-producer-perf-test\n')
      const java = await measureJavaProducerPerformance(cluster, await createRealTopic(), pool, events)
      return { endToEnd, produce, kcat, java }
    } finally {
      await Promise.allSettled([cluster.stop(), realEmulator.stop()])
    }
  }

  const minimumOfParts = Math.min(sinkRead.eventsPerSecond, produce.messagesPerSecond)
  // All processes share this machine's cores. Every event costs the read side's CPU (the reader and KurrentDB) and the
  // produce side's (the engine and the brokers), wherever it runs: with the cores full, no pipeline can go faster
  // than this, and its ratio to min(read, produce) is what the ratio target can reach here.
  const machineCeiling = Math.round((cpus().length * 1_000_000) / (sinkRead.machineUsPerEvent + produce.machineUsPerMessage))
  const baseline =
    baselineEndToEnd === undefined || baselineLatency === undefined || baselineStartup === undefined
      ? undefined
      : {
          binary: baselineBinary,
          end_to_end: { events_per_s: baselineEndToEnd.eventsPerSecond, seconds: baselineEndToEnd.seconds, cpu_us_per_event: baselineEndToEnd.cpuUsPerEvent, cpu_cores: baselineEndToEnd.cores },
          ratio_e2e_to_min: round(baselineEndToEnd.eventsPerSecond / minimumOfParts, 2),
          latency_ms: { p50: baselineLatency.p50, p99: baselineLatency.p99, max: baselineLatency.max, events: baselineLatency.events },
          cpu_cores_at_1k: baselineLatency.cores,
          rss_mb: { peak: baselineEndToEnd.peakRssMb, peak_private: baselineEndToEnd.peakPrivateMb },
          startup_ms: baselineStartup.medianMs,
        }
  const results = {
    date: new Date().toISOString(),
    machine: { host: hostname(), cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGb: round(totalmem() / 1024 ** 3) },
    backlog: { events, streams: shape.streams, eventBytes: shape.dataBytes },
    read_only: {
      events_per_s: sinkRead.eventsPerSecond,
      sink_read_path_events_per_s: sinkRead.eventsPerSecond,
      client_subscription_events_per_s: clientSubscription.eventsPerSecond,
      client_batched_reads_events_per_s: clientReads.eventsPerSecond,
      cpu_us_per_event: sinkRead.cpuUsPerEvent,
      client_subscription_cpu_us_per_event: clientSubscription.cpuUsPerEvent,
      client_batched_reads_cpu_us_per_event: clientReads.cpuUsPerEvent,
      machine_us_per_event: sinkRead.machineUsPerEvent,
      machine_cores: sinkRead.machineCores,
    },
    produce_only: { messages_per_s: produce.messagesPerSecond, cpu_us_per_message: produce.cpuUsPerMessage, machine_us_per_message: produce.machineUsPerMessage, machine_cores: produce.machineCores },
    native: { messages_per_s: native.messagesPerSecond },
    end_to_end: { events_per_s: endToEnd.eventsPerSecond, seconds: endToEnd.seconds, cpu_us_per_event: endToEnd.cpuUsPerEvent, cpu_cores: endToEnd.cores, main_thread_cores: endToEnd.mainThreadCores, machine_us_per_event: endToEnd.machineUsPerEvent, machine_cores: endToEnd.machineCores },
    machine_ceiling_events_per_s: machineCeiling,
    ratio_ceiling_to_min: round(machineCeiling / minimumOfParts, 2),
    end_to_end_no_ack_wait: { events_per_s: endToEndNoAckWait.eventsPerSecond, seconds: endToEndNoAckWait.seconds, cpu_us_per_event: endToEndNoAckWait.cpuUsPerEvent, cpu_cores: endToEndNoAckWait.cores },
    ratio_e2e_to_min: round(endToEnd.eventsPerSecond / minimumOfParts, 2),
    ratio_e2e_to_native: round(endToEnd.eventsPerSecond / native.messagesPerSecond, 3),
    latency_ms: { p50: latency.p50, p99: latency.p99, max: latency.max, events: latency.events },
    latency_cpu_us_per_event: latency.cpuUsPerEvent,
    cpu_cores_at_1k: latency.cores,
    rss_mb: { peak: Math.max(endToEnd.peakRssMb, endToEndNoAckWait.peakRssMb), peak_private: Math.max(endToEnd.peakPrivateMb, endToEndNoAckWait.peakPrivateMb), kafka_down: kafkaDown.peakMb, kafka_down_early: kafkaDown.earlyMb, kafka_down_late: kafkaDown.lateMb },
    real_kafka: realKafka === undefined ? { skipped: realKafkaSkipped } : {
      end_to_end: { events_per_s: realKafka.endToEnd.eventsPerSecond, seconds: realKafka.endToEnd.seconds },
      produce_only: { messages_per_s: realKafka.produce.messagesPerSecond },
      native_kcat: { messages_per_s: realKafka.kcat.messagesPerSecond },
      native_java: { messages_per_s: realKafka.java.messagesPerSecond, record_bytes: realKafka.java.recordBytes },
    },
    startup_ms: startup.medianMs,
    binary_mb: startup.binaryMb,
    ...(baseline === undefined ? {} : { baseline }),
    bench_seconds: round((performance.now() - started) / 1_000),
  }

  const format = (value: number) => value.toLocaleString('en')
  const rows: Array<[string, string, string]> = [
    ['read-only, sink read path', `${format(results.read_only.events_per_s)} events/s`, `${sinkRead.cpuUsPerEvent} µs CPU/event; machine ${sinkRead.machineUsPerEvent} µs, ${sinkRead.machineCores} cores`],
    ['read-only, client subscription', `${format(results.read_only.client_subscription_events_per_s)} events/s`, `sample of ${format(clientSample)}; ${clientSubscription.cpuUsPerEvent} µs CPU/event`],
    ['read-only, client batched reads', `${format(results.read_only.client_batched_reads_events_per_s)} events/s`, `sample of ${format(clientSample)}; ${clientReads.cpuUsPerEvent} µs CPU/event`],
    ['produce-only (our engine)', `${format(results.produce_only.messages_per_s)} msgs/s`, `${produce.cpuUsPerMessage} µs CPU/message; machine ${produce.machineUsPerMessage} µs, ${produce.machineCores} cores`],
    ['native reference (kcat -P)', `${format(results.native.messages_per_s)} msgs/s`, ''],
    ['end-to-end, waitForBrokerAck=true', `${format(results.end_to_end.events_per_s)} events/s`, 'target ≥ 100,000'],
    ['end-to-end, sink CPU per event', `${endToEnd.cpuUsPerEvent} µs`, `${endToEnd.cores} cores busy, of which the event loop ${endToEnd.mainThreadCores} of its 1; target ≤ 15 µs`],
    ['end-to-end, whole machine per event', `${endToEnd.machineUsPerEvent} µs`, `${endToEnd.machineCores} of ${cpus().length} cores busy (sink, KurrentDB, brokers)`],
    ['end-to-end, waitForBrokerAck=false', `${format(results.end_to_end_no_ack_wait.events_per_s)} events/s`, `${endToEndNoAckWait.cpuUsPerEvent} µs CPU/event`],
    ['end-to-end ÷ min(read, produce)', String(results.ratio_e2e_to_min), 'target ≥ 0.8'],
    ['machine ceiling', `${format(machineCeiling)} events/s`, `${cpus().length} cores ÷ (read + produce machine µs/event); ${results.ratio_ceiling_to_min} × min(read, produce)`],
    ['end-to-end ÷ native', String(results.ratio_e2e_to_native), ''],
    ['latency p50 / p99 / max', `${latency.p50} / ${latency.p99} / ${latency.max} ms`, `p99 target ≤ 50 ms; ${format(latency.events)} of ${format(latency.expected)} events`],
    ['sink CPU at 1,000 events/s', `${latency.cores} cores`, `${latency.cpuUsPerEvent} µs/event; target ≤ 0.05 cores`],
    ['peak RSS during end-to-end', `${results.rss_mb.peak} MB`, `target ≤ 200 MB; ${results.rss_mb.peak_private} MB of it private, the rest the executable's own pages`],
    ['RSS with Kafka down 30 s', `${kafkaDown.peakMb} MB peak`, `flat: ${kafkaDown.earlyMb} MB early → ${kafkaDown.lateMb} MB late`],
    ['start-up to /health/live', `${startup.medianMs} ms`, `median of ${startup.runs}; target ≤ 200 ms`],
    ['binary size', `${startup.binaryMb} MB`, ''],
    ...(realKafka === undefined
      ? [['real Kafka', String(realKafkaSkipped), ''] as [string, string, string]]
      : ([
          ['real Kafka: end-to-end, waitForBrokerAck=true', `${format(realKafka.endToEnd.eventsPerSecond)} events/s`, '1 broker, 6 partitions'],
          ['real Kafka: produce-only (our engine)', `${format(realKafka.produce.messagesPerSecond)} msgs/s`, ''],
          ['real Kafka: native reference (kcat -P)', `${format(realKafka.kcat.messagesPerSecond)} msgs/s`, ''],
          ['real Kafka: native reference (Java producer)', `${format(realKafka.java.messagesPerSecond)} msgs/s`, `kafka-producer-perf-test, ${realKafka.java.recordBytes} B records`],
        ] as Array<[string, string, string]>)),
  ]
  if (baseline !== undefined) {
    rows.push(
      ['baseline: end-to-end', `${format(baseline.end_to_end.events_per_s)} events/s`, `${baseline.end_to_end.cpu_us_per_event} µs CPU/event, ${baseline.end_to_end.cpu_cores} cores; ratio ${baseline.ratio_e2e_to_min}`],
      ['baseline: CPU at 1,000 events/s', `${baseline.cpu_cores_at_1k} cores`, ''],
      ['baseline: latency p50 / p99 / max', `${baseline.latency_ms.p50} / ${baseline.latency_ms.p99} / ${baseline.latency_ms.max} ms`, ''],
      ['baseline: peak RSS end-to-end', `${baseline.rss_mb.peak} MB`, `${baseline.rss_mb.peak_private} MB private`],
      ['baseline: start-up', `${baseline.startup_ms} ms`, ''],
    )
  }
  const widths = [0, 1, 2].map((column) => Math.max(...rows.map((row) => row[column]!.length)))
  console.log(`\nkafka-sink benchmark, ${results.date}, ${results.machine.cpus} cores (${results.machine.cpuModel}), ${format(events)}-event backlog\n`)
  for (const row of rows) console.log(`  ${row[0].padEnd(widths[0]!)}  ${row[1].padStart(widths[1]!)}  ${row[2]}`)
  console.log(`\n  total ${results.bench_seconds} s`)

  const json = JSON.stringify(results, null, 2) + '\n'
  await Bun.write(new URL('../bench/results/latest.json', import.meta.url), json)
  if (reference !== undefined) await Bun.write(new URL(`../bench/results/${reference}.json`, import.meta.url), json)
} finally {
  await client.dispose().catch(() => {})
  await Promise.allSettled([emulator.stop(), broker.stop()])
}
