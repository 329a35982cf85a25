// The Kafka test broker is what every Kafka test stands on: these tests check it with kcat alone (no code
// of ours on the Kafka path), so a failure here points at the rig, not at the sink.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { kafkaTestBrokerPath, startKafkaTestBroker, uniqueTopicName, type KafkaTestBroker } from '../../support/kafka-test-broker.ts'
import { produceWithKcat, readTopicWithKcat } from '../../support/kcat.ts'

// These tests wait on processes and on delivery timeouts of a few seconds, on a shared machine.
setDefaultTimeout(60_000)

// kcat gives up on a message after this long, so tests of failures finish quickly.
const failFast = { 'message.timeout.ms': '3000' }

describe('kafka test broker', () => {
  let broker: KafkaTestBroker

  beforeAll(async () => {
    broker = await startKafkaTestBroker({ brokers: 3 })
  })
  afterAll(async () => {
    await broker?.stop()
  })

  test('prints a bootstrap list of one address per broker', () => {
    expect(broker.bootstrapServers.split(',')).toHaveLength(3)
    expect(broker.bootstrapServers).toMatch(/^127\.0\.0\.1:\d+(,127\.0\.0\.1:\d+){2}$/)
    expect(broker.brokerIds).toEqual([1, 2, 3])
  })

  test('kcat -P then kcat -C round-trips keys, values and headers', async () => {
    const topic = uniqueTopicName('rig-roundtrip')
    await broker.createTopic(topic, { partitions: 3, replicationFactor: 3 })
    const produced = await produceWithKcat({
      bootstrapServers: broker.bootstrapServers,
      topic,
      lines: ['k1|first', 'k2|second', 'k3|trois é'],
      keyDelimiter: '|',
      headers: [
        ['source', 'rig'],
        ['unicode', 'ünï'],
      ],
    })
    expect(produced).toMatchObject({ ok: true })
    const records = await readTopicWithKcat({ bootstrapServers: broker.bootstrapServers, topic, expectedCount: 3, timeoutMs: 20_000 })
    expect(records.map((record) => [record.key, record.value]).sort()).toEqual([
      ['k1', 'first'],
      ['k2', 'second'],
      ['k3', 'trois é'],
    ])
    for (const record of records) {
      expect(record.headers).toEqual([
        ['source', 'rig'],
        ['unicode', 'ünï'],
      ])
      expect(record.timestamp).toBeGreaterThan(0)
    }
  })

  test('createTopic creates exactly the partitions asked for', async () => {
    const topic = uniqueTopicName('rig-partitions')
    await broker.createTopic(topic, { partitions: 5, replicationFactor: 2 })
    for (let partition = 0; partition < 5; partition++) {
      const produced = await produceWithKcat({ bootstrapServers: broker.bootstrapServers, topic, lines: [`p${partition}`], partition })
      expect(produced).toMatchObject({ ok: true })
    }
    const beyond = await produceWithKcat({
      bootstrapServers: broker.bootstrapServers,
      topic,
      lines: ['nowhere'],
      partition: 5,
      config: failFast,
    })
    expect(beyond.ok).toBe(false)
    const records = await readTopicWithKcat({ bootstrapServers: broker.bootstrapServers, topic, expectedCount: 5, timeoutMs: 20_000 })
    expect(records.map((record) => [record.partition, record.value]).sort()).toEqual([
      [0, 'p0'],
      [1, 'p1'],
      [2, 'p2'],
      [3, 'p3'],
      [4, 'p4'],
    ])
  })

  test('all brokers down: nothing gets through; after up it does', async () => {
    const topic = uniqueTopicName('rig-down')
    await broker.createTopic(topic, { partitions: 2, replicationFactor: 3 })
    await broker.setAllBrokersDown()
    try {
      const whileDown = await produceWithKcat({ bootstrapServers: broker.bootstrapServers, topic, lines: ['lost'], config: failFast })
      expect(whileDown.ok).toBe(false)
      expect(whileDown.stderr).toContain('Connection refused')
    } finally {
      await broker.setAllBrokersUp()
    }
    const afterUp = await produceWithKcat({ bootstrapServers: broker.bootstrapServers, topic, lines: ['kept'] })
    expect(afterUp).toMatchObject({ ok: true })
    const records = await readTopicWithKcat({ bootstrapServers: broker.bootstrapServers, topic, expectedCount: 1, timeoutMs: 20_000 })
    expect(records.map((record) => record.value)).toEqual(['kept'])
  })

  test("one broker down: its partitions refuse writes (the mock moves no leaders), the others' accept", async () => {
    const topic = uniqueTopicName('rig-one-down')
    await broker.createTopic(topic, { partitions: 2, replicationFactor: 3 })
    await broker.setPartitionLeader(topic, 0, 2)
    await broker.setPartitionLeader(topic, 1, 3)
    await broker.setBrokerDown(2)
    try {
      const toDown = await produceWithKcat({ bootstrapServers: broker.bootstrapServers, topic, lines: ['p0'], partition: 0, config: failFast })
      expect(toDown.ok).toBe(false)
      const toUp = await produceWithKcat({ bootstrapServers: broker.bootstrapServers, topic, lines: ['p1'], partition: 1 })
      expect(toUp).toMatchObject({ ok: true })
    } finally {
      await broker.setBrokerUp(2)
    }
    const again = await produceWithKcat({ bootstrapServers: broker.bootstrapServers, topic, lines: ['p0 again'], partition: 0 })
    expect(again).toMatchObject({ ok: true })
    const records = await readTopicWithKcat({ bootstrapServers: broker.bootstrapServers, topic, expectedCount: 2, timeoutMs: 20_000 })
    expect(records.map((record) => record.value).sort()).toEqual(['p0 again', 'p1'])
  })

  test('injected Produce errors reach the client: fatal ones fail the message, retriable ones are retried', async () => {
    const topic = uniqueTopicName('rig-errors')
    await broker.createTopic(topic, { partitions: 1, replicationFactor: 3 })
    await broker.pushRequestErrors('Produce', ['MESSAGE_TOO_LARGE'])
    const rejected = await produceWithKcat({ bootstrapServers: broker.bootstrapServers, topic, lines: ['too big'], config: failFast })
    expect(rejected.ok).toBe(false)
    expect(rejected.stderr).toContain('Message size too large')

    await broker.pushRequestErrors('Produce', ['NOT_LEADER_OR_FOLLOWER', 'NOT_ENOUGH_REPLICAS'])
    const retried = await produceWithKcat({ bootstrapServers: broker.bootstrapServers, topic, lines: ['after retries'] })
    expect(retried).toMatchObject({ ok: true })

    await broker.pushRequestErrors('Produce', ['TOPIC_AUTHORIZATION_FAILED', 'TOPIC_AUTHORIZATION_FAILED'])
    await broker.clearRequestErrors('Produce')
    const cleared = await produceWithKcat({ bootstrapServers: broker.bootstrapServers, topic, lines: ['after clear'] })
    expect(cleared).toMatchObject({ ok: true })

    const records = await readTopicWithKcat({ bootstrapServers: broker.bootstrapServers, topic, expectedCount: 2, timeoutMs: 20_000 })
    expect(records.map((record) => record.value)).toEqual(['after retries', 'after clear'])
  })

  test('per-broker errors and round-trip time are accepted and the broker keeps serving', async () => {
    const topic = uniqueTopicName('rig-rtt')
    await broker.createTopic(topic, { partitions: 1, replicationFactor: 1 })
    await broker.setPartitionLeader(topic, 0, 1)
    await broker.pushBrokerRequestErrors(1, 'Produce', [{ name: 'NOT_ENOUGH_REPLICAS', roundTripMs: 50 }])
    await broker.setRoundTripTime(1, 20)
    try {
      const produced = await produceWithKcat({ bootstrapServers: broker.bootstrapServers, topic, lines: ['slow'] })
      expect(produced).toMatchObject({ ok: true })
    } finally {
      await broker.setRoundTripTime(1, 0)
    }
    const records = await readTopicWithKcat({ bootstrapServers: broker.bootstrapServers, topic, expectedCount: 1, timeoutMs: 20_000 })
    expect(records.map((record) => record.value)).toEqual(['slow'])
  })

  test('a topic error blocks the topic until cleared (Metadata answers the error)', async () => {
    const topic = uniqueTopicName('rig-topic-error')
    await broker.setTopicError(topic, 'UNKNOWN_TOPIC_OR_PARTITION')
    // librdkafka waits for an unknown topic to appear, so the message times out rather than failing at once.
    const blocked = await produceWithKcat({ bootstrapServers: broker.bootstrapServers, topic, lines: ['x'], config: failFast })
    expect(blocked.ok).toBe(false)
    await broker.setTopicError(topic, 'NONE')
    // Without the error the mock creates the topic on first use (Metadata v2 has no allow-auto-create flag).
    const cleared = await produceWithKcat({ bootstrapServers: broker.bootstrapServers, topic, lines: ['y'] })
    expect(cleared).toMatchObject({ ok: true })
  })

  test('a bad command is answered with the broker’s reason, and the next command still works', async () => {
    await expect(broker.setBrokerDown(99)).rejects.toThrow(/broker-down 99/)
    await expect(broker.createTopic('', { partitions: 1, replicationFactor: 1 })).rejects.toThrow(/create-topic/)
    await broker.createTopic(uniqueTopicName('rig-after-error'), { partitions: 1, replicationFactor: 1 })
  })
})

describe('kafka test broker process', () => {
  test('exits cleanly when its stdin closes, so it dies with its parent', async () => {
    const child = Bun.spawn([kafkaTestBrokerPath(), '1'], { stdin: 'pipe', stdout: 'pipe', stderr: 'ignore' })
    const reader = child.stdout.getReader()
    const { value } = await reader.read()
    expect(new TextDecoder().decode(value)).toStartWith('bootstrap 127.0.0.1:')
    child.stdin.end()
    expect(await child.exited).toBe(0)
  })

  test('stop() quits the broker and is idempotent', async () => {
    const broker = await startKafkaTestBroker({ brokers: 1 })
    await broker.stop()
    await broker.stop()
    await expect(broker.createTopic('late', { partitions: 1, replicationFactor: 1 })).rejects.toThrow(/stopped/)
    const refused = await produceWithKcat({
      bootstrapServers: broker.bootstrapServers,
      topic: 'late',
      lines: ['x'],
      config: failFast,
    })
    expect(refused.ok).toBe(false)
  })
})
