/**
 * The binary against a real Apache Kafka (3 brokers, KRaft): what only a real broker can show. Leader elections
 * after kill -9, every broker restarting, min.insync.replicas, a topic that does not exist with auto-creation off,
 * ACLs, SCRAM, every security protocol through real TLS and SASL, and partitioning as Kafka's Java client does it.
 * Kafka output is read with kcat and with Kafka's own Java console consumer, never with the code under test.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { randomUUID } from 'node:crypto'
import { readTopicWithConsoleConsumer } from '../support/kafka-console-consumer.ts'
import { expectNoGaps, expectPerKeyOrder, type KcatRecord } from '../support/kcat.ts'
import { realKafkaUnavailableReason, type RealKafkaListener } from '../support/real-kafka-cluster.ts'
import { baseSettings, payloadOf, startRig, type Rig } from '../support/rig.ts'

setDefaultTimeout(180_000)
const unavailable = realKafkaUnavailableReason()
const user = { name: 'sink-user', password: 'sink-user-secret' }
const deniedUser = { name: 'denied-user', password: 'denied-user-secret' }

const unique = (prefix: string) => `${prefix}${randomUUID().slice(0, 8)}`
const idOf = (record: KcatRecord) => `${payloadOf(record).stream}/${payloadOf(record).seq}`
const expectedIds = (streams: readonly string[], perStream: number) => streams.flatMap((stream) => Array.from({ length: perStream }, (_, seq) => `${stream}/${seq}`))

describe.skipIf(unavailable !== undefined)(`real Kafka (3 brokers)${unavailable ? ` — skipped: ${unavailable}` : ''}`, () => {
  let rig: Rig
  let sink: Awaited<ReturnType<Rig['startSink']>>

  beforeAll(async () => {
    rig = await startRig({ kafka: 'real', brokers: 3, users: { [user.name]: user.password, [deniedUser.name]: deniedUser.password } })
    // The brokers' certificate is signed by the rig's throwaway CA: the sink trusts it the way a user would add a
    // private CA, through OpenSSL's SSL_CERT_FILE.
    sink = await rig.startSink({ args: ['--data-protection-token', 'real-kafka'], env: { SSL_CERT_FILE: rig.realKafka.caFile } })
  })
  afterAll(async () => {
    await rig?.close()
  })

  /** Creates and starts a connector; waits until it runs unless it is expected to fail at once. */
  async function runConnector(settings: Record<string, unknown>, options: { waitForRunning?: boolean } = {}): Promise<string> {
    const connectorId = unique('real-')
    const created = await sink.api.request('POST', `/connectors/${connectorId}`, { settings })
    expect(created.status, created.text).toBe(200)
    expect((await sink.api.request('POST', `/connectors/${connectorId}/start`)).status).toBe(200)
    if (options.waitForRunning !== false) await sink.api.waitForState(connectorId, 'CONNECTOR_STATE_RUNNING')
    return connectorId
  }

  const streamSettings = (prefix: string) => ({ 'subscription:filter:scope': 'stream', 'subscription:filter:filterType': 'prefix', 'subscription:filter:expression': prefix })

  /** Appends `perStream` events to each stream in rounds, running `betweenRounds` after each one. */
  async function appendInRounds(streams: readonly string[], perStream: number, rounds: number, betweenRounds: (round: number) => Promise<void>) {
    const perRound = perStream / rounds
    for (let round = 0; round < rounds; round++) {
      await Promise.all(streams.map((stream) => rig.appendEvents(stream, perRound, { firstSeq: round * perRound })))
      await betweenRounds(round)
    }
  }

  describe('security protocols, through real TLS and SASL', () => {
    // The settings' protocol names are the listeners' names in the rig.
    const cases: { protocol: RealKafkaListener; mechanism?: 'plain' | 'scramSha256' | 'scramSha512' }[] = [
      { protocol: 'plaintext' },
      { protocol: 'ssl' },
      ...(['plain', 'scramSha256', 'scramSha512'] as const).flatMap((mechanism) => [
        { protocol: 'saslPlaintext' as const, mechanism },
        { protocol: 'saslSsl' as const, mechanism },
      ]),
    ]
    for (const example of cases) {
      const mechanism = example.mechanism
      test(`${example.protocol}${mechanism ? ` with ${mechanism}` : ''}: every event arrives`, async () => {
        const topic = await rig.createTopic({ partitions: 3 })
        const prefix = unique(`Security${example.protocol}-`)
        await rig.appendEvents(`${prefix}-a`, 20)
        const authentication = mechanism === undefined ? {} : {
          'authentication:saslMechanism': mechanism,
          'authentication:username': user.name,
          'authentication:password': user.password,
        }
        await runConnector(baseSettings(topic, rig.realKafka.listeners[example.protocol], {
          'authentication:securityProtocol': example.protocol,
          ...authentication,
          ...streamSettings(prefix),
        }))
        const records = await rig.readTopic(topic, 20)
        expect(records.map((record) => payloadOf(record).seq)).toEqual(Array.from({ length: 20 }, (_, seq) => seq))
      })
    }
  })

  describe('what the Java client sees', () => {
    test('headers, keys and partitions read by Kafka\'s console consumer are those kcat reads', async () => {
      const topic = await rig.createTopic({ partitions: 6 })
      const prefix = unique('Java-')
      const streams = Array.from({ length: 8 }, (_, index) => `${prefix}-${index}`)
      await Promise.all(streams.map((stream) => rig.appendEvents(stream, 5, { metadata: { tenant: 'acme', 'trace-id': stream } })))
      await runConnector(baseSettings(topic, rig.bootstrapServers, { ...streamSettings(prefix), 'defaultHeaders:X-Tenant-ID': 'production-tenant' }))
      const viaKcat = await rig.readTopic(topic, 40)
      const viaJava = await readTopicWithConsoleConsumer({ bootstrapServers: rig.bootstrapServers, topic, expectedCount: 40 })
      expect(viaJava).toHaveLength(40)
      const byPosition = new Map(viaKcat.map((record) => [`${record.partition}/${record.offset}`, record]))
      for (const record of viaJava) {
        const same = byPosition.get(`${record.partition}/${record.offset}`)!
        expect(record.key).toBe(same.key)
        expect(record.value).toBe(same.value)
        expect(record.headers).toEqual(same.headers)
        expect(record.timestamp).toBe(same.timestamp)
        const stream = JSON.parse(record.value).stream as string
        expect(record.key).toBe(stream)
        expect(record.headers).toContainEqual(['esdb-record-headers-trace-id', stream])
        expect(record.headers).toContainEqual(['X-Tenant-ID', 'production-tenant'])
      }
    })

    test("each key lands on the partition Kafka's Java producer picks for it (console producer, parse.key)", async () => {
      const partitions = 6
      const [javaTopic, sinkTopic] = [await rig.createTopic({ partitions }), await rig.createTopic({ partitions })]
      const prefix = unique('Partitioner-')
      const keys = Array.from({ length: 60 }, (_, index) => `${prefix}-${index}-${randomUUID().slice(0, 4)}`)
      const produced = await rig.realKafka.runTool('org.apache.kafka.tools.ConsoleProducer', [
        '--bootstrap-server', rig.bootstrapServers, '--topic', javaTopic, '--reader-property', 'parse.key=true', '--reader-property', 'key.separator=|',
      ], { input: keys.map((key) => `${key}|${key}`).join('\n') + '\n' })
      expect(produced.exitCode, produced.stderr).toBe(0)
      await Promise.all(keys.map((key) => rig.appendEvents(key, 1)))
      await runConnector(baseSettings(sinkTopic, rig.bootstrapServers, streamSettings(prefix)))
      const javaPartitionOf = new Map((await rig.readTopic(javaTopic, keys.length)).map((record) => [record.key, record.partition]))
      const sinkRecords = await rig.readTopic(sinkTopic, keys.length)
      expect(javaPartitionOf.size).toBe(keys.length)
      // Spread over several partitions, or the comparison would prove little.
      expect(new Set(javaPartitionOf.values()).size).toBeGreaterThan(3)
      for (const record of sinkRecords) expect({ key: record.key, partition: record.partition }).toEqual({ key: record.key, partition: javaPartitionOf.get(record.key)! })
    })
  })

  describe('broker failures', () => {
    test('kill -9 of a partition leader mid-stream: nothing lost, per-key order kept', async () => {
      const topic = await rig.createTopic({ partitions: 6 })
      const prefix = unique('LeaderKill-')
      const streams = Array.from({ length: 6 }, (_, index) => `${prefix}-${index}`)
      await runConnector(baseSettings(topic, rig.bootstrapServers, streamSettings(prefix)))
      let victim = 0
      await appendInRounds(streams, 600, 3, async (round) => {
        if (round !== 0) return
        await rig.readTopic(topic, 1)
        victim = (await rig.realKafka.describeTopic(topic))[0]!.leader
        await rig.realKafka.killBroker(victim)
      })
      const records = await rig.readTopic(topic, 3_600, 90_000)
      expectNoGaps(records, expectedIds(streams, 600), idOf)
      expectPerKeyOrder(records, (record) => payloadOf(record).seq)
      // The killed broker led partitions that the survivors took over while events flowed.
      expect((await rig.realKafka.describeTopic(topic)).every((partition) => partition.leader !== victim)).toBe(true)
      await rig.realKafka.startBroker(victim)
    })

    test('every broker restarted while events flow: nothing lost, per-key order kept', async () => {
      const topic = await rig.createTopic({ partitions: 6 })
      const prefix = unique('AllRestart-')
      const streams = Array.from({ length: 5 }, (_, index) => `${prefix}-${index}`)
      const connectorId = await runConnector(baseSettings(topic, rig.bootstrapServers, streamSettings(prefix)))
      await appendInRounds(streams, 600, 3, async (round) => {
        if (round === 0) {
          await rig.readTopic(topic, 1)
          await Promise.all(rig.realKafka.brokerIds.map((id) => rig.realKafka.killBroker(id)))
        }
        if (round === 1) await Promise.all(rig.realKafka.brokerIds.map((id) => rig.realKafka.startBroker(id)))
      })
      const records = await rig.readTopic(topic, 3_000, 120_000)
      expectNoGaps(records, expectedIds(streams, 600), idOf)
      expectPerKeyOrder(records, (record) => payloadOf(record).seq)
      expect((await sink.api.connector(connectorId))?.state).toBe('CONNECTOR_STATE_RUNNING')
    })

    test('min.insync.replicas=2 with two brokers down: NOT_ENOUGH_REPLICAS is transient, delivery resumes', async () => {
      const topic = await rig.createTopic({ partitions: 3, config: { 'min.insync.replicas': '2' } })
      const prefix = unique('MinIsr-')
      const streams = [`${prefix}-a`, `${prefix}-b`]
      const connectorId = await runConnector(baseSettings(topic, rig.bootstrapServers, streamSettings(prefix)))
      await Promise.all(streams.map((stream) => rig.appendEvents(stream, 50)))
      await rig.readTopic(topic, 100)
      const [survivor, ...stopped] = rig.realKafka.brokerIds
      await Promise.all(stopped.map((id) => rig.realKafka.stopBroker(id)))
      // Only the survivor is in sync now: acks=all writes are refused with NOT_ENOUGH_REPLICAS.
      await waitFor(async () => (await rig.realKafka.describeTopic(topic)).every((partition) => partition.isr.length === 1 && partition.leader === survivor), 'ISR shrunk to the survivor')
      await Promise.all(streams.map((stream) => rig.appendEvents(stream, 50, { firstSeq: 50 })))
      await waitFor(async () => sink.lines().some((line) => line.includes(connectorId) && line.includes('NOT_ENOUGH_REPLICAS')) || (await sink.api.request('GET', '/metrics')).text.includes('NOT_ENOUGH_REPLICAS'), 'NOT_ENOUGH_REPLICAS reported')
      expect((await sink.api.connector(connectorId))?.state).toBe('CONNECTOR_STATE_RUNNING')
      await Promise.all(stopped.map((id) => rig.realKafka.startBroker(id)))
      const records = await rig.readTopic(topic, 200, 90_000)
      expectNoGaps(records, expectedIds(streams, 100), idOf)
      expectPerKeyOrder(records, (record) => payloadOf(record).seq)
      expect((await sink.api.connector(connectorId))?.state).toBe('CONNECTOR_STATE_RUNNING')
    })
  })

  describe('failures the user must act on', () => {
    test('a topic that does not exist (auto-creation off): the connector stops saying so', async () => {
      const topic = unique('missing-topic-')
      const prefix = unique('Missing-')
      await rig.appendEvents(`${prefix}-a`, 3)
      const connectorId = await runConnector(baseSettings(topic, rig.bootstrapServers, streamSettings(prefix)), { waitForRunning: false })
      const stopped = await sink.api.waitForState(connectorId, 'CONNECTOR_STATE_STOPPED', 90_000)
      const errorDetails = stopped.errorDetails as { code: string; message: string }
      expect(errorDetails.code).toMatch(/UNKNOWN_TOPIC/)
      expect(errorDetails.message).toContain(topic)
      expect(await rig.realKafka.describeTopic(topic)).toEqual([])
    })

    test('an ACL denying writes to the topic: TOPIC_AUTHORIZATION_FAILED stops the connector with that reason', async () => {
      const topic = await rig.createTopic({ partitions: 3 })
      await rig.realKafka.denyTopicWrite(`User:${deniedUser.name}`, topic)
      const prefix = unique('Denied-')
      await rig.appendEvents(`${prefix}-a`, 3)
      const connectorId = await runConnector(baseSettings(topic, rig.realKafka.listeners.saslPlaintext, {
        'authentication:securityProtocol': 'saslPlaintext',
        'authentication:saslMechanism': 'scramSha512',
        'authentication:username': deniedUser.name,
        'authentication:password': deniedUser.password,
        ...streamSettings(prefix),
      }), { waitForRunning: false })
      const stopped = await sink.api.waitForState(connectorId, 'CONNECTOR_STATE_STOPPED', 60_000)
      const errorDetails = stopped.errorDetails as { code: string; message: string }
      expect(`${errorDetails.code} ${errorDetails.message}`).toContain('TOPIC_AUTHORIZATION_FAILED')
      expect(await rig.readTopic(topic)).toEqual([])
    })

    test('a wrong SCRAM password: the connector stops within 10 s with the authentication error', async () => {
      const topic = await rig.createTopic({ partitions: 3 })
      const prefix = unique('WrongPassword-')
      await rig.appendEvents(`${prefix}-a`, 3)
      const connectorId = await runConnector(baseSettings(topic, rig.realKafka.listeners.saslSsl, {
        'authentication:securityProtocol': 'saslSsl',
        'authentication:saslMechanism': 'scramSha256',
        'authentication:username': user.name,
        'authentication:password': 'not-the-password',
        ...streamSettings(prefix),
      }), { waitForRunning: false })
      const stopped = await sink.api.waitForState(connectorId, 'CONNECTOR_STATE_STOPPED', 10_000)
      const errorDetails = stopped.errorDetails as { code: string; message: string }
      expect(`${errorDetails.code} ${errorDetails.message}`).toMatch(/AUTHENTICATION_FAILED/)
      expect(JSON.stringify(stopped)).not.toContain('not-the-password')
      expect(sink.lines().some((line) => line.includes('not-the-password'))).toBe(false)
    })
  })
})

async function waitFor(condition: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(250)
  }
}
