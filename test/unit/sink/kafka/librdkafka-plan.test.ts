import { describe, expect, test } from 'bun:test'
import { planLibrdkafkaProducer } from '../../../../src/sink/kafka/librdkafka-plan.ts'
import type { KafkaProducerConfig } from '../../../../src/sink/kafka/port.ts'

const config: KafkaProducerConfig = {
  clientId: 'kafka-sink-orders',
  bootstrapServers: ['a:9092', 'b:9093'],
  securityProtocol: 'saslSsl',
  sasl: { mechanism: 'scramSha512', username: 'user', password: 'secret' },
  acks: 'all',
  compression: { type: 'zstd', level: 6 },
  brokerAddressFamily: 'v4',
  reconnectBackoffMaxMs: 2_000,
  messageSendMaxRetries: 7,
  requestTimeoutMs: 15_000,
  deliveryTimeoutMs: 30_000,
}

// Property names and values as librdkafka 2.15's CONFIGURATION.md defines them.
describe('planLibrdkafkaProducer', () => {
  test('each setting becomes its librdkafka property', () => {
    const { properties, topicProperties, warnings } = planLibrdkafkaProducer(config)
    expect(properties).toMatchObject({
      'client.id': 'kafka-sink-orders',
      'bootstrap.servers': 'a:9092,b:9093',
      'security.protocol': 'sasl_ssl',
      'sasl.mechanisms': 'SCRAM-SHA-512',
      'sasl.username': 'user',
      'sasl.password': 'secret',
      'enable.idempotence': true,
      'broker.address.family': 'v4',
      'reconnect.backoff.max.ms': 2_000,
      'message.send.max.retries': 7,
      dr_cb: true,
    })
    expect(topicProperties).toEqual({
      acks: -1,
      'request.timeout.ms': 15_000,
      'message.timeout.ms': 30_000,
      partitioner: 'murmur2_random',
      'compression.type': 'zstd',
      'compression.level': 6,
    })
    expect(warnings).toEqual([])
  })

  // The client builds each topic's configuration from its second argument only: topic-level properties in the
  // global one are ignored (measured: keys landed on other partitions than murmur2_random's, and messages
  // waited out librdkafka's default 300 s timeout).
  test('topic-level properties are never in the global configuration', () => {
    const { properties } = planLibrdkafkaProducer(config)
    for (const name of ['acks', 'request.timeout.ms', 'message.timeout.ms', 'partitioner', 'compression.level']) expect(properties).not.toHaveProperty(name)
  })

  test('acks=leader: not idempotent, one request in flight, and a warning', () => {
    const { properties, topicProperties, warnings } = planLibrdkafkaProducer({ ...config, acks: 'leader' })
    expect(properties).toMatchObject({ 'enable.idempotence': false, 'max.in.flight.requests.per.connection': 1 })
    expect(topicProperties.acks).toBe(1)
    expect(warnings.join()).toContain('acks=leader')
  })

  test('no retries: idempotence is off (librdkafka refuses it without retries), order kept by one request in flight', () => {
    const { properties } = planLibrdkafkaProducer({ ...config, messageSendMaxRetries: 0 })
    expect(properties).toMatchObject({ 'enable.idempotence': false, 'message.send.max.retries': 0, 'max.in.flight.requests.per.connection': 1 })
  })

  test('plaintext sends no SASL properties; snappy and none have no level', () => {
    const { properties, topicProperties } = planLibrdkafkaProducer({ ...config, securityProtocol: 'plaintext', sasl: undefined, compression: { type: 'snappy', level: 6 } })
    expect(properties['security.protocol']).toBe('plaintext')
    expect(Object.keys(properties).filter((name) => name.startsWith('sasl.'))).toEqual([])
    expect(topicProperties['compression.level']).toBe(-1)
  })

  // CONFIGURATION.md: security.protocol is one of plaintext, ssl, sasl_plaintext, sasl_ssl; sasl.mechanisms one of
  // GSSAPI, PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER.
  test('every security protocol and SASL mechanism by its librdkafka name', () => {
    const protocol = (securityProtocol: KafkaProducerConfig['securityProtocol']) => planLibrdkafkaProducer({ ...config, securityProtocol }).properties['security.protocol']
    expect(['plaintext', 'ssl', 'saslPlaintext', 'saslSsl'].map((name) => protocol(name as KafkaProducerConfig['securityProtocol']))).toEqual(['plaintext', 'ssl', 'sasl_plaintext', 'sasl_ssl'])
    const mechanism = (name: 'plain' | 'scramSha256' | 'scramSha512') => planLibrdkafkaProducer({ ...config, sasl: { mechanism: name, username: 'u', password: 'p' } }).properties['sasl.mechanisms']
    expect([mechanism('plain'), mechanism('scramSha256'), mechanism('scramSha512')]).toEqual(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'])
  })

  // CONFIGURATION.md: ssl.endpoint.identification.algorithm "https" verifies the broker's host name against its
  // certificate; "none" (what plaintext needs) turns that off.
  test('TLS (ssl and sasl_ssl) verifies the broker host name; plaintext and sasl_plaintext set nothing for TLS', () => {
    for (const securityProtocol of ['ssl', 'saslSsl'] as const) {
      expect(planLibrdkafkaProducer({ ...config, securityProtocol }).properties['ssl.endpoint.identification.algorithm']).toBe('https')
    }
    for (const securityProtocol of ['plaintext', 'saslPlaintext'] as const) {
      expect(Object.keys(planLibrdkafkaProducer({ ...config, securityProtocol }).properties).filter((name) => name.startsWith('ssl.'))).toEqual([])
    }
  })

  test('plaintext and ssl send no SASL properties, even with credentials configured, and warn about nothing', () => {
    for (const securityProtocol of ['plaintext', 'ssl'] as const) {
      for (const sasl of [undefined, config.sasl]) {
        const plan = planLibrdkafkaProducer({ ...config, securityProtocol, sasl })
        expect(Object.keys(plan.properties).filter((name) => name.startsWith('sasl.'))).toEqual([])
        expect(plan.warnings).toEqual([])
      }
    }
  })

  test('sasl_plaintext carries the credentials; SASL without credentials connects unauthenticated, with a warning', () => {
    const withCredentials = planLibrdkafkaProducer({ ...config, securityProtocol: 'saslPlaintext' })
    expect(withCredentials.properties).toMatchObject({ 'sasl.mechanisms': 'SCRAM-SHA-512', 'sasl.username': 'user', 'sasl.password': 'secret' })
    expect(withCredentials.warnings).toEqual([])
    for (const securityProtocol of ['saslPlaintext', 'saslSsl'] as const) {
      const without = planLibrdkafkaProducer({ ...config, securityProtocol, sasl: undefined })
      expect(without.warnings).toEqual([`securityProtocol=${securityProtocol} without SASL credentials: connecting without authentication`])
      expect(Object.keys(without.properties).filter((name) => name.startsWith('sasl.'))).toEqual([])
    }
  })

  test('retry back-off: the reconnect back-off, never under 100 ms (librdkafka\'s retry.backoff.ms default)', () => {
    expect(planLibrdkafkaProducer({ ...config, reconnectBackoffMaxMs: 2_000 }).properties['retry.backoff.max.ms']).toBe(2_000)
    expect(planLibrdkafkaProducer({ ...config, reconnectBackoffMaxMs: 10 }).properties['retry.backoff.max.ms']).toBe(100)
  })

  // A topic missing from metadata fails its messages with _UNKNOWN_TOPIC (fatal) after this long: half the delivery
  // timeout, between 1 s and 30 s, so the missing topic is named before the delivery timeout passes.
  test('how long a topic may take to appear in metadata: half the delivery timeout, within 1 s and 30 s; 30 s without one', () => {
    const propagation = (deliveryTimeoutMs: number) => planLibrdkafkaProducer({ ...config, deliveryTimeoutMs }).properties['topic.metadata.propagation.max.ms']
    expect(propagation(30_000)).toBe(15_000)
    expect(propagation(600_000)).toBe(30_000)
    expect(propagation(1_500)).toBe(1_000)
    expect(propagation(0)).toBe(30_000)
  })

  test("topics are never created by the sink, and Nagle's algorithm is off", () => {
    const { properties } = planLibrdkafkaProducer(config)
    expect(properties['allow.auto.create.topics']).toBe(false)
    expect(properties['socket.nagle.disable']).toBe(true)
  })

  test('compression: gzip, lz4 and zstd keep their level, none and snappy have none (-1)', () => {
    const level = (type: KafkaProducerConfig['compression']['type']) => planLibrdkafkaProducer({ ...config, compression: { type, level: 4 } }).topicProperties['compression.level']
    expect(['gzip', 'lz4', 'zstd', 'none', 'snappy'].map((type) => level(type as KafkaProducerConfig['compression']['type']))).toEqual([4, 4, 4, -1, -1])
  })
})
