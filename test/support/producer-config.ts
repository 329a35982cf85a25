/**
 * The Kafka producer configuration the engine tests start from (what `settings/` would produce for a plaintext
 * connector with zstd), against a broker's bootstrap list; each test overrides what it is about.
 */
import type { KafkaProducerConfig } from '../../src/sink/kafka/port.ts'

export function testProducerConfig(bootstrapServers: string, overrides: Partial<KafkaProducerConfig> = {}): KafkaProducerConfig {
  return {
    clientId: 'kafka-sink-e2e',
    bootstrapServers: bootstrapServers.split(','),
    securityProtocol: 'plaintext',
    sasl: undefined,
    acks: 'all',
    compression: { type: 'zstd', level: 6 },
    brokerAddressFamily: 'any',
    reconnectBackoffMaxMs: 500,
    messageSendMaxRetries: 2_147_483_647,
    requestTimeoutMs: 5_000,
    deliveryTimeoutMs: 20_000,
    ...overrides,
  }
}
