// The platformatic engine with Kafka security settings, against the security front (TLS and SASL in front of the
// mock cluster). What reached Kafka is read back with kcat, never with the code under test.
//
// Trust: the engine verifies brokers against the system trust store (tls.getCACertificates('system') plus the
// runtime's default roots, platformatic-engine.ts); private CAs belong in that store, and under Bun the system
// store honours OpenSSL's SSL_CERT_FILE and SSL_CERT_DIR, and the default roots NODE_EXTRA_CA_CERTS. The store is
// read from the process's environment, so each engine run here is a child process (engine-child.ts) with its own
// environment: the machine's store is never modified and tests cannot leak trust into each other.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { copyFile, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { KafkaProducerConfig, SaslMechanism } from '../../../../src/sink/kafka/port.ts'
import { startKafkaSecurityFront, type KafkaSecurityFront } from '../../../support/kafka-security-front.ts'
import type { EngineChildJob, EngineChildResult } from '../../../support/kafka-security-front/engine-child.ts'
import { startKafkaTestBroker, uniqueTopicName, type KafkaTestBroker } from '../../../support/kafka-test-broker.ts'
import { expectNoGaps, readTopicWithKcat } from '../../../support/kcat.ts'

// These tests start processes and wait on delivery timeouts of a few seconds, on a shared machine.
setDefaultTimeout(90_000)

const user = 'kafka-sink'
const password = 'sink-secret'
const users = { [user]: password }
const engineChild = resolve(import.meta.dir, '../../../support/kafka-security-front/engine-child.ts')
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
  return {
    clientId: 'kafka-sink-e2e-security',
    bootstrapServers: front.bootstrapServers.split(','),
    securityProtocol: front.protocol,
    sasl: front.protocol === 'ssl' ? undefined : { mechanism: 'plain', username: user, password },
    acks: 'all',
    compression: { type: 'none', level: 0 },
    brokerAddressFamily: 'any',
    reconnectBackoffMaxMs: 500,
    messageSendMaxRetries: 2_147_483_647,
    requestTimeoutMs: 5_000,
    deliveryTimeoutMs: 20_000,
    ...overrides,
  }
}

function sasl(mechanism: SaslMechanism, secret = password): KafkaProducerConfig['sasl'] {
  return { mechanism, username: user, password: secret }
}

/** Runs the engine in a child process whose trust-related environment is exactly `trust`. */
async function runEngine(job: EngineChildJob, trust: Partial<Record<(typeof trustVariables)[number], string>>): Promise<EngineChildResult> {
  const env: Record<string, string | undefined> = { ...process.env }
  for (const name of trustVariables) delete env[name]
  Object.assign(env, trust)
  const child = Bun.spawn([process.execPath, engineChild, JSON.stringify(job)], { env, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited])
  const line = stdout.trim().split('\n').pop() ?? ''
  if (exitCode !== 0 || !line.startsWith('{')) throw new Error(`engine child exited with ${exitCode}: ${stdout}\n${stderr}`)
  return JSON.parse(line) as EngineChildResult
}

async function newTopic(prefix: string): Promise<string> {
  const topic = uniqueTopicName(prefix)
  await broker.createTopic(topic, { partitions: 3, replicationFactor: 3 })
  return topic
}

const values = (prefix: string) => Array.from({ length: 20 }, (_, index) => `${prefix}-${index}`)

/** The engine delivered every value, and kcat, reading the mock directly, finds them all. */
async function expectDelivered(result: EngineChildResult, topic: string, sent: readonly string[]): Promise<void> {
  expect(result.connectError).toBeUndefined()
  expect(result.sendErrors).toEqual(sent.map(() => null))
  const records = await readTopicWithKcat({ bootstrapServers: broker.bootstrapServers, topic, expectedCount: sent.length, timeoutMs: 20_000 })
  expectNoGaps(records, sent)
}

describe('platformatic engine through the security front: delivery', () => {
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

describe('platformatic engine through the security front: trust store', () => {
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

  test('a CA in NODE_EXTRA_CA_CERTS is trusted', async () => {
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

describe('platformatic engine through the security front: authentication failures', () => {
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
