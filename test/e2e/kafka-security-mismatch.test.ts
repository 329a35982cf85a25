/**
 * A Kafka that refuses the connection's security settings is a configuration error, not an outage: the connector
 * stops within seconds with errorDetails that name the cause, instead of retrying until the delivery timeout and
 * then reporting RUNNING while it delivers nothing. Every combination of the four security protocols against the
 * rig's four kinds of listener (the mock broker in plaintext, and the security front's ssl, saslPlaintext and
 * saslSsl listeners in front of it), plus wrong credentials, a mechanism the listener does not enable and an
 * untrusted certificate. Brokers that do not answer at all stay transient.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { randomUUID } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startKafkaSecurityFront, type KafkaSecurityFront } from '../support/kafka-security-front.ts'
import { baseSettings, payloadOf, startRig, type Rig } from '../support/rig.ts'

type Protocol = 'plaintext' | 'ssl' | 'saslPlaintext' | 'saslSsl'
type Sink = Awaited<ReturnType<Rig['startSink']>>

const protocols: readonly Protocol[] = ['plaintext', 'ssl', 'saslPlaintext', 'saslSsl']
const user = 'sink'
const password = 'sink-secret'
/**
 * Longer than the probe needs on a busy machine, shorter than the engine's delivery timeout (30 s), after which
 * a connection failure used to surface: a connector still ACTIVATING or RUNNING by then fails the test.
 */
const stopWithinMs = 20_000

let rig: Rig
let fronts: Record<Exclude<Protocol, 'plaintext'>, KafkaSecurityFront>
let plainOnly: KafkaSecurityFront
let trustDir: string
let sink: Sink
let startTrustingSink: () => Promise<Sink>

beforeAll(async () => {
  rig = await startRig({ brokers: 1 })
  const users = { [user]: password }
  const [ssl, saslPlaintext, saslSsl, plain] = await Promise.all([
    startKafkaSecurityFront({ broker: rig.broker, protocol: 'ssl' }),
    startKafkaSecurityFront({ broker: rig.broker, protocol: 'saslPlaintext', users }),
    startKafkaSecurityFront({ broker: rig.broker, protocol: 'saslSsl', users }),
    startKafkaSecurityFront({ broker: rig.broker, protocol: 'saslPlaintext', users, mechanisms: ['PLAIN'] }),
  ])
  fronts = { ssl, saslPlaintext, saslSsl }
  plainOnly = plain
  // The fronts' throwaway CAs, trusted the way the README tells users to trust a private CA (OpenSSL's variable).
  trustDir = await mkdtemp(join(tmpdir(), 'kafka-sink-mismatch-'))
  const bundle = join(trustDir, 'ca-bundle.pem')
  await writeFile(bundle, (await Promise.all([ssl.caFile!, saslSsl.caFile!].map((file) => readFile(file, 'utf8')))).join('\n'))
  startTrustingSink = () => rig.startSink({ env: { SSL_CERT_FILE: bundle, KAFKA_SINK_DATA_PROTECTION_TOKEN: 'mismatch-test-token' } })
  sink = await startTrustingSink()
}, 60_000)
afterAll(async () => {
  await sink?.stop()
  await Promise.allSettled([...Object.values(fronts ?? {}), plainOnly].map((front) => front?.close()))
  await rig?.close()
  if (trustDir !== undefined) await rm(trustDir, { recursive: true, force: true })
})

function bootstrapOf(listener: Protocol): string {
  return listener === 'plaintext' ? rig.broker.bootstrapServers : fronts[listener].bootstrapServers
}

function securitySettings(protocol: Protocol, options: { mechanism?: string; secret?: string } = {}): Record<string, string> {
  if (protocol === 'plaintext' || protocol === 'ssl') return { 'authentication:securityProtocol': protocol }
  return {
    'authentication:securityProtocol': protocol,
    'authentication:saslMechanism': options.mechanism ?? 'plain',
    'authentication:username': user,
    'authentication:password': options.secret ?? password,
  }
}

async function createAndStart(on: Sink, settings: Record<string, unknown>): Promise<string> {
  const connectorId = `security-${randomUUID().slice(0, 8)}`
  const created = await on.api.request('POST', `/connectors/${connectorId}`, { settings })
  expect(created.status, created.text).toBe(200)
  expect((await on.api.request('POST', `/connectors/${connectorId}/start`)).status).toBe(200)
  return connectorId
}

async function expectStoppedWith(on: Sink, connectorId: string, code: string, message: RegExp): Promise<void> {
  const stopped = await on.api.waitForState(connectorId, 'CONNECTOR_STATE_STOPPED', stopWithinMs)
  const errorDetails = stopped.errorDetails as { code: string; message: string } | undefined
  expect(errorDetails?.code).toBe(code)
  expect(errorDetails?.message).toMatch(message)
  expect(errorDetails?.message).not.toContain(password)
}

/** What the connector must say for a client protocol against a listener protocol (Kafka's listener rules). */
function expectedMismatch(client: Protocol, listener: Protocol): RegExp {
  const clientTls = client === 'ssl' || client === 'saslSsl'
  const listenerTls = listener === 'ssl' || listener === 'saslSsl'
  const clientSasl = client === 'saslPlaintext' || client === 'saslSsl'
  if (listenerTls && !clientTls) return /requires TLS on this listener.*check authentication:securityProtocol/
  if (clientTls && !listenerTls) return /does not offer TLS on this listener.*check authentication:securityProtocol/
  if (clientSasl) return /does not offer SASL on this listener.*check authentication:securityProtocol/
  return /requires SASL authentication on this listener.*check authentication:securityProtocol/
}

const mismatches = protocols.flatMap((client) => protocols.filter((listener) => listener !== client).map((listener) => [client, listener] as const))

describe('a listener of another security protocol stops the connector with the cause', () => {
  test.each(mismatches)('%s client against a %s listener', async (client, listener) => {
    const topic = await rig.createTopic({ partitions: 1, replicationFactor: 1 })
    const connectorId = await createAndStart(sink, baseSettings(topic, bootstrapOf(listener), securitySettings(client)))
    await expectStoppedWith(sink, connectorId, 'SECURITY_PROTOCOL_MISMATCH', expectedMismatch(client, listener))
  }, 60_000)
})

describe('authentication and TLS failures stop the connector with the cause', () => {
  test.each(['saslPlaintext', 'saslSsl'] as const)('a wrong password on a %s listener: SASL_AUTHENTICATION_FAILED', async (protocol) => {
    const topic = await rig.createTopic({ partitions: 1, replicationFactor: 1 })
    const connectorId = await createAndStart(sink, baseSettings(topic, bootstrapOf(protocol), securitySettings(protocol, { secret: 'not-the-password' })))
    await expectStoppedWith(sink, connectorId, 'SASL_AUTHENTICATION_FAILED', /SASL authentication failed/)
  }, 60_000)

  test('a mechanism the listener does not enable: UNSUPPORTED_SASL_MECHANISM', async () => {
    const topic = await rig.createTopic({ partitions: 1, replicationFactor: 1 })
    const connectorId = await createAndStart(sink, baseSettings(topic, plainOnly.bootstrapServers, securitySettings('saslPlaintext', { mechanism: 'scramSha512' })))
    await expectStoppedWith(sink, connectorId, 'UNSUPPORTED_SASL_MECHANISM', /SASL/)
  }, 60_000)

  test('a certificate the process does not trust: TLS_FAILED', async () => {
    // The only instance on this KurrentDB while it runs: beside the trusting one, the connector could run there.
    await sink.stop()
    const untrusting = await rig.startSink({ env: { KAFKA_SINK_DATA_PROTECTION_TOKEN: 'mismatch-test-token' } })
    try {
      const topic = await rig.createTopic({ partitions: 1, replicationFactor: 1 })
      const connectorId = await createAndStart(untrusting, baseSettings(topic, bootstrapOf('ssl'), securitySettings('ssl')))
      await expectStoppedWith(untrusting, connectorId, 'TLS_FAILED', /certificate/)
    } finally {
      await untrusting.stop()
      sink = await startTrustingSink()
    }
  }, 60_000)
})

describe('matching settings deliver; brokers that do not answer stay transient', () => {
  test.each(protocols)('%s client against its own kind of listener delivers', async (protocol) => {
    const topic = await rig.createTopic({ partitions: 1, replicationFactor: 1 })
    const stream = `Security-${randomUUID().slice(0, 8)}`
    const connectorId = await createAndStart(sink, baseSettings(topic, bootstrapOf(protocol), {
      ...securitySettings(protocol),
      'subscription:filter:scope': 'stream',
      'subscription:filter:filterType': 'streamId',
      'subscription:filter:expression': stream,
    }))
    await sink.api.waitForState(connectorId, 'CONNECTOR_STATE_RUNNING')
    await rig.appendEvents(stream, 3)
    expect((await rig.readTopic(topic, 3)).map((record) => payloadOf(record).seq)).toEqual([0, 1, 2])
  }, 60_000)

  test('all brokers down at start: the connector runs and delivers once they are back', async () => {
    const topic = await rig.createTopic({ partitions: 1, replicationFactor: 1 })
    const stream = `SecurityOutage-${randomUUID().slice(0, 8)}`
    await rig.broker.setAllBrokersDown()
    let connectorId: string
    try {
      connectorId = await createAndStart(sink, baseSettings(topic, rig.broker.bootstrapServers, {
        'subscription:filter:scope': 'stream',
        'subscription:filter:filterType': 'streamId',
        'subscription:filter:expression': stream,
      }))
      // Refused connections are an outage: the engine keeps trying until its delivery timeout, then the run goes on.
      await sink.api.waitForState(connectorId, 'CONNECTOR_STATE_RUNNING', 60_000)
      await rig.appendEvents(stream, 2)
    } finally {
      await rig.broker.setAllBrokersUp()
    }
    expect((await rig.readTopic(topic, 2, 60_000)).map((record) => payloadOf(record).seq)).toEqual([0, 1])
    const item = await sink.api.connector(connectorId)
    expect(item?.state).toBe('CONNECTOR_STATE_RUNNING')
    expect(item?.errorDetails).toBeUndefined()
  }, 120_000)
})
