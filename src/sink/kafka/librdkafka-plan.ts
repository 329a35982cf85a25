/**
 * The librdkafka engine's configuration: the port's settings mapped to librdkafka's properties, and what it cannot
 * honour exactly. Pure, apart from the engine (librdkafka-engine.ts), whose client loads only under Node.
 */
import type { KafkaProducerConfig } from './port.ts'

/** librdkafka property values, as its configuration API takes them. */
export type LibrdkafkaProperties = Record<string, string | number | boolean>

export interface LibrdkafkaProducerPlan {
  readonly properties: LibrdkafkaProperties
  /**
   * librdkafka's topic-level properties. They go to the client's topic configuration: the client builds each
   * topic's configuration from that argument, so topic-level values in the global one would be ignored (measured:
   * the partitioner and message.timeout.ms had no effect there).
   */
  readonly topicProperties: LibrdkafkaProperties
  /** Settings the engine cannot honour exactly; logged once when the port is created. */
  readonly warnings: readonly string[]
}

const securityProtocols: Record<KafkaProducerConfig['securityProtocol'], string> = {
  plaintext: 'plaintext',
  ssl: 'ssl',
  saslPlaintext: 'sasl_plaintext',
  saslSsl: 'sasl_ssl',
}
const saslMechanisms: Record<NonNullable<KafkaProducerConfig['sasl']>['mechanism'], string> = {
  plain: 'PLAIN',
  scramSha256: 'SCRAM-SHA-256',
  scramSha512: 'SCRAM-SHA-512',
}

/** Pure: the port's configuration → librdkafka properties (CONFIGURATION.md of librdkafka 2.15). */
export function planLibrdkafkaProducer(config: KafkaProducerConfig): LibrdkafkaProducerPlan {
  const warnings: string[] = []
  // Idempotence protects retries from duplicating and reordering; librdkafka refuses it without retries, and
  // without retries there is nothing for it to protect (max.in.flight 1 keeps the order).
  const idempotent = config.acks === 'all' && config.messageSendMaxRetries > 0
  if (config.acks !== 'all') warnings.push('acks=leader: the idempotent producer needs acks=all, so this producer is not idempotent; retries may write duplicates')
  const retries = config.messageSendMaxRetries
  const properties: LibrdkafkaProperties = {
    'client.id': config.clientId,
    'bootstrap.servers': config.bootstrapServers.join(','),
    'security.protocol': securityProtocols[config.securityProtocol],
    'enable.idempotence': idempotent,
    // Without idempotence a second request in flight could land before a retried first one (Kafka's
    // max.in.flight=1 rule); the idempotent producer keeps order with up to 5.
    'max.in.flight.requests.per.connection': idempotent ? 5 : 1,
    'compression.type': config.compression.type,
    'broker.address.family': config.brokerAddressFamily,
    'reconnect.backoff.max.ms': config.reconnectBackoffMaxMs,
    'retry.backoff.max.ms': Math.max(100, config.reconnectBackoffMaxMs),
    'message.send.max.retries': retries,
    // How long a topic missing from metadata may take to appear before its messages fail with _UNKNOWN_TOPIC
    // (fatal) rather than time out (transient): within the delivery timeout, as in the other engine.
    'topic.metadata.propagation.max.ms': config.deliveryTimeoutMs > 0 ? Math.max(1_000, Math.min(30_000, Math.floor(config.deliveryTimeoutMs / 2))) : 30_000,
    // The pipeline batches and bounds what is in flight; librdkafka's own queue only needs to hold that.
    'queue.buffering.max.messages': 1_000_000,
    'queue.buffering.max.kbytes': 1_048_576,
    // The pipeline already lingers to build its batches; librdkafka's own linger would add to every round trip.
    'linger.ms': 1,
    // Nagle's algorithm with delayed ACKs held each produce request ~40 ms (measured: 2,000-message batches took
    // ~50 ms each against a local broker with it, one batch in flight); the sink batches itself.
    'socket.nagle.disable': true,
    dr_cb: true,
    'allow.auto.create.topics': false,
    // librdkafka logs through the engine's event.log listener, not to stderr.
    log_level: 4,
  }
  if (config.securityProtocol === 'ssl' || config.securityProtocol === 'saslSsl') {
    // OpenSSL's default verify paths, which honour SSL_CERT_FILE and SSL_CERT_DIR like the other engine does.
    properties['ssl.endpoint.identification.algorithm'] = 'https'
  }
  if (config.securityProtocol === 'saslPlaintext' || config.securityProtocol === 'saslSsl') {
    if (config.sasl === undefined) warnings.push(`securityProtocol=${config.securityProtocol} without SASL credentials: connecting without authentication`)
    else {
      properties['sasl.mechanisms'] = saslMechanisms[config.sasl.mechanism]
      properties['sasl.username'] = config.sasl.username
      properties['sasl.password'] = config.sasl.password
    }
  }
  const topicProperties: LibrdkafkaProperties = {
    acks: config.acks === 'all' ? -1 : 1,
    'request.timeout.ms': config.requestTimeoutMs,
    // 0 means no limit, as in the port's configuration.
    'message.timeout.ms': config.deliveryTimeoutMs,
    // Kafka's default partitioner (the Java client's): the same key lands on the same partition as with any producer.
    partitioner: 'murmur2_random',
    'compression.type': config.compression.type,
    'compression.level': config.compression.type === 'snappy' || config.compression.type === 'none' ? -1 : config.compression.level,
  }
  return { properties, topicProperties, warnings }
}
