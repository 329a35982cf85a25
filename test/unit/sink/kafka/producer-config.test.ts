// Settings, as a user writes them (the documentation's keys and values), to what every engine is told.
import { describe, expect, test } from 'bun:test'
import { parseSinkSettings } from '../../../../src/settings/parse-sink-settings.ts'
import { toProducerConfig } from '../../../../src/sink/kafka/producer-config.ts'

function configFor(settings: Record<string, string>) {
  const parsed = parseSinkSettings({ instanceTypeName: 'kafka-sink', topic: 'orders', ...settings })
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.violations))
  return toProducerConfig(parsed.settings, 'orders-sink')
}

describe('toProducerConfig', () => {
  test("the defaults: plaintext, no SASL, zstd 6, V4, the documented retry settings, and acks from every in-sync replica", () => {
    expect(configFor({})).toEqual({
      clientId: 'kafka-sink-orders-sink',
      bootstrapServers: ['localhost:9092'],
      securityProtocol: 'plaintext',
      sasl: undefined,
      acks: 'all',
      compression: { type: 'zstd', level: 6 },
      brokerAddressFamily: 'v4',
      reconnectBackoffMaxMs: 20_000,
      messageSendMaxRetries: 2_147_483_647,
      requestTimeoutMs: 3_000,
      deliveryTimeoutMs: 30_000,
    })
  })

  test('SASL over TLS or plaintext carries the mechanism and the credentials; acks stay all without broker acks', () => {
    const credentials = { 'authentication:username': 'user', 'authentication:password': 'secret' }
    expect(configFor({ 'authentication:securityProtocol': 'SaslSsl', 'authentication:saslMechanism': 'ScramSha512', ...credentials }).sasl).toEqual({ mechanism: 'scramSha512', username: 'user', password: 'secret' })
    expect(configFor({ 'authentication:securityProtocol': 'SaslPlaintext', ...credentials }).sasl).toEqual({ mechanism: 'plain', username: 'user', password: 'secret' })
    expect(configFor({ waitForBrokerAck: 'false' }).acks).toBe('all')
  })

  test('every Kafka setting reaches the engine', () => {
    const config = configFor({
      bootstrapServers: 'a:9092,b:9093',
      'compression:type': 'Lz4',
      'compression:level': '3',
      brokerAddressFamily: 'V6',
      'resilience:reconnectBackoffMaxMs': '1000',
      'resilience:messageSendMaxRetries': '5',
      'resilience:requestTimeoutMs': '20000',
    })
    expect(config).toMatchObject({ bootstrapServers: ['a:9092', 'b:9093'], compression: { type: 'lz4', level: 3 }, brokerAddressFamily: 'v6', reconnectBackoffMaxMs: 1_000, messageSendMaxRetries: 5, requestTimeoutMs: 20_000 })
    // A send may take at least two request timeouts before the pipeline takes over.
    expect(config.deliveryTimeoutMs).toBe(40_000)
  })
})
