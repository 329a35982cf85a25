// The Kafka port with every security protocol, against the security front (TLS and SASL in front of the mock
// cluster), for the engine KAFKA_SINK_TEST_KAFKA_ENGINE names (platformatic by default; ./scripts/test runs both).
// What reached Kafka is read back with kcat, never with the code under test.
//
// Trust: engines verify brokers against the system trust store; private CAs belong in that store. The platformatic
// engine reads tls.getCACertificates('system') plus the runtime's default roots (under Bun the system store honours
// OpenSSL's SSL_CERT_FILE and SSL_CERT_DIR, the default roots NODE_EXTRA_CA_CERTS); librdkafka uses OpenSSL's
// default verify paths, which honour SSL_CERT_FILE and SSL_CERT_DIR. The store is read from the process's
// environment, so each engine run here is a host process (kafka-port-host/) with its own environment: the
// machine's store is never modified and tests cannot leak trust into each other.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { copyFile, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { KafkaProducerConfig, SaslMechanism } from '../../../../src/sink/kafka/port.ts'
import { startKafkaSecurityFront, type KafkaSecurityFront } from '../../../support/kafka-security-front.ts'
import { startKafkaPortHost } from '../../../support/kafka-port-host/remote-kafka-port.ts'
import type { KafkaEngineName } from '../../../../src/sink/kafka/kafka-engines.ts'
import { KafkaSendError } from '../../../../src/sink/kafka/errors.ts'
import { createUniqueTopic, startKafkaTestBroker, type KafkaTestBroker } from '../../../support/kafka-test-broker.ts'
import { expectNoGaps, readTopicWithKcat } from '../../../support/kcat.ts'
import { testProducerConfig } from '../../../support/producer-config.ts'

// These tests start processes and wait on delivery timeouts of a few seconds, on a shared machine.
setDefaultTimeout(90_000)

const user = 'kafka-sink'
const password = 'sink-secret'
const users = { [user]: password }
const engine = (process.env.KAFKA_SINK_TEST_KAFKA_ENGINE ?? 'platformatic') as KafkaEngineName
/** Environment variables that change what a TLS client trusts; children start without the parent's. */
const trustVariables = ['SSL_CERT_FILE', 'SSL_CERT_DIR', 'NODE_EXTRA_CA_CERTS'] as const

let broker: KafkaTestBroker
let saslSsl: KafkaSecurityFront<'saslSsl'>
let saslPlaintext: KafkaSecurityFront<'saslPlaintext'>
let ssl: KafkaSecurityFront<'ssl'>
const cleanups: (() => Promise<unknown>)[] = []

beforeAll(async () => {
  broker = await startKafkaTestBroker({ brokers: 3 })
  ;[saslSsl, saslPlaintext, ssl] = await Promise.all([
    startKafkaSecurityFront({ broker, protocol: 'saslSsl', users }),
    startKafkaSecurityFront({ broker, protocol: 'saslPlaintext', users }),
    startKafkaSecurityFront({ broker, protocol: 'ssl' }),
  ])
})
afterAll(async () => {
  await Promise.allSettled(cleanups.map((cleanup) => cleanup()))
  await Promise.allSettled([saslSsl?.close(), saslPlaintext?.close(), ssl?.close()])
  await broker?.stop()
})

function configFor(front: KafkaSecurityFront, overrides: Partial<KafkaProducerConfig> = {}): KafkaProducerConfig {
  return testProducerConfig(front.bootstrapServers, {
    clientId: 'kafka-sink-e2e-security',
    securityProtocol: front.protocol,
    sasl: front.protocol === 'ssl' ? undefined : { mechanism: 'plain', username: user, password },
    compression: { type: 'none', level: 0 },
    ...overrides,
  })
}

function sasl(mechanism: SaslMechanism, secret = password): KafkaProducerConfig['sasl'] {
  return { mechanism, username: user, password: secret }
}

interface EngineJob {
  readonly config: KafkaProducerConfig
  readonly topic: string
  /** Record values, sent as one batch after a successful connect; keys are null. */
  readonly values: readonly string[]
  /** Send without calling connect() first (the pipeline may send on a port whose connect it did not await). */
  readonly skipConnect?: boolean
}

interface EngineError {
  readonly code: string
  readonly transient: boolean
  readonly kafkaName: string | undefined
}

interface EngineResult {
  /** undefined when connect() resolved. */
  readonly connectError: EngineError | undefined
  /** One entry per value, null when delivered; undefined when connect() failed. */
  readonly sendErrors: readonly (EngineError | null)[] | undefined
}

const describeError = (error: KafkaSendError): EngineError => ({ code: error.code, transient: error.transient, kafkaName: error.kafkaName })

/** Runs the engine once (connect, send one batch, close) in a host process whose trust environment is exactly `trust`. */
async function runEngine(job: EngineJob, trust: Partial<Record<(typeof trustVariables)[number], string>>): Promise<EngineResult> {
  const env: Record<string, string | undefined> = { ...process.env }
  for (const name of trustVariables) delete env[name]
  Object.assign(env, trust)
  const host = await startKafkaPortHost(engine, env)
  try {
    const port = await host.openPort(job.config)
    try {
      if (job.skipConnect !== true) {
        try {
          await port.connect()
        } catch (error) {
          if (!(error instanceof KafkaSendError)) throw error
          return { connectError: describeError(error), sendErrors: undefined }
        }
      }
      const outcomes = await port.send(job.topic, job.values.map((value) => ({ key: null, value: Buffer.from(value), headers: new Map(), timestamp: BigInt(Date.now()) })))
      return { connectError: undefined, sendErrors: outcomes.map((outcome) => (outcome.delivered ? null : describeError(outcome.error))) }
    } finally {
      await port.close({ flush: false })
    }
  } finally {
    await host.stop()
  }
}

const newTopic = (prefix: string) => createUniqueTopic(broker, prefix, 3)

const values = (prefix: string) => Array.from({ length: 20 }, (_, index) => `${prefix}-${index}`)

/** The engine delivered every value, and kcat, reading the mock directly, finds them all. */
async function expectDelivered(result: EngineResult, topic: string, sent: readonly string[]): Promise<void> {
  expect(result.connectError).toBeUndefined()
  expect(result.sendErrors).toEqual(sent.map(() => null))
  const records = await readTopicWithKcat({ bootstrapServers: broker.bootstrapServers, topic, expectedCount: sent.length, timeoutMs: 20_000 })
  expectNoGaps(records, sent)
}

describe(`${engine} engine through the security front: delivery`, () => {
  test.each(['plain', 'scramSha256', 'scramSha512'] as const)('saslSsl with %s, trusting the front CA through SSL_CERT_FILE', async (mechanism) => {
    const topic = await newTopic(`engine-sasl-ssl-${mechanism}`)
    const sent = values(mechanism)
    const result = await runEngine({ config: configFor(saslSsl, { sasl: sasl(mechanism) }), topic, values: sent }, { SSL_CERT_FILE: saslSsl.caFile })
    await expectDelivered(result, topic, sent)
    // The engine went through the front: authenticated, then learned the front's listeners from Metadata.
    const seen = new Set(saslSsl.requestsSeen().map((each) => each.api))
    for (const api of ['ApiVersions', 'SaslHandshake', 'SaslAuthenticate', 'Metadata', 'InitProducerId', 'Produce']) expect(seen).toContain(api)
  })

  test('saslPlaintext with scramSha512', async () => {
    const topic = await newTopic('engine-sasl-plaintext')
    const sent = values('sasl-plaintext')
    const result = await runEngine({ config: configFor(saslPlaintext, { sasl: sasl('scramSha512') }), topic, values: sent }, {})
    await expectDelivered(result, topic, sent)
  })

  test('ssl without SASL', async () => {
    const topic = await newTopic('engine-ssl')
    const sent = values('ssl')
    const result = await runEngine({ config: configFor(ssl), topic, values: sent }, { SSL_CERT_FILE: ssl.caFile })
    await expectDelivered(result, topic, sent)
  })
})

describe(`${engine} engine through the security front: trust store`, () => {
  test('a CA in an OpenSSL hashed directory (SSL_CERT_DIR) is trusted', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kafka-sink-cert-dir-'))
    cleanups.push(() => rm(dir, { recursive: true, force: true }))
    await copyFile(ssl.caFile, join(dir, 'front-ca.pem'))
    const rehash = Bun.spawn(['openssl', 'rehash', dir], { stdout: 'ignore', stderr: 'pipe' })
    expect(await rehash.exited).toBe(0)
    const topic = await newTopic('engine-ssl-cert-dir')
    const sent = values('cert-dir')
    await expectDelivered(await runEngine({ config: configFor(ssl), topic, values: sent }, { SSL_CERT_DIR: dir }), topic, sent)
  })

  // Node's NODE_EXTRA_CA_CERTS extends the runtime's roots, which only the platformatic engine uses; librdkafka reads
  // OpenSSL's store (README: settings, trust). A gap, not a contract.
  test.if(engine === 'platformatic')('a CA in NODE_EXTRA_CA_CERTS is trusted', async () => {
    const topic = await newTopic('engine-ssl-extra-ca')
    const sent = values('extra-ca')
    await expectDelivered(await runEngine({ config: configFor(ssl), topic, values: sent }, { NODE_EXTRA_CA_CERTS: ssl.caFile }), topic, sent)
  })

  test.each([
    ['no private CA at all', () => ({})],
    ['only another CA', () => ({ SSL_CERT_FILE: saslSsl.caFile })],
  ] as const)('a broker certificate from an untrusted CA (%s) is a fatal TLS_FAILED, and nothing is written', async (_, trust) => {
    const topic = await newTopic('engine-untrusted')
    const result = await runEngine({ config: configFor(ssl, { deliveryTimeoutMs: 5_000 }), topic, values: ['must-not-arrive'] }, trust())
    expect(result.connectError).toMatchObject({ code: 'TLS_FAILED', transient: false })
    expect(await readTopicWithKcat({ bootstrapServers: broker.bootstrapServers, topic, timeoutMs: 20_000 })).toEqual([])
  })
})

describe(`${engine} engine through the security front: authentication failures`, () => {
  // Production retries (unlimited within the delivery timeout): the verdict comes from the last retried error.
  test.each(['plain', 'scramSha256', 'scramSha512'] as const)('a wrong %s password rejects connect() with a fatal AUTHENTICATION_FAILED', async (mechanism) => {
    const topic = await newTopic('engine-wrong-password')
    const config = configFor(saslSsl, { sasl: sasl(mechanism, 'not-the-password'), deliveryTimeoutMs: 5_000 })
    const result = await runEngine({ config, topic, values: ['must-not-arrive'] }, { SSL_CERT_FILE: saslSsl.caFile })
    expect(result.connectError).toMatchObject({ code: 'AUTHENTICATION_FAILED', transient: false, kafkaName: 'SASL_AUTHENTICATION_FAILED' })
  })

  test('with few client retries, a send without connect() reports every message as fatal AUTHENTICATION_FAILED', async () => {
    const topic = await newTopic('engine-wrong-password-send')
    const config = configFor(saslPlaintext, { sasl: sasl('scramSha256', 'not-the-password'), messageSendMaxRetries: 2 })
    const result = await runEngine({ config, topic, values: ['a', 'b'], skipConnect: true }, {})
    expect(result.connectError).toBeUndefined()
    expect(result.sendErrors).toHaveLength(2)
    for (const error of result.sendErrors ?? []) {
      expect(error).toMatchObject({ code: 'AUTHENTICATION_FAILED', transient: false, kafkaName: 'SASL_AUTHENTICATION_FAILED' })
    }
    expect(await readTopicWithKcat({ bootstrapServers: broker.bootstrapServers, topic, timeoutMs: 20_000 })).toEqual([])
  })
})
