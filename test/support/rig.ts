/**
 * The end-to-end rig in one call: a KurrentDB emulator (its own process, so tests can take it down), a Kafka test
 * broker, a KurrentDB client for appending, and starters for `dist/kafka-sink`. Everything started is stopped by
 * `close()`; e2e files call it in afterAll.
 */
import { jsonEvent, KurrentDBClient } from '@kurrent/kurrentdb-client'
import { startKafkaTestBroker, uniqueTopicName, type KafkaTestBroker } from './kafka-test-broker.ts'
import { spawnKurrentDbEmulator, type KurrentDbEmulatorProcess } from './kurrentdb-emulator-process.ts'
import { readTopicWithKcat, type KcatRecord } from './kcat.ts'
import { sinkApi, startSinkProcess, type SinkProcess, type StartSinkOptions } from './sink-process.ts'

export interface Rig {
  readonly emulator: KurrentDbEmulatorProcess
  readonly broker: KafkaTestBroker
  readonly client: KurrentDBClient
  /** Creates a topic no other test uses (6 partitions, replication 3 unless told otherwise). */
  createTopic(options?: { partitions?: number; replicationFactor?: number; prefix?: string }): Promise<string>
  startSink(options?: Omit<StartSinkOptions, 'kurrentdb'>): Promise<SinkProcess & { api: ReturnType<typeof sinkApi> }>
  /** Appends `count` JSON events `{ seq, stream }` to `stream`, in batches, with optional metadata. */
  appendEvents(stream: string, count: number, options?: { type?: string; firstSeq?: number; metadata?: Record<string, unknown> }): Promise<void>
  readTopic(topic: string, expectedCount?: number, timeoutMs?: number): Promise<KcatRecord[]>
  close(): Promise<void>
}

export async function startRig(options: { brokers?: number; serverVersion?: string } = {}): Promise<Rig> {
  const emulatorOptions = options.serverVersion === undefined ? {} : { serverVersion: options.serverVersion }
  const [emulator, broker] = await Promise.all([spawnKurrentDbEmulator(emulatorOptions), startKafkaTestBroker({ brokers: options.brokers ?? 3 })])
  const client = KurrentDBClient.connectionString(emulator.connectionString)
  const sinks: SinkProcess[] = []
  return {
    emulator,
    broker,
    client,
    createTopic: async (topicOptions = {}) => {
      const topic = uniqueTopicName(topicOptions.prefix ?? 'sink')
      await broker.createTopic(topic, { partitions: topicOptions.partitions ?? 6, replicationFactor: topicOptions.replicationFactor ?? 3 })
      return topic
    },
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
    readTopic: (topic, expectedCount, timeoutMs = 30_000) => readTopicWithKcat({ bootstrapServers: broker.bootstrapServers, topic, timeoutMs, ...(expectedCount === undefined ? {} : { expectedCount }) }),
    close: async () => {
      await Promise.allSettled(sinks.map((sink) => sink.stop('SIGKILL')))
      await client.dispose().catch(() => {})
      await Promise.allSettled([emulator.stop(), broker.stop()])
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
