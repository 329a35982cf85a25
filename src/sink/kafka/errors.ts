/**
 * The Kafka port's error model: every failure an engine reports is a `KafkaSendError` with one of our stable
 * codes, whether retrying can help (`transient`), the Kafka error name verbatim when the broker named one,
 * and the client's original error as `cause`. Which Kafka error is transient is decided here, once, by a
 * table over Kafka's error names; engines only extract the name (or the network failure) from their
 * client's error shapes and call `classifyKafkaErrorName` / `kafkaSendErrorFor`.
 */

export const kafkaSendErrorCodes = [
  // transient: retrying later can succeed without anyone changing anything
  'BROKERS_UNAVAILABLE', // no broker reachable: connection refused/reset/closed, DNS, NETWORK_EXCEPTION
  'REQUEST_TIMED_OUT', // a request got no answer in time (broker- or client-side)
  'DELIVERY_TIMED_OUT', // the send was not confirmed within deliveryTimeoutMs, retries included
  'RETRIABLE_BROKER_ERROR', // leadership moves, too few in-sync replicas, storage errors, throttling…
  'PRODUCER_STATE_LOST', // the broker lost or fenced the idempotent producer's state; a new producer id fixes it
  'CLIENT_CLOSED', // the port was closed while the send was in flight; nothing is wrong with the messages
  // fatal: the same send will fail the same way until a setting, an ACL or the data changes
  'AUTHENTICATION_FAILED',
  'AUTHORIZATION_FAILED',
  'TLS_FAILED', // handshake or certificate verification failed
  'SECURITY_PROTOCOL_MISMATCH', // the listener speaks another protocol than authentication:securityProtocol says
  'MESSAGE_TOO_LARGE',
  'INVALID_RECORD',
  'UNKNOWN_TOPIC',
  'INVALID_TOPIC',
  'UNSUPPORTED_BY_BROKER', // protocol version, compression type or acks the broker refuses
  'BROKER_ERROR', // any other error the broker names and Kafka does not call retriable
  'UNKNOWN', // an error we cannot identify (see classifyUnidentifiedError)
] as const
export type KafkaSendErrorCode = (typeof kafkaSendErrorCodes)[number]

export interface KafkaErrorClassification {
  readonly code: KafkaSendErrorCode
  readonly transient: boolean
}

export class KafkaSendError extends Error {
  override readonly name = 'KafkaSendError'
  readonly code: KafkaSendErrorCode
  readonly transient: boolean
  /** The Kafka protocol error name as Kafka spells it (e.g. `UNKNOWN_PRODUCER_ID`), when the broker named one. */
  readonly kafkaName: string | undefined

  constructor(options: {
    readonly code: KafkaSendErrorCode
    readonly transient: boolean
    readonly kafkaName?: string | undefined
    readonly message: string
    readonly cause?: unknown
  }) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = options.code
    this.transient = options.transient
    this.kafkaName = options.kafkaName
  }
}

const transient = (code: KafkaSendErrorCode): KafkaErrorClassification => ({ code, transient: true })
const fatal = (code: KafkaSendErrorCode): KafkaErrorClassification => ({ code, transient: false })

/**
 * Kafka error name → classification. Transient as KurrentDB's Kafka sink documents it (its docs list the
 * retried errors Local_AllBrokersDown, OutOfOrderSequenceNumber, TransactionCoordinatorFenced,
 * UnknownProducerId) plus what Kafka itself marks retriable for producers (leadership, ISR, storage,
 * timeouts). Fatal: security, records the broker rejects on their content, topics that do not exist.
 */
export const kafkaErrorClassifications: Readonly<Record<string, KafkaErrorClassification>> = {
  NETWORK_EXCEPTION: transient('BROKERS_UNAVAILABLE'),
  // Kafka calls it non-retriable (deprecated, never sent by modern brokers); librdkafka treats the broker as
  // down and reconnects, which is what the sink needs when a broker restarts.
  BROKER_NOT_AVAILABLE: transient('BROKERS_UNAVAILABLE'),
  REQUEST_TIMED_OUT: transient('REQUEST_TIMED_OUT'),

  NOT_LEADER_OR_FOLLOWER: transient('RETRIABLE_BROKER_ERROR'),
  LEADER_NOT_AVAILABLE: transient('RETRIABLE_BROKER_ERROR'),
  NOT_ENOUGH_REPLICAS: transient('RETRIABLE_BROKER_ERROR'),
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: transient('RETRIABLE_BROKER_ERROR'),
  REPLICA_NOT_AVAILABLE: transient('RETRIABLE_BROKER_ERROR'),
  KAFKA_STORAGE_ERROR: transient('RETRIABLE_BROKER_ERROR'),
  FENCED_LEADER_EPOCH: transient('RETRIABLE_BROKER_ERROR'),
  UNKNOWN_LEADER_EPOCH: transient('RETRIABLE_BROKER_ERROR'),
  NOT_CONTROLLER: transient('RETRIABLE_BROKER_ERROR'),
  THROTTLING_QUOTA_EXCEEDED: transient('RETRIABLE_BROKER_ERROR'),
  COORDINATOR_LOAD_IN_PROGRESS: transient('RETRIABLE_BROKER_ERROR'),
  COORDINATOR_NOT_AVAILABLE: transient('RETRIABLE_BROKER_ERROR'),
  NOT_COORDINATOR: transient('RETRIABLE_BROKER_ERROR'),
  CONCURRENT_TRANSACTIONS: transient('RETRIABLE_BROKER_ERROR'),

  // The sink's producer is idempotent and not transactional: each of these means the broker no longer
  // matches our producer id/epoch/sequence, which a fresh InitProducerId (a new client) resolves.
  UNKNOWN_PRODUCER_ID: transient('PRODUCER_STATE_LOST'),
  OUT_OF_ORDER_SEQUENCE_NUMBER: transient('PRODUCER_STATE_LOST'),
  DUPLICATE_SEQUENCE_NUMBER: transient('PRODUCER_STATE_LOST'),
  INVALID_PRODUCER_EPOCH: transient('PRODUCER_STATE_LOST'),
  INVALID_PRODUCER_ID_MAPPING: transient('PRODUCER_STATE_LOST'),
  PRODUCER_FENCED: transient('PRODUCER_STATE_LOST'),
  TRANSACTION_COORDINATOR_FENCED: transient('PRODUCER_STATE_LOST'),

  SASL_AUTHENTICATION_FAILED: fatal('AUTHENTICATION_FAILED'),
  UNSUPPORTED_SASL_MECHANISM: fatal('AUTHENTICATION_FAILED'),
  ILLEGAL_SASL_STATE: fatal('AUTHENTICATION_FAILED'),
  DELEGATION_TOKEN_AUTH_DISABLED: fatal('AUTHENTICATION_FAILED'),
  TOPIC_AUTHORIZATION_FAILED: fatal('AUTHORIZATION_FAILED'),
  CLUSTER_AUTHORIZATION_FAILED: fatal('AUTHORIZATION_FAILED'),
  GROUP_AUTHORIZATION_FAILED: fatal('AUTHORIZATION_FAILED'),
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: fatal('AUTHORIZATION_FAILED'),
  DELEGATION_TOKEN_AUTHORIZATION_FAILED: fatal('AUTHORIZATION_FAILED'),

  MESSAGE_TOO_LARGE: fatal('MESSAGE_TOO_LARGE'),
  RECORD_LIST_TOO_LARGE: fatal('MESSAGE_TOO_LARGE'),
  INVALID_RECORD: fatal('INVALID_RECORD'),
  INVALID_TIMESTAMP: fatal('INVALID_RECORD'),
  // Kafka marks a CRC mismatch retriable (it could be corruption on the wire), but our client builds the
  // batch and its CRC itself: resending the same records gives the same answer, so we stop instead.
  CORRUPT_MESSAGE: fatal('INVALID_RECORD'),

  // The sink never asks the broker to create topics: a missing topic stays missing until someone creates it.
  UNKNOWN_TOPIC_OR_PARTITION: fatal('UNKNOWN_TOPIC'),
  UNKNOWN_TOPIC_ID: fatal('UNKNOWN_TOPIC'),
  INVALID_TOPIC_EXCEPTION: fatal('INVALID_TOPIC'),

  UNSUPPORTED_VERSION: fatal('UNSUPPORTED_BY_BROKER'),
  UNSUPPORTED_COMPRESSION_TYPE: fatal('UNSUPPORTED_BY_BROKER'),
  UNSUPPORTED_FOR_MESSAGE_FORMAT: fatal('UNSUPPORTED_BY_BROKER'),
  INVALID_REQUIRED_ACKS: fatal('UNSUPPORTED_BY_BROKER'),

  POLICY_VIOLATION: fatal('BROKER_ERROR'),
  INVALID_REQUEST: fatal('BROKER_ERROR'),
  // Kafka: UnknownServerException is not retriable; the broker hit a bug we cannot reason about.
  UNKNOWN_SERVER_ERROR: fatal('BROKER_ERROR'),
}

/**
 * Classifies a Kafka error name. Names missing from the table fall back to Kafka's own retriable flag when
 * the client knows it (`retriableHint`, e.g. from the client's table generated from Kafka's protocol docs);
 * without one they are fatal, for the reason given on `classifyUnidentifiedError`.
 */
export function classifyKafkaErrorName(name: string, retriableHint?: boolean): KafkaErrorClassification {
  const known = Object.hasOwn(kafkaErrorClassifications, name) ? kafkaErrorClassifications[name] : undefined
  if (known !== undefined) return known
  return retriableHint === true ? transient('RETRIABLE_BROKER_ERROR') : fatal('BROKER_ERROR')
}

/** Node/Bun socket and DNS error codes that mean "this broker cannot be reached right now". */
const unreachableErrnoCodes: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND', // DNS: a typo never heals, but neither does a name not yet published; librdkafka retries both
  'EAI_AGAIN',
  'ESOCKETTIMEDOUT',
])

export function isUnreachableErrnoCode(code: unknown): boolean {
  return typeof code === 'string' && unreachableErrnoCodes.has(code)
}

/** TLS failures come as OpenSSL / Node codes; none of them heals by retrying with the same settings. */
export function isTlsErrorCode(code: unknown): boolean {
  return (
    typeof code === 'string' &&
    (code.startsWith('ERR_TLS_') ||
      code.startsWith('ERR_SSL_') ||
      code.includes('CERT') ||
      code === 'DEPTH_ZERO_SELF_SIGNED_CERT' ||
      code === 'SELF_SIGNED_CERT_IN_CHAIN' ||
      code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' ||
      code === 'HOSTNAME_MISMATCH')
  )
}

/**
 * Failures of the connection's security settings: the same settings fail the same way on every attempt, so they
 * end a connect or a send as soon as the client reports one, instead of after its retries time out.
 */
export function isSecurityFailure(error: KafkaSendError): boolean {
  return (
    !error.transient &&
    (error.code === 'AUTHENTICATION_FAILED' ||
      error.code === 'AUTHORIZATION_FAILED' ||
      error.code === 'TLS_FAILED' ||
      error.code === 'SECURITY_PROTOCOL_MISMATCH')
  )
}

/** Builds the error for a Kafka-named failure, classified by the table. */
export function kafkaSendErrorFor(name: string, options: { message: string; cause?: unknown; retriableHint?: boolean }) {
  const { code, transient } = classifyKafkaErrorName(name, options.retriableHint)
  return new KafkaSendError({ code, transient, kafkaName: name, message: options.message, cause: options.cause })
}

/**
 * The classification of an error nobody could identify: not Kafka-named, not a network or TLS failure.
 * It is fatal. A transient verdict would make the pipeline retry it forever, and an error we do not
 * understand is more likely a bug or a misconfiguration than a passing fault: stopping records it as the
 * connector's errorDetails, where someone will see it, instead of a sink that "runs" and delivers nothing.
 */
export function classifyUnidentifiedError(error: unknown): KafkaSendError {
  return new KafkaSendError({
    code: 'UNKNOWN',
    transient: false,
    kafkaName: undefined,
    message: `Kafka send failed: ${describe(error)}`,
    cause: error,
  })
}

function describe(error: unknown): string {
  try {
    if (error instanceof Error) return error.message || error.name
    return String(error)
  } catch {
    return 'an error that cannot be described'
  }
}
