// The Kafka port's contract, held against each engine: what reaches Kafka (bytes, keys and partitions, headers,
// compression, acks, order), how injected broker errors and outages come back as per-message outcomes, and close.
// The engine is chosen with KAFKA_SINK_TEST_KAFKA_ENGINE (platformatic, the default, runs in this process under
// Bun; librdkafka runs in a Node host process, the only runtime that loads it); ./scripts/test runs both.
// The cluster is the Kafka test broker (librdkafka's mock cluster, real protocol over TCP), which also injects the
// faults; tests that need fault injection say so (`withFaults`), so a cluster without it can run the rest.
// What reached Kafka is always read back with kcat, never with the code under test. Per-message outcomes
// are what the pipeline's checkpoints trust, so each failure mode checks both the outcome and the topic.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { silentLogger } from '../../../../src/observability/logger.ts'
import { createKafkaPort } from '../../../../src/sink/kafka/create-kafka-port.ts'
import { KafkaSendError } from '../../../../src/sink/kafka/errors.ts'
import type { KafkaEngineName } from '../../../../src/sink/kafka/kafka-engines.ts'
import type { CompressionType, KafkaMessage, KafkaPort, KafkaProducerConfig, MessageOutcome } from '../../../../src/sink/kafka/port.ts'
import { startKafkaPortHost, type KafkaPortHost } from '../../../support/kafka-port-host/remote-kafka-port.ts'
import { createUniqueTopic, startKafkaTestBroker, uniqueTopicName, type KafkaTestBroker } from '../../../support/kafka-test-broker.ts'
import { expectNoGaps, expectPerKeyOrder, produceWithKcat, readTopicWithKcat, type KcatRecord } from '../../../support/kcat.ts'
import { testProducerConfig } from '../../../support/producer-config.ts'
import { freePort } from '../../../support/free-port.ts'

// These tests wait on processes and on delivery timeouts of a few seconds, on a shared machine.
setDefaultTimeout(60_000)

const engine = (process.env.KAFKA_SINK_TEST_KAFKA_ENGINE ?? 'platformatic') as KafkaEngineName

/**
 * The Kafka cluster the suite runs against. Every test needs its address and a way to create topics; the tests
 * that inject faults (testWithFaults) also need the mock's fault commands, and are skipped on a cluster without
 * them. A real cluster plugs in here with `faults: undefined`.
 */
interface ConformanceCluster {
  readonly bootstrapServers: string
  createTopic(name: string, options: { partitions: number; replicationFactor: number }): Promise<void>
  readonly faults: KafkaTestBroker | undefined
  stop(): Promise<void>
}

async function startConformanceCluster(): Promise<ConformanceCluster> {
  const mock = await startKafkaTestBroker({ brokers: 3 })
  return { bootstrapServers: mock.bootstrapServers, createTopic: (name, options) => mock.createTopic(name, options), faults: mock, stop: () => mock.stop() }
}

// The mock is the only cluster today; fault tests run wherever it does.
const clusterHasFaults = true
const testWithFaults = clusterHasFaults ? test : test.skip

let broker: ConformanceCluster
let host: KafkaPortHost | undefined
const ports: KafkaPort[] = []

function faults(): KafkaTestBroker {
  if (broker.faults === undefined) throw new Error('this cluster cannot inject faults')
  return broker.faults
}

beforeAll(async () => {
  ;[broker, host] = await Promise.all([startConformanceCluster(), engine === 'platformatic' ? undefined : startKafkaPortHost(engine)])
})
afterAll(async () => {
  await Promise.allSettled(ports.map((port) => port.close({ flush: false })))
  await host?.stop()
  await broker?.stop()
})

function configFor(overrides: Partial<KafkaProducerConfig> = {}): KafkaProducerConfig {
  return testProducerConfig(broker.bootstrapServers, overrides)
}

/** A port of the engine under test, which afterAll closes even if the test fails half-way. */
async function openPort(overrides: Partial<KafkaProducerConfig> = {}): Promise<KafkaPort> {
  const port = host === undefined ? createKafkaPort(configFor(overrides), silentLogger, engine) : await host.openPort(configFor(overrides))
  ports.push(port)
  return port
}

const newTopic = (prefix: string, partitions = 6) => createUniqueTopic(broker, prefix, partitions)

function read(topic: string, expectedCount?: number, timeoutMs = 20_000): Promise<KcatRecord[]> {
  return readTopicWithKcat({ bootstrapServers: broker.bootstrapServers, topic, timeoutMs, ...(expectedCount === undefined ? {} : { expectedCount }) })
}

const noHeaders: ReadonlyMap<string, Buffer> = new Map()

/** Messages `${prefix}-0…` with keys spread over `keyCount` keys (null keys when keyCount is 0). */
function messages(prefix: string, count: number, keyCount = 10): KafkaMessage[] {
  return Array.from({ length: count }, (_, index) => ({
    key: keyCount === 0 ? null : Buffer.from(`key-${index % keyCount}`),
    value: Buffer.from(`${prefix}-${index}`),
    headers: noHeaders,
    timestamp: BigInt(Date.now()),
  }))
}

function values(batch: readonly KafkaMessage[]): string[] {
  return batch.map((message) => message.value.toString())
}

function expectAllDelivered(outcomes: readonly MessageOutcome[], count: number): void {
  expect(outcomes).toHaveLength(count)
  const failures = outcomes.filter((outcome) => !outcome.delivered)
  expect(failures.map((outcome) => (outcome.delivered ? '' : `${outcome.error.code}: ${outcome.error.message}`))).toEqual([])
}

function failureOf(outcome: MessageOutcome | undefined): KafkaSendError {
  if (outcome === undefined || outcome.delivered) throw new Error(`expected a failed outcome, got ${JSON.stringify(outcome)}`)
  return outcome.error
}

describe(`${engine} engine: what reaches Kafka`, () => {
  test('value bytes, key, headers (names and UTF-8 values) and timestamp arrive unchanged', async () => {
    const topic = await newTopic('engine-fidelity')
    const port = await openPort()
    await port.connect()
    const binary = Buffer.from([0x00, 0x01, 0x0a, 0x0d, 0x22, 0x5c, 0x7f, 0x80, 0xc3, 0xff, 0xfe])
    const batch: KafkaMessage[] = [
      {
        key: Buffer.from('customer-1'),
        value: Buffer.from('{"name":"Zoë","city":"Zürich","emoji":"🚀"}'),
        headers: new Map([
          ['es-event-type', Buffer.from('CustomerRenamed')],
          ['x-ünïcode', Buffer.from('välue ✓')],
          ['empty', Buffer.alloc(0)],
        ]),
        timestamp: 1_700_000_000_123n,
      },
      { key: null, value: binary, headers: noHeaders, timestamp: 1_700_000_000_456n },
      { key: Buffer.from('customer-2'), value: Buffer.alloc(0), headers: noHeaders, timestamp: 1_700_000_000_789n },
    ]
    expectAllDelivered(await port.send(topic, batch), 3)

    const records = await read(topic, 3)
    expect(records).toHaveLength(3)
    const byTimestamp = new Map(records.map((record) => [record.timestamp, record]))
    const first = byTimestamp.get(1_700_000_000_123)
    expect(first?.key).toBe('customer-1')
    expect(first?.valueBytes?.equals(batch[0]!.value)).toBe(true)
    expect(first?.headers).toEqual([
      ['es-event-type', 'CustomerRenamed'],
      ['x-ünïcode', 'välue ✓'],
      ['empty', ''],
    ])
    const second = byTimestamp.get(1_700_000_000_456)
    expect(second?.key).toBeNull()
    expect(second?.valueBytes?.equals(binary)).toBe(true)
    expect(second?.headers).toEqual([])
    const third = byTimestamp.get(1_700_000_000_789)
    expect(third?.key).toBe('customer-2')
    expect(third?.value).toBe('')
  })

  test.each<[CompressionType, number]>([
    ['none', -1],
    ['gzip', -1],
    ['gzip', 1],
    ['snappy', -1],
    ['lz4', -1],
    ['zstd', -1],
    ['zstd', 6],
    ['zstd', 12],
    ['lz4', 9],
  ])('compression %s (level %d) is readable by kcat', async (type, level) => {
    const topic = await newTopic(`engine-${type}`)
    const port = await openPort({ compression: { type, level } })
    const batch = messages(`${type}-${level}`, 200)
    expectAllDelivered(await port.send(topic, batch), batch.length)
    const records = await read(topic, batch.length)
    expect(records.map((record) => record.value).sort()).toEqual(values(batch).sort())
    await port.close({ flush: true })
  })

  test.each(['all', 'leader'] as const)('acks=%s delivers', async (acks) => {
    const topic = await newTopic(`engine-acks-${acks}`)
    const port = await openPort({ acks })
    await port.connect()
    const batch = messages(`acks-${acks}`, 50)
    expectAllDelivered(await port.send(topic, batch), batch.length)
    expectNoGaps(await read(topic, batch.length), values(batch))
    await port.close({ flush: true })
  })

  test("a key lands on the partition librdkafka's murmur2_random partitioner picks for it", async () => {
    const ours = await newTopic('engine-keys-ours')
    const theirs = await newTopic('engine-keys-kcat')
    const keys = Array.from({ length: 60 }, (_, index) => `stream-${index * 7919}`)
    const port = await openPort()
    const batch = keys.map((key) => ({ key: Buffer.from(key), value: Buffer.from(key), headers: noHeaders, timestamp: BigInt(Date.now()) }))
    expectAllDelivered(await port.send(ours, batch), keys.length)
    const produced = await produceWithKcat({
      bootstrapServers: broker.bootstrapServers,
      topic: theirs,
      lines: keys.map((key) => `${key}|${key}`),
      keyDelimiter: '|',
      config: { partitioner: 'murmur2_random' },
    })
    expect(produced).toMatchObject({ ok: true })
    const partitionsOf = (records: KcatRecord[]) => Object.fromEntries(records.map((record) => [record.key, record.partition]))
    const ourPartitions = partitionsOf(await read(ours, keys.length))
    const kcatPartitions = partitionsOf(await read(theirs, keys.length))
    expect(Object.keys(ourPartitions)).toHaveLength(keys.length)
    expect(ourPartitions).toEqual(kcatPartitions)
    expect(new Set(Object.values(ourPartitions)).size).toBeGreaterThan(1)
  })

  test('per-key order holds across batches sent one after another', async () => {
    const topic = await newTopic('engine-order')
    const port = await openPort()
    const all: KafkaMessage[] = []
    for (let batchIndex = 0; batchIndex < 5; batchIndex++) {
      const batch = Array.from({ length: 400 }, (_, index) => {
        const sequence = batchIndex * 400 + index
        return { key: Buffer.from(`key-${sequence % 13}`), value: Buffer.from(String(sequence)), headers: noHeaders, timestamp: BigInt(Date.now()) }
      })
      all.push(...batch)
      expectAllDelivered(await port.send(topic, batch), batch.length)
    }
    const records = await read(topic, all.length)
    expectNoGaps(records, values(all))
    expectPerKeyOrder(records, (record) => Number(record.value))
    await port.close({ flush: true })
  })
})

describe(`${engine} engine: injected broker errors`, () => {
  // The contract the pipeline relies on: the broker losing the producer's state is never fatal. An engine may
  // recover inside the send (platformatic re-initialises its producer id) or report the messages as transient
  // PRODUCER_STATE_LOST (librdkafka treats an out-of-order sequence as fatal for its producer and the port
  // replaces it); either way, sending the undelivered ones again delivers them all.
  testWithFaults.each(['UNKNOWN_PRODUCER_ID', 'OUT_OF_ORDER_SEQUENCE_NUMBER'] as const)(
    '%s once on Produce: delivered, or transient PRODUCER_STATE_LOST and delivered when sent again',
    async (errorName) => {
      const topic = await newTopic(`engine-${errorName.toLowerCase()}`, 1)
      const port = await openPort()
      await port.connect()
      await faults().pushRequestErrors('Produce', [errorName])
      const batch = messages(`once-${errorName}`, 20)
      const outcomes = await port.send(topic, batch)
      const undelivered = batch.filter((_, index) => !outcomes[index]!.delivered)
      for (const outcome of outcomes) {
        if (!outcome.delivered) expect(outcome.error).toMatchObject({ code: 'PRODUCER_STATE_LOST', transient: true })
      }
      if (undelivered.length > 0) expectAllDelivered(await port.send(topic, undelivered), undelivered.length)
      expectNoGaps(await read(topic, batch.length), values(batch))
    },
  )

  testWithFaults('MESSAGE_TOO_LARGE: fatal outcomes naming it, and nothing of the batch in the topic', async () => {
    const topic = await newTopic('engine-too-large', 1)
    const port = await openPort()
    await port.connect()
    await faults().pushRequestErrors('Produce', ['MESSAGE_TOO_LARGE'])
    const batch = messages('too-large', 10)
    const outcomes = await port.send(topic, batch)
    for (const outcome of outcomes) {
      const error = failureOf(outcome)
      expect(error).toBeInstanceOf(KafkaSendError)
      expect(error).toMatchObject({ code: 'MESSAGE_TOO_LARGE', transient: false, kafkaName: 'MESSAGE_TOO_LARGE' })
    }
    const marker = messages('marker', 1)
    expectAllDelivered(await port.send(topic, marker), 1)
    expect((await read(topic, 1)).map((record) => record.value)).toEqual(['marker-0'])
  })

  testWithFaults('a failure on one broker fails only the messages of its partitions; the others are delivered', async () => {
    const partitions = 6
    const topic = await newTopic('engine-partial', partitions)
    // The mock picks each partition's leader at random: all six on one broker (1 in 243) would make one request,
    // which the one injected error fails whole. Spread the leaders over the brokers before the port reads metadata.
    const cluster = faults()
    for (let partition = 0; partition < partitions; partition++) await cluster.setPartitionLeader(topic, partition, cluster.brokerIds[partition % cluster.brokerIds.length]!)
    const port = await openPort()
    await port.connect()
    await faults().pushRequestErrors('Produce', ['MESSAGE_TOO_LARGE'])
    const batch = messages('partial', 120, 40)
    const outcomes = await port.send(topic, batch)
    const deliveredValues = batch.filter((_, index) => outcomes[index]?.delivered === true).map((message) => message.value.toString())
    expect(deliveredValues.length).toBeGreaterThan(0)
    expect(deliveredValues.length).toBeLessThan(batch.length)
    for (const outcome of outcomes) {
      if (!outcome.delivered) expect(outcome.error.kafkaName).toBe('MESSAGE_TOO_LARGE')
    }
    const records = await read(topic, deliveredValues.length)
    expect(records.map((record) => record.value).sort()).toEqual(deliveredValues.sort())
  })

  testWithFaults('TOPIC_AUTHORIZATION_FAILED: fatal AUTHORIZATION_FAILED', async () => {
    const topic = await newTopic('engine-authorization', 1)
    const port = await openPort()
    await port.connect()
    await faults().pushRequestErrors('Produce', ['TOPIC_AUTHORIZATION_FAILED'])
    const outcomes = await port.send(topic, messages('denied', 5))
    for (const outcome of outcomes) {
      expect(failureOf(outcome)).toMatchObject({
        code: 'AUTHORIZATION_FAILED',
        transient: false,
        kafkaName: 'TOPIC_AUTHORIZATION_FAILED',
      })
    }
  })

  testWithFaults('NOT_LEADER_OR_FOLLOWER and NOT_ENOUGH_REPLICAS are retried inside the engine and delivered', async () => {
    const topic = await newTopic('engine-retriable', 1)
    const port = await openPort()
    await port.connect()
    await faults().pushRequestErrors('Produce', ['NOT_LEADER_OR_FOLLOWER', 'NOT_ENOUGH_REPLICAS', 'NOT_ENOUGH_REPLICAS_AFTER_APPEND'])
    const batch = messages('retried', 30)
    expectAllDelivered(await port.send(topic, batch), batch.length)
    expectNoGaps(await read(topic, batch.length), values(batch))
  })

  testWithFaults('dropped connections (the broker hangs up on Produce) are retried and delivered', async () => {
    const topic = await newTopic('engine-disconnect', 1)
    const port = await openPort()
    await port.connect()
    await faults().pushRequestErrors('Produce', ['DISCONNECT', 'DISCONNECT'])
    const batch = messages('reconnected', 10)
    expectAllDelivered(await port.send(topic, batch), batch.length)
    expectNoGaps(await read(topic, batch.length), values(batch))
  })

  testWithFaults('messageSendMaxRetries 0: a dropped connection is a transient outcome at once', async () => {
    const topic = await newTopic('engine-no-retries', 1)
    const port = await openPort({ messageSendMaxRetries: 0 })
    await port.connect()
    await faults().pushRequestErrors('Produce', ['DISCONNECT'])
    for (const outcome of await port.send(topic, messages('not-retried', 5))) {
      expect(failureOf(outcome)).toMatchObject({ code: 'BROKERS_UNAVAILABLE', transient: true, kafkaName: undefined })
    }
  })

  testWithFaults('an unknown topic: fatal UNKNOWN_TOPIC once the delivery timeout has given it time to appear', async () => {
    const topic = uniqueTopicName('engine-unknown-topic')
    await faults().setTopicError(topic, 'UNKNOWN_TOPIC_OR_PARTITION')
    const port = await openPort({ deliveryTimeoutMs: 2_000 })
    const outcomes = await port.send(topic, messages('nowhere', 3))
    for (const outcome of outcomes) {
      // librdkafka reports its own _UNKNOWN_TOPIC (no Kafka name) for a topic metadata keeps calling unknown.
      expect(failureOf(outcome)).toMatchObject({ code: 'UNKNOWN_TOPIC', transient: false })
    }
  })
})

describe(`${engine} engine: unavailable brokers`, () => {
  testWithFaults('all brokers down: transient outcomes within the delivery timeout, then delivery once they are back', async () => {
    const topic = await newTopic('engine-all-down')
    const port = await openPort({ deliveryTimeoutMs: 3_000 })
    await port.connect()
    await faults().setAllBrokersDown()
    let outcomes: readonly MessageOutcome[]
    try {
      outcomes = await port.send(topic, messages('while-down', 20))
    } finally {
      await faults().setAllBrokersUp()
    }
    expect(outcomes).toHaveLength(20)
    for (const outcome of outcomes) {
      const error = failureOf(outcome)
      expect(error.transient, `${error.code}: ${error.message}`).toBe(true)
      expect(['BROKERS_UNAVAILABLE', 'DELIVERY_TIMED_OUT', 'REQUEST_TIMED_OUT']).toContain(error.code)
    }
    const after = messages('after-up', 20)
    expectAllDelivered(await port.send(topic, after), after.length)
    expectNoGaps(await read(topic, after.length), values(after))
  })

  testWithFaults('brokers down, then up within the delivery timeout: the send is delivered', async () => {
    const topic = await newTopic('engine-down-up')
    const port = await openPort({ deliveryTimeoutMs: 30_000, reconnectBackoffMaxMs: 300 })
    await port.connect()
    await faults().setAllBrokersDown()
    const batch = messages('down-up', 50)
    const sending = port.send(topic, batch)
    try {
      await Bun.sleep(1_500) // sequencing only: let the engine hit the outage before the brokers return
    } finally {
      await faults().setAllBrokersUp()
    }
    expectAllDelivered(await sending, batch.length)
    expectNoGaps(await read(topic, batch.length), values(batch))
  })

  testWithFaults('brokers that answer too slowly: DELIVERY_TIMED_OUT at the delivery timeout, then a fresh client delivers', async () => {
    const topic = await newTopic('engine-slow')
    const port = await openPort({ deliveryTimeoutMs: 1_500, requestTimeoutMs: 30_000 })
    await port.connect()
    await faults().setRoundTripTime(-1, 5_000)
    let outcomes: readonly MessageOutcome[]
    try {
      outcomes = await port.send(topic, messages('slow', 10))
    } finally {
      await faults().setRoundTripTime(-1, 0)
    }
    for (const outcome of outcomes) {
      expect(failureOf(outcome)).toMatchObject({ code: 'DELIVERY_TIMED_OUT', transient: true })
    }
    const after = messages('fast-again', 10)
    expectAllDelivered(await port.send(topic, after), after.length)
    expectNoGaps(await read(topic, after.length), values(after))
  })

  test('connect() with no broker listening rejects with a transient KafkaSendError', async () => {
    const closedPort = await freePort()
    const port = await openPort({ bootstrapServers: [`127.0.0.1:${closedPort}`], deliveryTimeoutMs: 2_000 })
    const error = await port.connect().then(
      () => undefined,
      (rejection: unknown) => rejection,
    )
    expect(error).toBeInstanceOf(KafkaSendError)
    expect(error).toMatchObject({ transient: true, code: 'BROKERS_UNAVAILABLE' })
  })

  test('brokerAddressFamily v4 reaches the broker through a host name; v6 cannot (it listens on 127.0.0.1)', async () => {
    const topic = await newTopic('engine-family')
    const byName = broker.bootstrapServers.split(',').map((address) => address.replace('127.0.0.1', 'localhost'))
    const v4 = await openPort({ bootstrapServers: byName, brokerAddressFamily: 'v4' })
    expectAllDelivered(await v4.send(topic, messages('v4', 5)), 5)
    const v6 = await openPort({ bootstrapServers: byName, brokerAddressFamily: 'v6', deliveryTimeoutMs: 2_000 })
    for (const outcome of await v6.send(topic, messages('v6', 5))) {
      expect(failureOf(outcome)).toMatchObject({ transient: true, code: 'BROKERS_UNAVAILABLE' })
    }
    expect((await read(topic, 5)).map((record) => record.value).sort()).toEqual(values(messages('v4', 5)).sort())
  })
})

describe(`${engine} engine: close`, () => {
  test('close({ flush: true }) right after send delivers everything that was sent', async () => {
    const topic = await newTopic('engine-flush')
    const port = await openPort()
    const batches = [messages('flush-a', 300), messages('flush-b', 300), messages('flush-c', 300)]
    const sends = batches.map((batch) => port.send(topic, batch))
    await port.close({ flush: true })
    for (const [index, sending] of sends.entries()) expectAllDelivered(await sending, batches[index]!.length)
    const all = batches.flat()
    expectNoGaps(await read(topic, all.length), values(all))
  })

  test('close is idempotent, and send after close is a programming error (rejection)', async () => {
    const port = await openPort()
    await port.connect()
    const first = port.close({ flush: true })
    const second = port.close({ flush: false })
    await Promise.all([first, second])
    await port.close({ flush: true })
    await expect(port.send('any-topic', messages('late', 1))).rejects.toThrow(/after close/)
    await expect(port.connect()).rejects.toBeInstanceOf(KafkaSendError)
  })

  testWithFaults('close({ flush: false }) during an outage settles the in-flight send as CLIENT_CLOSED at once', async () => {
    const topic = await newTopic('engine-close-now')
    const port = await openPort({ deliveryTimeoutMs: 60_000 })
    await port.connect()
    await faults().setAllBrokersDown()
    try {
      const sending = port.send(topic, messages('abandoned', 10))
      await Bun.sleep(500) // sequencing only: the send is retrying when the port closes
      await port.close({ flush: false })
      for (const outcome of await sending) {
        expect(failureOf(outcome)).toMatchObject({ code: 'CLIENT_CLOSED', transient: true })
      }
    } finally {
      await faults().setAllBrokersUp()
    }
  })
})

