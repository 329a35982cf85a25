/**
 * The real Kafka of the rig (real-kafka-cluster.ts): every listener and SASL mechanism answers as a Kafka broker
 * does, checked with kcat and with Kafka's own Java console consumer, and a broker can be killed and started again.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { readTopicWithConsoleConsumer } from '../../support/kafka-console-consumer.ts'
import { uniqueTopicName } from '../../support/kafka-test-broker.ts'
import { expectNoGaps, produceWithKcat, readTopicWithKcat } from '../../support/kcat.ts'
import { realKafkaUnavailableReason, startRealKafkaCluster, type RealKafkaCluster } from '../../support/real-kafka-cluster.ts'

setDefaultTimeout(120_000)
const unavailable = realKafkaUnavailableReason()
const alice = { name: 'alice', password: 'alice-secret' }

describe.skipIf(unavailable !== undefined)(`real Kafka, 1 broker${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let cluster: RealKafkaCluster
  beforeAll(async () => {
    cluster = await startRealKafkaCluster({ brokers: 1, users: { [alice.name]: alice.password } })
  })
  afterAll(() => cluster?.stop())

  const kcatSecurity = (): Record<string, Record<string, string>> => ({
    plaintext: {},
    ssl: { 'security.protocol': 'SSL', 'ssl.ca.location': cluster.caFile },
    // kcat (librdkafka 2.0.2) SCRAM is refused by Kafka 4 (see README), so kcat uses PLAIN.
    saslPlaintext: { 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanisms': 'PLAIN', 'sasl.username': alice.name, 'sasl.password': alice.password },
    saslSsl: { 'security.protocol': 'SASL_SSL', 'sasl.mechanisms': 'PLAIN', 'sasl.username': alice.name, 'sasl.password': alice.password, 'ssl.ca.location': cluster.caFile },
  })

  test('kcat writes through each of the four listeners; Java reads them all back over SASL_SSL with SCRAM-SHA-512', async () => {
    const topic = uniqueTopicName('listeners')
    await cluster.createTopic(topic, { partitions: 2 })
    for (const [listener, config] of Object.entries(kcatSecurity())) {
      const written = await produceWithKcat({ bootstrapServers: cluster.listeners[listener as keyof typeof cluster.listeners], topic, lines: [`k-${listener}|${listener}`], keyDelimiter: '|', headers: [['via', listener]], config, timeoutMs: 30_000 })
      expect(written.ok, written.stderr).toBe(true)
    }
    const records = await readTopicWithConsoleConsumer({
      bootstrapServers: cluster.listeners.saslSsl,
      topic,
      expectedCount: 4,
      clientProperties: {
        'security.protocol': 'SASL_SSL',
        'sasl.mechanism': 'SCRAM-SHA-512',
        'sasl.jaas.config': `org.apache.kafka.common.security.scram.ScramLoginModule required username="${alice.name}" password="${alice.password}";`,
        'ssl.truststore.type': 'PEM',
        'ssl.truststore.location': cluster.caFile,
      },
    })
    expect(records.map((record) => record.value).sort()).toEqual(['plaintext', 'saslPlaintext', 'saslSsl', 'ssl'])
    for (const record of records) {
      expect(record.key).toBe(`k-${record.value}`)
      expect(record.headers).toEqual([['via', record.value]])
    }
  })

  test('a wrong password is refused with an authentication error', async () => {
    const topic = uniqueTopicName('refused')
    await cluster.createTopic(topic)
    const config = { ...kcatSecurity().saslSsl!, 'sasl.password': 'wrong', 'message.timeout.ms': '5000' }
    const written = await produceWithKcat({ bootstrapServers: cluster.listeners.saslSsl, topic, lines: ['x'], config, timeoutMs: 30_000 })
    expect(written.ok).toBe(false)
    expect(written.stderr).toContain('Authentication failed')
  })

  test('an ACL denying writes refuses a user, the super user still writes', async () => {
    const topic = uniqueTopicName('acl')
    await cluster.createTopic(topic)
    await cluster.denyTopicWrite(`User:${alice.name}`, topic)
    const asUser = (name: string, password: string) => ({ ...kcatSecurity().saslPlaintext!, 'sasl.username': name, 'sasl.password': password, 'message.timeout.ms': '5000' })
    const denied = await produceWithKcat({ bootstrapServers: cluster.listeners.saslPlaintext, topic, lines: ['denied'], config: asUser(alice.name, alice.password), timeoutMs: 30_000 })
    expect(denied.ok).toBe(false)
    expect(denied.stderr).toContain('Topic authorization failed')
    const allowed = await produceWithKcat({ bootstrapServers: cluster.listeners.saslPlaintext, topic, lines: ['allowed'], config: asUser('admin', cluster.users.admin!), timeoutMs: 30_000 })
    expect(allowed.ok, allowed.stderr).toBe(true)
    expect((await readTopicWithKcat({ bootstrapServers: cluster.bootstrapServers, topic, expectedCount: 1, timeoutMs: 10_000 })).map((record) => record.value)).toEqual(['allowed'])
  })

  test('topics are not created on first use', async () => {
    const topic = uniqueTopicName('absent')
    const written = await produceWithKcat({ bootstrapServers: cluster.bootstrapServers, topic, lines: ['x'], config: { 'message.timeout.ms': '3000' }, timeoutMs: 30_000 })
    expect(written.ok).toBe(false)
    expect(await cluster.describeTopic(topic)).toEqual([])
  })
})

describe.skipIf(unavailable !== undefined)(`real Kafka, 3 brokers${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let cluster: RealKafkaCluster
  beforeAll(async () => {
    cluster = await startRealKafkaCluster({ brokers: 3 })
  })
  afterAll(() => cluster?.stop())

  test('kill -9 of a leader moves its partitions to the survivors; the restarted broker rejoins the ISR', async () => {
    const topic = uniqueTopicName('failover')
    await cluster.createTopic(topic, { partitions: 3, replicationFactor: 3 })
    const before = await cluster.describeTopic(topic)
    expect(before.every((partition) => partition.isr.length === 3)).toBe(true)
    const victim = before[0]!.leader
    await cluster.killBroker(victim)
    await waitFor(async () => (await cluster.describeTopic(topic)).every((partition) => partition.leader !== victim && partition.leader > 0), 'leaders moved')
    const survivors = cluster.brokerIds.filter((id) => id !== victim).map((id) => cluster.brokerAddresses.get(id)!.plaintext).join(',')
    const lines = Array.from({ length: 30 }, (_, index) => `k${index}|v${index}`)
    const written = await produceWithKcat({ bootstrapServers: survivors, topic, lines, keyDelimiter: '|', config: { acks: 'all' } })
    expect(written.ok, written.stderr).toBe(true)
    await cluster.startBroker(victim)
    await waitFor(async () => (await cluster.describeTopic(topic)).every((partition) => partition.isr.includes(victim)), 'the restarted broker in every ISR')
    expectNoGaps(await readTopicWithKcat({ bootstrapServers: cluster.bootstrapServers, topic, expectedCount: 30, timeoutMs: 20_000 }), lines.map((line) => line.split('|')[1]!))
  })
})

async function waitFor(condition: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(250)
  }
}
