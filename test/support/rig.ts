/**
 * The end-to-end rig in one call: a KurrentDB emulator (its own process, so tests can take it down), a Kafka (the
 * librdkafka mock cluster, or a real Apache Kafka with `kafka: 'real'`), a KurrentDB client for appending, and
 * starters for `dist/kafka-sink`. Everything started is stopped by `close()`; e2e files call it in afterAll.
 */
import { jsonEvent, KurrentDBClient } from '@kurrent/kurrentdb-client'
import { startKafkaTestBroker, uniqueTopicName, type KafkaTestBroker } from './kafka-test-broker.ts'
import { spawnKurrentDbEmulator, type KurrentDbEmulatorProcess } from './kurrentdb-emulator-process.ts'
import { readTopicWithKcat, type KcatRecord } from './kcat.ts'
import { realKafkaUnavailableReason, startRealKafkaCluster, type RealKafkaCluster } from './real-kafka-cluster.ts'
import { sinkApi, startSinkProcess, type SinkProcess, type StartSinkOptions } from './sink-process.ts'

/** Which Kafka a rig runs: librdkafka's mock cluster (fault injection) or a real Apache Kafka (KRaft). */
export type RigKafka = 'mock' | 'real'

/**
 * The Kafkas e2e files that check behaviour both share run against: always the mock, and the real broker where
 * Java 17+ and its jars are there (scripts/bootstrap provides them). A test file names the cluster in its
 * describe blocks, so every test says which one it used.
 */
export function rigKafkas(): RigKafka[] {
  return realKafkaUnavailableReason() === undefined ? ['mock', 'real'] : ['mock']
}

export interface Rig {
  readonly emulator: KurrentDbEmulatorProcess
  readonly kafka: RigKafka
  /** The PLAINTEXT bootstrap list of whichever Kafka runs. */
  readonly bootstrapServers: string
  /** The mock cluster; only on a `kafka: 'mock'` rig (reading it on a real rig throws). */
  readonly broker: KafkaTestBroker
  /** The real cluster; only on a `kafka: 'real'` rig (reading it on a mock rig throws). */
  readonly realKafka: RealKafkaCluster
  readonly client: KurrentDBClient
  /** Creates a topic no other test uses (6 partitions, replication 3 unless told otherwise). */
  createTopic(options?: { partitions?: number; replicationFactor?: number; prefix?: string; /** Topic configs (real Kafka only). */ config?: Readonly<Record<string, string>> }): Promise<string>
  /** Creates a topic with this exact name (6 partitions, replication 3 or the broker count, unless told otherwise). */
  createTopicNamed(name: string, options?: { partitions?: number; replicationFactor?: number; config?: Readonly<Record<string, string>> }): Promise<void>
  startSink(options?: Omit<StartSinkOptions, 'kurrentdb'>): Promise<SinkProcess & { api: ReturnType<typeof sinkApi> }>
  /** Appends `count` JSON events `{ seq, stream }` to `stream`, in batches, with optional metadata. */
  appendEvents(stream: string, count: number, options?: { type?: string; firstSeq?: number; metadata?: Record<string, unknown> }): Promise<void>
  /** With `countDistinct`, `expectedCount` counts distinct values of it (duplicates do not end the wait). */
  readTopic(topic: string, expectedCount?: number, timeoutMs?: number, countDistinct?: (record: KcatRecord) => string): Promise<KcatRecord[]>
  close(): Promise<void>
}

export async function startRig(
  options: { brokers?: number; kafka?: RigKafka; /** SASL users of a real Kafka. */ users?: Readonly<Record<string, string>>; serverVersion?: string } = {},
): Promise<Rig> {
  const kafka = options.kafka ?? 'mock'
  const brokerCount = options.brokers ?? (kafka === 'mock' ? 3 : 1)
  if (kafka === 'real' && brokerCount !== 1 && brokerCount !== 3) throw new Error('a real Kafka rig runs 1 or 3 brokers')
  const emulatorOptions = options.serverVersion === undefined ? {} : { serverVersion: options.serverVersion }
  const [emulator, cluster] = await Promise.all([
    spawnKurrentDbEmulator(emulatorOptions),
    kafka === 'mock' ? startKafkaTestBroker({ brokers: brokerCount }) : startRealKafkaCluster({ brokers: brokerCount as 1 | 3, ...(options.users ? { users: options.users } : {}) }),
  ])
  const mock = kafka === 'mock' ? (cluster as KafkaTestBroker) : undefined
  const real = kafka === 'real' ? (cluster as RealKafkaCluster) : undefined
  const client = KurrentDBClient.connectionString(emulator.connectionString)
  const sinks: SinkProcess[] = []
  const bootstrapServers = mock?.bootstrapServers ?? real!.bootstrapServers
  const createTopicNamed = async (name: string, topicOptions: { partitions?: number; replicationFactor?: number; config?: Readonly<Record<string, string>> }) => {
    // A real cluster cannot replicate beyond its broker count; the mock accepts any factor.
    const replicationFactor = Math.min(topicOptions.replicationFactor ?? 3, kafka === 'real' ? brokerCount : Infinity)
    if (mock !== undefined) await mock.createTopic(name, { partitions: topicOptions.partitions ?? 6, replicationFactor })
    else await real!.createTopic(name, { partitions: topicOptions.partitions ?? 6, replicationFactor, ...(topicOptions.config ? { config: topicOptions.config } : {}) })
  }
  return {
    emulator,
    kafka,
    bootstrapServers,
    get broker(): KafkaTestBroker {
      if (mock === undefined) throw new Error('this rig runs a real Kafka: the mock broker (fault injection) is not there')
      return mock
    },
    get realKafka(): RealKafkaCluster {
      if (real === undefined) throw new Error('this rig runs the mock Kafka, not a real one')
      return real
    },
    client,
    createTopic: async (topicOptions = {}) => {
      const topic = uniqueTopicName(topicOptions.prefix ?? 'sink')
      await createTopicNamed(topic, topicOptions)
      return topic
    },
    createTopicNamed: (name, topicOptions = {}) => createTopicNamed(name, topicOptions),
    startSink: async (sinkOptions = {}) => {
      const sink = await startSinkProcess({ kurrentdb: emulator.connectionString, ...sinkOptions })
      sinks.push(sink)
      return { ...sink, api: sinkApi(sink.baseUrl) }
    },
    appendEvents: async (stream, count, eventOptions = {}) => {
      const first = eventOptions.firstSeq ?? 0
      for (let offset = 0; offset < count; offset += 500) {
        const events = []
        for (let seq = first + offset; seq < first + Math.min(count, offset + 500); seq++) {
          events.push(jsonEvent({ type: eventOptions.type ?? 'TestEvent', data: { seq, stream }, ...(eventOptions.metadata ? { metadata: eventOptions.metadata } : {}) }))
        }
        await client.appendToStream(stream, events)
      }
    },
    readTopic: (topic, expectedCount, timeoutMs = 60_000, countDistinct) =>
      readTopicWithKcat({ bootstrapServers, topic, timeoutMs, ...(expectedCount === undefined ? {} : { expectedCount }), ...(countDistinct === undefined ? {} : { countDistinct }) }),
    close: async () => {
      await Promise.allSettled(sinks.map((sink) => sink.stop('SIGKILL')))
      await client.dispose().catch(() => {})
      await Promise.allSettled([emulator.stop(), (mock ?? real!).stop()])
    },
  }
}

/** The `{ seq, stream }` payload the rig appends, read back from a Kafka record. */
export function payloadOf(record: KcatRecord): { seq: number; stream: string } {
  return JSON.parse(record.value) as { seq: number; stream: string }
}

/** The connector settings most tests start from: everything from the beginning, to `topic`. */
export function baseSettings(topic: string, bootstrapServers: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    instanceTypeName: 'kafka-sink',
    topic,
    bootstrapServers,
    'subscription:initialPosition': 'earliest',
    ...extra,
  }
}
