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
})
