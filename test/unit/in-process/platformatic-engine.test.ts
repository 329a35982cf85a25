// The platformatic engine through its Kafka port, in this process, against the Kafka test broker (librdkafka's
// mock cluster, real protocol over TCP) and a SASL security front in front of it, both started once for the file
// (one TLS case runs the engine in a host process, for its trust store). Timeouts are short (the mock answers in
// milliseconds), so the file runs in seconds: it is the stage the mutation run uses for the engine's I/O. What reached
// Kafka is read back with kcat, never with the code under test; expectations come from the port's contract (port.ts)
// and the user documentation.
import { afterAll, afterEach, beforeAll, describe, expect, mock, setDefaultTimeout, test } from 'bun:test'
import * as dns from 'node:dns/promises'
import type { LookupOptions } from 'node:dns'
import zlib from 'node:zlib'
import { createLogger, type Logger } from '../../../src/observability/logger.ts'
import { KafkaSendError } from '../../../src/sink/kafka/errors.ts'
import { createPlatformaticKafkaPort } from '../../../src/sink/kafka/platformatic-engine.ts'
import { encodeHeaderField, RecordArena } from '../../../src/sink/kafka/record-arena.ts'
import type { KafkaMessage, KafkaPort, KafkaProducerConfig, MessageOutcome } from '../../../src/sink/kafka/port.ts'
import { startKafkaPortHost } from '../../support/kafka-port-host/remote-kafka-port.ts'
import { startKafkaSecurityFront, type KafkaSecurityFront } from '../../support/kafka-security-front.ts'
import { createUniqueTopic, startKafkaTestBroker, uniqueTopicName, type KafkaErrorName, type KafkaTestBroker } from '../../support/kafka-test-broker.ts'
import { readTopicWithKcat, type KcatRecord } from '../../support/kcat.ts'
import partitionVectors from '../sink/kafka/partition-vectors.json'
import { testProducerConfig } from '../../support/producer-config.ts'
import { freePort } from '../../support/free-port.ts'

// A safety net, not an expectation: every operation here takes milliseconds against the mock.
setDefaultTimeout(10_000)

/**
 * A DNS server slower than the delivery timeout, which the rig has no other way to make: lookups of this name wait
 * until the test releases them, then answer 127.0.0.1. Every other name resolves as usual.
 */
const heldHost = 'held-lookup.test'
const realLookup = dns.lookup
const heldLookups: (() => void)[] = []
mock.module('node:dns/promises', () => ({
  ...dns,
  lookup: (host: string, options: LookupOptions) =>
    host === heldHost ? new Promise((resolve) => heldLookups.push(() => resolve(realLookup('127.0.0.1', options)))) : realLookup(host, options),
}))
function releaseHeldLookups(): number {
  const released = heldLookups.splice(0)
  for (const release of released) release()
  return released.length
}

const user = 'engine-user'
const password = 'engine-secret'

let broker: KafkaTestBroker
let saslFront: KafkaSecurityFront<'saslPlaintext'>
const ports: KafkaPort[] = []

beforeAll(async () => {
  broker = await startKafkaTestBroker({ brokers: 3 })
  saslFront = await startKafkaSecurityFront({ broker, protocol: 'saslPlaintext', users: { [user]: password } })
})
afterAll(async () => {
  await Promise.allSettled(ports.map((port) => port.close({ flush: false })))
  await saslFront?.close()
  await broker?.stop()
})

function configFor(overrides: Partial<KafkaProducerConfig> = {}): KafkaProducerConfig {
  // Short timeouts and no compression: each test's deadline is part of what it checks, and mutants run it ~300 times.
  return testProducerConfig(broker.bootstrapServers, {
    clientId: 'kafka-sink-in-process',
    compression: { type: 'none', level: -1 },
    reconnectBackoffMaxMs: 100,
    requestTimeoutMs: 2_000,
    deliveryTimeoutMs: 3_000,
    ...overrides,
  })
}

interface LogLine {
  readonly level: string
  readonly message: string
  readonly [field: string]: unknown
}

function recordingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = []
  return { logger: createLogger({ level: 'debug', write: (line) => void lines.push(JSON.parse(line) as LogLine) }), lines }
}

/** A port that afterAll closes even if the test fails half-way. */
function openPort(overrides: Partial<KafkaProducerConfig> = {}, logger: Logger = recordingLogger().logger): KafkaPort {
  const port = createPlatformaticKafkaPort(configFor(overrides), logger)
  ports.push(port)
  return port
}

const newTopic = (prefix: string, partitions = 3) => createUniqueTopic(broker, prefix, partitions)

function read(topic: string, expectedCount?: number): Promise<KcatRecord[]> {
  return readTopicWithKcat({ bootstrapServers: broker.bootstrapServers, topic, timeoutMs: 8_000, ...(expectedCount === undefined ? {} : { expectedCount }) })
}

const noHeaders: ReadonlyMap<string, Buffer> = new Map()

function messages(prefix: string, count: number): KafkaMessage[] {
  return Array.from({ length: count }, (_, index) => ({
    key: Buffer.from(`key-${index % 5}`),
    value: Buffer.from(`${prefix}-${index}`),
    headers: noHeaders,
    timestamp: 1_700_000_000_000n + BigInt(index),
  }))
}

function expectAllDelivered(outcomes: readonly MessageOutcome[], count: number): void {
  expect(outcomes).toHaveLength(count)
  expect(outcomes.filter((outcome) => !outcome.delivered).map((outcome) => (outcome.delivered ? '' : `${outcome.error.code}: ${outcome.error.message}`))).toEqual([])
}

/** Runs `work` while every broker takes 1 s to answer, and gives the brokers their speed back afterwards. */
async function withSlowBrokers<T>(work: () => Promise<T>): Promise<T> {
  await broker.setRoundTripTime(-1, 1_000)
  try {
    return await work()
  } finally {
    await broker.setRoundTripTime(-1, 0)
  }
}

function failureOf(outcome: MessageOutcome | undefined): KafkaSendError {
  if (outcome === undefined || outcome.delivered) throw new Error(`expected a failed outcome, got ${JSON.stringify(outcome)}`)
  return outcome.error
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (error: unknown) => error,
  )
}

/** Polls `read` until it returns a value (the engine's state is only observable from outside). */
async function eventually<T>(read: () => T | undefined, what: string): Promise<T> {
  for (let attempt = 0; attempt < 400; attempt++) {
    const value = read()
    if (value !== undefined) return value
    await Bun.sleep(10)
  }
  throw new Error(`never saw ${what}`)
}

/** A ReadonlyMap that is not a Map: the port's type allows any. */
class HeaderList implements ReadonlyMap<string, Buffer> {
  readonly #entries: Map<string, Buffer>
  constructor(entries: [string, Buffer][]) {
    this.#entries = new Map(entries)
  }
  get size() {
    return this.#entries.size
  }
  get(key: string) {
    return this.#entries.get(key)
  }
  has(key: string) {
    return this.#entries.has(key)
  }
  forEach(callback: (value: Buffer, key: string, map: ReadonlyMap<string, Buffer>) => void) {
    this.#entries.forEach((value, key) => callback(value, key, this))
  }
  entries() {
    return this.#entries.entries()
  }
  keys() {
    return this.#entries.keys()
  }
  values() {
    return this.#entries.values()
  }
  [Symbol.iterator]() {
    return this.#entries[Symbol.iterator]()
  }
}

/**
 * The next Produce requests to the leader of a one-partition topic fail with these errors. Per broker: once a broker
 * has errors of its own for an API, librdkafka's mock no longer applies the cluster-wide ones to it.
 */
async function failNextProduce(topic: string, errorNames: readonly KafkaErrorName[]): Promise<void> {
  await broker.setPartitionLeader(topic, 0, 1)
  await broker.pushBrokerRequestErrors(1, 'Produce', errorNames.map((name) => ({ name })))
}

/** Settings that reach the brokers through the SASL front, which sees every request and connection. */
function saslConfig(overrides: Partial<KafkaProducerConfig> = {}): Partial<KafkaProducerConfig> {
  return {
    bootstrapServers: saslFront.bootstrapServers.split(','),
    securityProtocol: 'saslPlaintext',
    sasl: { mechanism: 'scramSha512', username: user, password },
    ...overrides,
  }
}

/** Listener probes that reached the SASL front: the probe opens with ApiVersions v0, which the engine's client never sends (v1, then v3). */
function listenerProbesSeen(): number {
  return saslFront.requestsSeen().find((seen) => seen.api === 'ApiVersions' && seen.apiVersion === 0)?.count ?? 0
}

/**
 * The positive marker for counting probes: a plaintext connect against the SASL listeners probes each bootstrap
 * server once (it finds the mismatch), so a probe started before it is counted by the time its probes are.
 */
async function probeMarker(): Promise<void> {
  const marker = openPort({ bootstrapServers: saslFront.bootstrapServers.split(','), deliveryTimeoutMs: 0 })
  expect(await rejectionOf(marker.connect())).toMatchObject({ code: 'SECURITY_PROTOCOL_MISMATCH' })
}


describe('what reaches Kafka', () => {
  test('keys, values, header names and values, and timestamps arrive; keys land on the murmur2 partition', async () => {
    const topic = await newTopic('in-process-fidelity', 6)
    const port = openPort()
    await port.connect()
    const keyed = partitionVectors.vectors.slice(0, 12)
    const sixPartitions = partitionVectors.partitionCounts.indexOf(6)
    const batch: KafkaMessage[] = [
      ...keyed.map((vector, index) => ({
        key: Buffer.from(vector.key),
        value: Buffer.from(`keyed-${index}`),
        headers: new Map([['es-event-type', Buffer.from(`Type${index}`)]]),
        timestamp: 1_700_000_000_000n + BigInt(index),
      })),
      { key: null, value: Buffer.from('no-key'), headers: new HeaderList([['x-ünïcode', Buffer.from('välue ✓')], ['second', Buffer.from('2')]]), timestamp: 1_600_000_000_000n },
    ]
    expectAllDelivered(await port.send(topic, batch), batch.length)

    const records = await read(topic, batch.length)
    const byValue = new Map(records.map((record) => [record.value, record]))
    for (const [index, vector] of keyed.entries()) {
      const record = byValue.get(`keyed-${index}`)
      expect(record?.key).toBe(vector.key)
      expect(record?.partition).toBe(vector.partitions[sixPartitions]!)
      expect(record?.headers).toEqual([['es-event-type', `Type${index}`]])
      expect(record?.timestamp).toBe(1_700_000_000_000 + index)
    }
    const unkeyed = byValue.get('no-key')
    expect(unkeyed?.key).toBeNull()
    expect(unkeyed?.headers).toEqual([
      ['x-ünïcode', 'välue ✓'],
      ['second', '2'],
    ])
    expect(unkeyed?.timestamp).toBe(1_600_000_000_000)
    expect(records).toHaveLength(batch.length)
  })

  // An installation that skipped the client patch (e.g. a copy of node_modules made without it) must still deliver
  // every header, only at more CPU per record; the operator is told why.
  test('a client without the kafka-sink patch: a warning says so, and records built as header blocks still arrive with every header', async () => {
    const topic = await newTopic('in-process-unpatched', 1)
    const { logger, lines } = recordingLogger()
    const port = createPlatformaticKafkaPort(configFor({}), logger, { takesHeaderBlocks: () => false })
    ports.push(port)
    const warnings = lines.filter((line) => line.level === 'warn').map((line) => String(line.message))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain('without the kafka-sink patch')
    const arena = new RecordArena()
    const batch: KafkaMessage[] = ['first', 'second'].map((value, index) => {
      arena.beginHeaders()
      arena.textHeader(encodeHeaderField('esdb-record-id'), Buffer.byteLength('esdb-record-id'), `id-${index}`)
      arena.bytesHeader(encodeHeaderField('x-ünïcode'), Buffer.byteLength('x-ünïcode'), Buffer.from('välue ✓'))
      return { key: Buffer.from(`key-${index}`), value: Buffer.from(value), headers: arena.finishHeaders(), timestamp: 1_700_000_000_000n + BigInt(index) }
    })
    expectAllDelivered(await port.send(topic, batch), batch.length)
    const records = await read(topic, batch.length)
    expect(records.map((record) => [record.value, record.headers])).toEqual([
      ['first', [['esdb-record-id', 'id-0'], ['x-ünïcode', 'välue ✓']]],
      ['second', [['esdb-record-id', 'id-1'], ['x-ünïcode', 'välue ✓']]],
    ])
  })

  test('the installed client takes header blocks: no warning about the patch', () => {
    const { logger, lines } = recordingLogger()
    ports.push(createPlatformaticKafkaPort(configFor({}), logger))
    expect(lines.filter((line) => line.level === 'warn')).toEqual([])
  })

  test('an empty batch resolves with no outcomes and opens no client; the first real batch does', async () => {
    const topic = await newTopic('in-process-empty')
    const { logger, lines } = recordingLogger()
    const port = openPort({}, logger)
    const clientsOpened = () => lines.filter((line) => line.component === 'kafka-engine' && Array.isArray(line.bootstrapBrokers)).length
    expect(await port.send(topic, [])).toEqual([])
    expect(clientsOpened()).toBe(0)
    expectAllDelivered(await port.send(topic, messages('after-empty', 2)), 2)
    expect(clientsOpened()).toBe(1)
  })
})

describe('connect', () => {
  test('an idempotent producer (acks=all) fetches its producer id at connect, so a refusal surfaces there', async () => {
    const port = openPort()
    await broker.pushRequestErrors('InitProducerId', ['CLUSTER_AUTHORIZATION_FAILED'])
    const error = await rejectionOf(port.connect())
    await broker.clearRequestErrors('InitProducerId')
    expect(error).toBeInstanceOf(KafkaSendError)
    expect(error).toMatchObject({ code: 'AUTHORIZATION_FAILED', transient: false, kafkaName: 'CLUSTER_AUTHORIZATION_FAILED' })
  })

  test('acks=leader is not idempotent: connect asks for no producer id', async () => {
    const topic = await newTopic('in-process-leader')
    const port = openPort({ acks: 'leader' })
    await broker.pushRequestErrors('InitProducerId', ['CLUSTER_AUTHORIZATION_FAILED'])
    try {
      await port.connect()
      expectAllDelivered(await port.send(topic, messages('leader', 3)), 3)
    } finally {
      await broker.clearRequestErrors('InitProducerId')
    }
  })

  test('no broker listening: a transient BROKERS_UNAVAILABLE naming the delivery timeout and the last error', async () => {
    const closed = await freePort()
    const port = openPort({ bootstrapServers: [`127.0.0.1:${closed}`], deliveryTimeoutMs: 200 })
    const error = await rejectionOf(port.connect())
    expect(error).toBeInstanceOf(KafkaSendError)
    expect(error).toMatchObject({ code: 'BROKERS_UNAVAILABLE', transient: true })
    expect((error as KafkaSendError).message).toContain('connection to Kafka not confirmed within deliveryTimeoutMs (200 ms)')
    expect((error as KafkaSendError).message).toContain('ECONNREFUSED')
  })

  test('a connect that timed out restarts its client, so the next attempt starts afresh', async () => {
    const closed = await freePort()
    const { logger, lines } = recordingLogger()
    const port = openPort({ bootstrapServers: [`127.0.0.1:${closed}`], deliveryTimeoutMs: 200 }, logger)
    const error = (await rejectionOf(port.connect())) as KafkaSendError
    expect(lines.filter((line) => line.level === 'warn').map((line) => [line.message, line.reason])).toEqual([['restarting the Kafka client', error.message]])
  })

  test('close({ flush: true }) while connect is still creating the client: connect rejects as CLIENT_CLOSED', async () => {
    const byName = broker.bootstrapServers.split(',').map((address) => address.replace('127.0.0.1', 'localhost'))
    const port = openPort({ bootstrapServers: byName, brokerAddressFamily: 'v4' })
    const connecting = rejectionOf(port.connect())
    await port.close({ flush: true })
    expect(await connecting).toMatchObject({ code: 'CLIENT_CLOSED', transient: true })
  })

  test('without client retries a failed connect is explained too: TLS against a plaintext listener is a mismatch', async () => {
    const port = openPort({ securityProtocol: 'ssl', messageSendMaxRetries: 0 })
    const error = await rejectionOf(port.connect())
    expect(error).toMatchObject({ code: 'SECURITY_PROTOCOL_MISMATCH', transient: false })
    expect((error as KafkaSendError).message).toContain('does not offer TLS')
    expect((error as KafkaSendError).cause).toBeInstanceOf(KafkaSendError)
  })

  test('without client retries, no broker listening stays a transient BROKERS_UNAVAILABLE', async () => {
    const closed = await freePort()
    const port = openPort({ bootstrapServers: [`127.0.0.1:${closed}`], messageSendMaxRetries: 0 })
    expect(await rejectionOf(port.connect())).toMatchObject({ code: 'BROKERS_UNAVAILABLE', transient: true })
  })

  test('TLS against a plaintext listener: a fatal SECURITY_PROTOCOL_MISMATCH, even with no delivery timeout', async () => {
    const { logger, lines } = recordingLogger()
    const port = openPort({ securityProtocol: 'ssl', deliveryTimeoutMs: 0 }, logger)
    const error = await rejectionOf(port.connect())
    expect(error).toBeInstanceOf(KafkaSendError)
    expect(error).toMatchObject({ code: 'SECURITY_PROTOCOL_MISMATCH', transient: false })
    expect((error as KafkaSendError).message).toContain('does not offer TLS')
    expect(lines.some((line) => line.level === 'warn' && line.reason === (error as KafkaSendError).message)).toBe(true)
  })
})

describe('send: per-message outcomes', () => {
  test('a failure on one broker fails only the messages of the partitions it leads; the others are delivered', async () => {
    const topic = await newTopic('in-process-partial', 3)
    for (const partition of [0, 1, 2]) await broker.setPartitionLeader(topic, partition, partition + 1)
    const port = openPort()
    await port.connect()
    const threePartitions = partitionVectors.partitionCounts.indexOf(3)
    const vectors = partitionVectors.vectors.slice(0, 12)
    const partitionOf = (index: number) => vectors[index]!.partitions[threePartitions]!
    expect(new Set(vectors.map((_, index) => partitionOf(index)))).toEqual(new Set([0, 1, 2]))
    const batch = vectors.map((vector, index) => ({ key: Buffer.from(vector.key), value: Buffer.from(`partial-${index}`), headers: noHeaders, timestamp: 1n }))
    await broker.pushBrokerRequestErrors(1, 'Produce', [{ name: 'MESSAGE_TOO_LARGE' }])
    const outcomes = await port.send(topic, batch)
    expect(outcomes).toHaveLength(batch.length)
    for (const [index, outcome] of outcomes.entries()) {
      if (partitionOf(index) === 0) expect(failureOf(outcome)).toMatchObject({ code: 'MESSAGE_TOO_LARGE', transient: false, kafkaName: 'MESSAGE_TOO_LARGE' })
      else expect(outcome).toEqual({ delivered: true })
    }
    const delivered = batch.filter((_, index) => partitionOf(index) !== 0).map((message) => message.value.toString())
    expect((await read(topic, delivered.length)).map((record) => record.value).sort()).toEqual(delivered.sort())
  })

  test('a fatal Kafka error for every partition fails every message with it', async () => {
    const topic = await newTopic('in-process-denied', 1)
    const port = openPort()
    await port.connect()
    await failNextProduce(topic, ['TOPIC_AUTHORIZATION_FAILED'])
    const outcomes = await port.send(topic, messages('denied', 4))
    expect(outcomes).toHaveLength(4)
    for (const outcome of outcomes) expect(failureOf(outcome)).toMatchObject({ code: 'AUTHORIZATION_FAILED', transient: false, kafkaName: 'TOPIC_AUTHORIZATION_FAILED' })
  })

  test('messageSendMaxRetries 0: a dropped connection is a transient outcome at once, with no deadline needed', async () => {
    const topic = await newTopic('in-process-no-retries', 1)
    const port = openPort({ messageSendMaxRetries: 0, deliveryTimeoutMs: 0 })
    await port.connect()
    await failNextProduce(topic, ['DISCONNECT'])
    for (const outcome of await port.send(topic, messages('not-retried', 3))) {
      expect(failureOf(outcome)).toMatchObject({ code: 'BROKERS_UNAVAILABLE', transient: true, kafkaName: undefined })
    }
    expectAllDelivered(await port.send(topic, messages('next', 3)), 3)
  })

  test('an unknown topic: fatal UNKNOWN_TOPIC when the delivery timeout passes, naming the last error', async () => {
    const topic = uniqueTopicName('in-process-unknown')
    await broker.setTopicError(topic, 'UNKNOWN_TOPIC_OR_PARTITION')
    const port = openPort({ deliveryTimeoutMs: 200 })
    const outcomes = await port.send(topic, messages('nowhere', 2))
    expect(outcomes).toHaveLength(2)
    for (const outcome of outcomes) {
      const error = failureOf(outcome)
      expect(error).toMatchObject({ code: 'UNKNOWN_TOPIC', transient: false, kafkaName: 'UNKNOWN_TOPIC_OR_PARTITION' })
      expect(error.message).toStartWith(`2 message(s) to ${topic} not confirmed within deliveryTimeoutMs (200 ms); last error: `)
      expect(error.cause).toBeInstanceOf(Error)
    }
  })
})

describe('send: leadership changes', () => {
  test('a partition leader that moved between two sends: the second send is delivered to the new leader, even with no retries', async () => {
    const topic = await newTopic('in-process-leader-moved', 1)
    await broker.setPartitionLeader(topic, 0, 1)
    const port = openPort({ messageSendMaxRetries: 0, deliveryTimeoutMs: 0 })
    expectAllDelivered(await port.send(topic, messages('before', 2)), 2)
    await broker.setPartitionLeader(topic, 0, 3)
    expectAllDelivered(await port.send(topic, messages('after', 2)), 2)
  })
})

describe('send: delivery timeout and outages', () => {
  test('all brokers down: the retried error is visible while the send waits, it names the outcome, and a fresh client delivers', async () => {
    const topic = await newTopic('in-process-down')
    const { logger, lines } = recordingLogger()
    const port = openPort({ deliveryTimeoutMs: 500 }, logger)
    await port.connect()
    expect(port.lastRetriedError?.()).toBeUndefined()
    const startedAt = Date.now()
    await broker.setAllBrokersDown()
    let outcomes: readonly MessageOutcome[]
    try {
      const sending = port.send(topic, messages('while-down', 3))
      const retried = await eventually(() => port.lastRetriedError?.(), 'a retried error')
      expect(retried.error).toBeInstanceOf(KafkaSendError)
      expect(retried.error).toMatchObject({ code: 'BROKERS_UNAVAILABLE', transient: true })
      expect(retried.at).toBeGreaterThanOrEqual(startedAt)
      expect(retried.at).toBeLessThanOrEqual(Date.now())
      outcomes = await sending
    } finally {
      await broker.setAllBrokersUp()
    }
    expect(outcomes).toHaveLength(3)
    for (const outcome of outcomes) {
      const error = failureOf(outcome)
      expect(error).toMatchObject({ code: 'BROKERS_UNAVAILABLE', transient: true })
      expect(error.message).toStartWith(`3 message(s) to ${topic} not confirmed within deliveryTimeoutMs (500 ms); last error: BROKERS_UNAVAILABLE`)
    }
    // The timed-out client was retired (its retry loop ended), and the next send gets a new one; both are logged.
    const warnings = lines.filter((line) => line.level === 'warn')
    expect(warnings.map((line) => line.reason)).toEqual([failureOf(outcomes[0]).message])
    expect(warnings[0]?.message).toContain('restarting the Kafka client')
    expect(port.lastRetriedError?.()).toBeUndefined()
    expectAllDelivered(await port.send(topic, messages('after', 3)), 3)
    const created = lines.filter((line) => Array.isArray(line.bootstrapBrokers))
    expect(created).toHaveLength(2)
    expect(created.map((line) => line.message)).toEqual(['Kafka client created', 'Kafka client created'])
  })

  test('brokers too slow to answer: DELIVERY_TIMED_OUT, not an error retried before the send began', async () => {
    const topic = await newTopic('in-process-slow')
    const port = openPort({ deliveryTimeoutMs: 150, requestTimeoutMs: 10_000 })
    // connect retries a retriable answer to InitProducerId: the client's last retried error is from before the send.
    await broker.pushRequestErrors('InitProducerId', ['COORDINATOR_NOT_AVAILABLE'])
    await port.connect()
    expect(port.lastRetriedError?.()?.error).toMatchObject({ kafkaName: 'COORDINATOR_NOT_AVAILABLE', transient: true })
    await Bun.sleep(2) // the send must start in a later millisecond than that retry
    const outcomes = await withSlowBrokers(() => port.send(topic, messages('slow', 2)))
    for (const outcome of outcomes) {
      const error = failureOf(outcome)
      expect(error).toMatchObject({ code: 'DELIVERY_TIMED_OUT', transient: true, kafkaName: undefined })
      expect(error.message).toBe(`2 message(s) to ${topic} not confirmed within deliveryTimeoutMs (150 ms)`)
    }
    expectAllDelivered(await port.send(topic, messages('fast-again', 2)), 2)
  })
})

describe('send: deadlines without any retried error', () => {
  test('brokers too slow to answer on a client that never retried: DELIVERY_TIMED_OUT with no last error', async () => {
    const topic = await newTopic('in-process-slow-fresh')
    const port = openPort({ deliveryTimeoutMs: 150, requestTimeoutMs: 10_000 })
    await port.connect()
    expect(port.lastRetriedError?.()).toBeUndefined()
    const outcomes = await withSlowBrokers(() => port.send(topic, messages('slow', 2)))
    for (const outcome of outcomes) {
      expect(failureOf(outcome)).toMatchObject({ code: 'DELIVERY_TIMED_OUT', transient: true, message: `2 message(s) to ${topic} not confirmed within deliveryTimeoutMs (150 ms)` })
    }
  })

  // The first timeout retires the client, which closes the second send's connection: that send may report it.
  test('two sends timing out on one client restart it once, and both are transient', async () => {
    const topic = await newTopic('in-process-slow-twice')
    const { logger, lines } = recordingLogger()
    const port = openPort({ deliveryTimeoutMs: 150, requestTimeoutMs: 10_000 }, logger)
    await port.connect()
    const outcomes = await withSlowBrokers(() => Promise.all([port.send(topic, messages('slow-a', 2)), port.send(topic, messages('slow-b', 2))]))
    for (const outcome of outcomes.flat()) expect(failureOf(outcome).transient).toBe(true)
    expect(lines.filter((line) => line.level === 'warn')).toHaveLength(1)
  })
})

// The client exists only once the bootstrap names are resolved: a deadline can pass before that.
describe('a delivery timeout that passes while the bootstrap names are still being resolved', () => {
  const heldServers = () => broker.bootstrapServers.split(',').map((address) => address.replace('127.0.0.1', heldHost))
  // A test that failed half-way must not leave its lookups to the next one.
  afterEach(() => void releaseHeldLookups())

  test('connect: a transient DELIVERY_TIMED_OUT with no last error and no client to restart; the next connect uses the client once created', async () => {
    const { logger, lines } = recordingLogger()
    const port = openPort({ bootstrapServers: heldServers(), brokerAddressFamily: 'v4', deliveryTimeoutMs: 50 }, logger)
    const error = await rejectionOf(port.connect())
    expect(error).toBeInstanceOf(KafkaSendError)
    expect(error).toMatchObject({ code: 'DELIVERY_TIMED_OUT', transient: true, message: 'connection to Kafka not confirmed within deliveryTimeoutMs (50 ms)' })
    expect(lines.filter((line) => line.level === 'warn')).toEqual([])
    expect(releaseHeldLookups()).toBe(3)
    await port.connect()
    expect(lines.filter((line) => Array.isArray(line.bootstrapBrokers))).toHaveLength(1)
  })

  test('send: every message a transient DELIVERY_TIMED_OUT with no last error; the next send is delivered', async () => {
    const topic = await newTopic('in-process-held-lookup', 1)
    const port = openPort({ bootstrapServers: heldServers(), brokerAddressFamily: 'v4', deliveryTimeoutMs: 50 })
    const outcomes = await port.send(topic, messages('before-resolved', 2))
    expect(outcomes).toHaveLength(2)
    for (const outcome of outcomes) {
      expect(failureOf(outcome)).toMatchObject({ code: 'DELIVERY_TIMED_OUT', transient: true, message: `2 message(s) to ${topic} not confirmed within deliveryTimeoutMs (50 ms)` })
    }
    expect(releaseHeldLookups()).toBe(3)
    expectAllDelivered(await port.send(topic, messages('after-resolved', 2)), 2)
  })
})

describe('bootstrap servers and address families', () => {
  const byName = () => broker.bootstrapServers.split(',').map((address) => address.replace('127.0.0.1', 'localhost'))

  test('brokerAddressFamily v4 resolves host names to IPv4 addresses itself and delivers', async () => {
    const topic = await newTopic('in-process-v4')
    const { logger, lines } = recordingLogger()
    const port = openPort({ bootstrapServers: byName(), brokerAddressFamily: 'v4' }, logger)
    expectAllDelivered(await port.send(topic, messages('v4', 2)), 2)
    expect(lines.find((line) => Array.isArray(line.bootstrapBrokers))?.bootstrapBrokers).toEqual(broker.bootstrapServers.split(','))
  })

  test('brokerAddressFamily any hands the names to the client as they are', async () => {
    const topic = await newTopic('in-process-any')
    const { logger, lines } = recordingLogger()
    const port = openPort({ bootstrapServers: byName(), brokerAddressFamily: 'any' }, logger)
    expectAllDelivered(await port.send(topic, messages('any', 2)), 2)
    expect(lines.find((line) => Array.isArray(line.bootstrapBrokers))?.bootstrapBrokers).toEqual(byName())
  })

  test('brokerAddressFamily v6 with names that have no IPv6 address: transient BROKERS_UNAVAILABLE naming each, without waiting for a deadline', async () => {
    const [first, second] = byName()
    const port = openPort({ bootstrapServers: [first!, second!], brokerAddressFamily: 'v6', deliveryTimeoutMs: 0 })
    const outcomes = await port.send('any-topic', messages('v6', 2))
    for (const outcome of outcomes) {
      const error = failureOf(outcome)
      expect(error).toMatchObject({ code: 'BROKERS_UNAVAILABLE', transient: true })
      expect(error.message).toBe('no bootstrap server has an IPv6 address (localhost: ENOTFOUND, localhost: ENOTFOUND)')
    }
    expect(await rejectionOf(port.connect())).toMatchObject({ code: 'BROKERS_UNAVAILABLE', transient: true })
  })

  test('one client serves a connect and the sends that start while it is being created', async () => {
    const topic = await newTopic('in-process-one-client')
    const { logger, lines } = recordingLogger()
    const port = openPort({ bootstrapServers: byName(), brokerAddressFamily: 'v4' }, logger)
    const [, first, second] = await Promise.all([port.connect(), port.send(topic, messages('first', 2)), port.send(topic, messages('second', 2))])
    expectAllDelivered(first, 2)
    expectAllDelivered(second, 2)
    expect(lines.filter((line) => Array.isArray(line.bootstrapBrokers))).toHaveLength(1)
  })
})

describe('security', () => {
  test('SASL SCRAM-SHA-512 authenticates and delivers', async () => {
    const topic = await newTopic('in-process-sasl')
    const port = openPort(saslConfig())
    await port.connect()
    expectAllDelivered(await port.send(topic, messages('sasl', 2)), 2)
    expect(saslFront.requestsSeen().map((each) => each.api)).toContain('SaslAuthenticate')
  })

  test('a wrong password rejects connect with a fatal AUTHENTICATION_FAILED, even with no delivery timeout', async () => {
    const port = openPort(saslConfig({ sasl: { mechanism: 'plain', username: user, password: 'wrong' }, deliveryTimeoutMs: 0 }))
    expect(await rejectionOf(port.connect())).toMatchObject({ code: 'AUTHENTICATION_FAILED', transient: false, kafkaName: 'SASL_AUTHENTICATION_FAILED' })
  })

  test('a wrong password fails every message of a send without connect as AUTHENTICATION_FAILED, and retires the client', async () => {
    const { logger, lines } = recordingLogger()
    const port = openPort(saslConfig({ sasl: { mechanism: 'scramSha256', username: user, password: 'wrong' }, deliveryTimeoutMs: 0 }), logger)
    const outcomes = await port.send('any-topic', messages('denied', 3))
    expect(outcomes).toHaveLength(3)
    for (const outcome of outcomes) expect(failureOf(outcome)).toMatchObject({ code: 'AUTHENTICATION_FAILED', transient: false })
    expect(lines.filter((line) => line.level === 'warn').map((line) => line.reason)).toEqual([failureOf(outcomes[0]).message])
  })

  test('SASL against a plaintext listener: a fatal SECURITY_PROTOCOL_MISMATCH at connect', async () => {
    const port = openPort({ securityProtocol: 'saslPlaintext', sasl: { mechanism: 'plain', username: user, password }, deliveryTimeoutMs: 0 })
    const error = await rejectionOf(port.connect())
    expect(error).toMatchObject({ code: 'SECURITY_PROTOCOL_MISMATCH', transient: false })
    expect((error as KafkaSendError).message).toContain('does not offer SASL')
  })

  test('plaintext against a TLS listener: a fatal SECURITY_PROTOCOL_MISMATCH naming TLS', async () => {
    const front = await startKafkaSecurityFront({ broker, protocol: 'ssl' })
    try {
      const port = openPort({ bootstrapServers: front.bootstrapServers.split(','), deliveryTimeoutMs: 0 })
      const error = await rejectionOf(port.connect())
      expect(error).toMatchObject({ code: 'SECURITY_PROTOCOL_MISMATCH', transient: false })
      expect((error as KafkaSendError).message).toContain('requires TLS')
    } finally {
      await front.close()
    }
  })

  test('plaintext against a SASL listener: a fatal SECURITY_PROTOCOL_MISMATCH at connect', async () => {
    const port = openPort({ bootstrapServers: saslFront.bootstrapServers.split(','), deliveryTimeoutMs: 0 })
    const error = await rejectionOf(port.connect())
    expect(error).toMatchObject({ code: 'SECURITY_PROTOCOL_MISMATCH', transient: false })
    expect((error as KafkaSendError).message).toContain('requires SASL authentication')
  })
})

// What the brokers see of the engine, through the SASL front: requests and open connections.
describe('requests and connections the brokers see', () => {
  test('connect asks the brokers about no topic: Metadata for an empty topic list, which names and creates none', async () => {
    const seenBefore = saslFront.metadataTopicsRequested().length
    const port = openPort(saslConfig())
    await port.connect()
    const requested = saslFront.metadataTopicsRequested().slice(seenBefore)
    expect(requested.length).toBeGreaterThan(0)
    expect(requested).toEqual(requested.map(() => []))
  })

  test('close ends every connection the engine opened to the brokers', async () => {
    const topic = await newTopic('in-process-close-connections', 1)
    const openBefore = saslFront.openClientConnections()
    const port = openPort(saslConfig())
    await port.connect()
    expectAllDelivered(await port.send(topic, messages('then-closed', 2)), 2)
    expect(saslFront.openClientConnections()).toBeGreaterThan(openBefore)
    await port.close({ flush: true })
    await eventually(() => (saslFront.openClientConnections() <= openBefore ? true : undefined), "the engine's connections closed")
  })

  test('a connect that retries several errors probes the listeners once, at the first', async () => {
    const port = openPort(saslConfig())
    const probesBefore = listenerProbesSeen()
    await broker.pushRequestErrors('InitProducerId', ['COORDINATOR_NOT_AVAILABLE', 'COORDINATOR_NOT_AVAILABLE', 'COORDINATOR_NOT_AVAILABLE'])
    try {
      await port.connect()
    } finally {
      await broker.clearRequestErrors('InitProducerId')
    }
    expect(port.lastRetriedError?.()?.error).toMatchObject({ kafkaName: 'COORDINATOR_NOT_AVAILABLE' })
    await probeMarker()
    // Each bootstrap server once for the connect, and once for the marker.
    expect(listenerProbesSeen() - probesBefore).toBe(2 * saslFront.brokers.length)
  })

  test("a send that retries a broker's error does not probe the listeners: only connect does", async () => {
    const topic = await newTopic('in-process-send-no-probe', 1)
    const port = openPort(saslConfig())
    await port.connect()
    const probesBefore = listenerProbesSeen()
    await failNextProduce(topic, ['NOT_ENOUGH_REPLICAS'])
    expectAllDelivered(await port.send(topic, messages('retried', 2)), 2)
    expect(port.lastRetriedError?.()?.error).toMatchObject({ kafkaName: 'NOT_ENOUGH_REPLICAS', transient: true })
    await probeMarker()
    // Only the marker's probes.
    expect(listenerProbesSeen() - probesBefore).toBe(saslFront.brokers.length)
  })
})

// TLS listeners need the front's CA in the trust store, which the runtime reads once per process: this engine runs in
// a host process (test/support/kafka-port-host) started with SSL_CERT_FILE naming that CA.
describe('security over TLS (engine in a host process that trusts the front)', () => {
  test('TLS without SASL against a TLS listener that wants SASL: a fatal SECURITY_PROTOCOL_MISMATCH naming SASL', async () => {
    const front = await startKafkaSecurityFront({ broker, protocol: 'saslSsl', users: { [user]: password } })
    const host = await startKafkaPortHost('platformatic', { ...process.env, SSL_CERT_FILE: front.caFile, SSL_CERT_DIR: undefined, NODE_EXTRA_CA_CERTS: undefined })
    try {
      const port = await host.openPort(configFor({ bootstrapServers: front.bootstrapServers.split(','), securityProtocol: 'ssl', deliveryTimeoutMs: 0 }))
      const error = await rejectionOf(port.connect())
      expect(error).toMatchObject({ code: 'SECURITY_PROTOCOL_MISMATCH', transient: false })
      expect((error as KafkaSendError).message).toContain('requires SASL authentication')
      await port.close({ flush: false })
    } finally {
      await host.stop()
      await front.close()
    }
  })
})

describe('settings this runtime cannot honour', () => {
  // A runtime without zstd (Node before 22.15 has none in node:zlib): the port refuses instead of hanging every send.
  // Bun's own zstd is hidden too, or the engine would use it.
  test('zstd without a zstd codec: connect refuses and every message fails, fatal UNSUPPORTED_BY_ENGINE, with no client', async () => {
    const saved = zlib.zstdCompressSync
    const bun = (globalThis as { Bun?: { zstdCompressSync?: unknown } }).Bun
    const savedBun = bun?.zstdCompressSync
    let port: KafkaPort
    const { logger, lines } = recordingLogger()
    try {
      ;(zlib as { zstdCompressSync?: unknown }).zstdCompressSync = undefined
      if (bun !== undefined) bun.zstdCompressSync = undefined
      port = openPort({ compression: { type: 'zstd', level: 3 } }, logger)
    } finally {
      zlib.zstdCompressSync = saved
      if (bun !== undefined) bun.zstdCompressSync = savedBun
    }
    const refusal = await rejectionOf(port.connect())
    expect(refusal).toBeInstanceOf(KafkaSendError)
    expect(refusal).toMatchObject({ code: 'UNSUPPORTED_BY_ENGINE', transient: false })
    expect((refusal as KafkaSendError).message).toContain('compression:type=zstd')
    const outcomes = await port.send('any-topic', messages('refused', 2))
    expect(outcomes).toHaveLength(2)
    for (const outcome of outcomes) expect(failureOf(outcome)).toEqual(refusal as KafkaSendError)
    expect(lines.filter((line) => Array.isArray(line.bootstrapBrokers))).toHaveLength(0)
  })

  test('what the engine cannot honour exactly is logged as a warning when the port is created', () => {
    const { logger, lines } = recordingLogger()
    openPort({ acks: 'leader', compression: { type: 'lz4', level: 5 } }, logger)
    const warnings = lines.filter((line) => line.level === 'warn')
    expect(warnings).toHaveLength(2)
    expect(warnings.every((line) => line.component === 'kafka-engine' && line.engine === 'platformatic')).toBe(true)
    expect(warnings.map((line) => line.message).join('\n')).toContain('acks=leader')
  })
})

describe('close', () => {
  test('close({ flush: true }) waits for the sends in flight, which are delivered; later sends and connects are refused', async () => {
    const topic = await newTopic('in-process-flush')
    const port = openPort()
    const settled: string[] = []
    const sends = ['a', 'b'].map((name) => port.send(topic, messages(`flush-${name}`, 20)).then((outcomes) => (settled.push(name), outcomes)))
    const closing = port.close({ flush: true })
    expect(await rejectionOf(port.send(topic, messages('late', 1)))).toBeInstanceOf(Error)
    expect(await rejectionOf(port.connect())).toMatchObject({ code: 'CLIENT_CLOSED', transient: true })
    await closing
    expect(settled.sort()).toEqual(['a', 'b'])
    for (const sending of sends) expectAllDelivered(await sending, 20)
    expect((await rejectionOf(port.send(topic, messages('late', 1))) as Error).message).toContain('after close')
    const refused = await rejectionOf(port.connect())
    expect(refused).toMatchObject({ code: 'CLIENT_CLOSED', transient: true })
    expect((refused as KafkaSendError).message).toContain('closed')
    await port.close({ flush: true })
  })

  test('close is idempotent: a second close({ flush: false }) does not cut short the flush the first one began', async () => {
    const topic = await newTopic('in-process-close-twice')
    const port = openPort()
    await port.connect()
    const sending = port.send(topic, messages('flushed-once', 10))
    const first = port.close({ flush: true })
    const second = port.close({ flush: false })
    await Promise.all([first, second])
    expectAllDelivered(await sending, 10)
  })

  test('after close nothing is in progress: no retried error is reported any more', async () => {
    const port = openPort()
    await broker.pushRequestErrors('InitProducerId', ['COORDINATOR_NOT_AVAILABLE'])
    await port.connect()
    expect(port.lastRetriedError?.()?.error).toMatchObject({ kafkaName: 'COORDINATOR_NOT_AVAILABLE' })
    await port.close({ flush: true })
    expect(port.lastRetriedError?.()).toBeUndefined()
  })

  test('close({ flush: false }) during an outage ends the waiting send at once as CLIENT_CLOSED', async () => {
    const topic = await newTopic('in-process-close-now')
    const { logger, lines } = recordingLogger()
    const port = openPort({ deliveryTimeoutMs: 0 }, logger)
    await port.connect()
    await broker.setAllBrokersDown()
    try {
      const sending = port.send(topic, messages('abandoned', 3))
      await eventually(() => port.lastRetriedError?.(), 'the send retrying')
      await port.close({ flush: false })
      for (const outcome of await sending) expect(failureOf(outcome)).toMatchObject({ code: 'CLIENT_CLOSED', transient: true })
    } finally {
      await broker.setAllBrokersUp()
    }
    expect(lines.filter((line) => line.level === 'warn').map((line) => line.reason)).toEqual(['closed without flush'])
  })

  test('closed while its client is being created: the send is CLIENT_CLOSED', async () => {
    const topic = await newTopic('in-process-close-early', 1)
    const byName = broker.bootstrapServers.split(',').map((address) => address.replace('127.0.0.1', 'localhost'))
    const port = openPort({ bootstrapServers: byName, brokerAddressFamily: 'v4' })
    const sending = port.send(topic, messages('never', 2))
    await port.close({ flush: false })
    for (const outcome of await sending) expect(failureOf(outcome)).toMatchObject({ code: 'CLIENT_CLOSED', transient: true })
  })

  test('close({ flush: true }) while the client is being created lets the send through', async () => {
    const topic = await newTopic('in-process-flush-early', 1)
    const byName = broker.bootstrapServers.split(',').map((address) => address.replace('127.0.0.1', 'localhost'))
    const port = openPort({ bootstrapServers: byName, brokerAddressFamily: 'v4' })
    const sending = port.send(topic, messages('flushed', 2))
    await port.close({ flush: true })
    expectAllDelivered(await sending, 2)
  })
})
