/**
 * Settings → the engine-neutral producer configuration. Pure; the one place a Kafka setting becomes a client knob.
 */
import type { KafkaSinkSettings } from '../../settings/kafka-sink-settings.ts'
import type { KafkaProducerConfig } from './port.ts'

/**
 * How long one send may take, engine retries included, before the pipeline's own retry policy takes over. librdkafka
 * waits up to 300 s (`delivery.timeout.ms`); we hand back sooner so the connector's logs, metrics and stop requests
 * see a broker outage within seconds rather than minutes. Retrying then continues at the pipeline layer.
 */
const deliveryTimeoutMs = 30_000

export function toProducerConfig(settings: KafkaSinkSettings, connectorId: string): KafkaProducerConfig {
  const { authentication } = settings
  const usesSasl = authentication.securityProtocol === 'saslPlaintext' || authentication.securityProtocol === 'saslSsl'
  return {
    clientId: `kafka-sink-${connectorId}`,
    bootstrapServers: settings.bootstrapServers,
    securityProtocol: authentication.securityProtocol,
    sasl: usesSasl
      ? { mechanism: authentication.saslMechanism, username: authentication.username ?? '', password: authentication.password ?? '' }
      : undefined,
    // Always all: Kafka allows an idempotent producer only with acks=all, and idempotence is what keeps the engine's
    // own retries from reordering or duplicating. `waitForBrokerAck` decides pipelining instead (run-connector.ts),
    // as it does in KurrentDB's own connector, where it picks blocking versus callback delivery, not acks.
    acks: 'all',
    compression: { type: settings.compression.type, level: settings.compression.level },
    brokerAddressFamily: settings.brokerAddressFamily,
    reconnectBackoffMaxMs: settings.resilience.reconnectBackoffMaxMs,
    messageSendMaxRetries: settings.resilience.messageSendMaxRetries,
    requestTimeoutMs: settings.resilience.requestTimeoutMs,
    deliveryTimeoutMs: Math.max(deliveryTimeoutMs, settings.resilience.requestTimeoutMs * 2),
  }
}
