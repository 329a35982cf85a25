/**
 * The Kafka port's error model: every failure an engine reports is a `KafkaSendError` with one of our stable
 * codes, whether retrying can help (`transient`), the Kafka error name verbatim when the broker named one,
 * and the client's original error as `cause`. Which Kafka error is transient is decided here, once, from Kafka's
 * own retriable flags (with the few exceptions Kafka's Java producer makes); engines only extract the name (or the
 * network failure) from their client's error shapes and call `classifyKafkaErrorName`.
 */
// Data only: Kafka's error-code table as the client generates it from Kafka's protocol documentation.
import { protocolErrors } from '@platformatic/kafka'

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
  'UNSUPPORTED_BY_ENGINE', // a setting the Kafka engine cannot apply on this runtime (e.g. a missing codec)
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
 * Kafka error name → our stable code: what errorDetails and the logs group a failure under. Whether it is retried
 * is not decided here but by `isRetriableKafkaError`. Names missing from this map get RETRIABLE_BROKER_ERROR or
 * BROKER_ERROR, after Kafka's flag.
 */
const kafkaErrorCodes: Readonly<Record<string, KafkaSendErrorCode>> = {
  NETWORK_EXCEPTION: 'BROKERS_UNAVAILABLE',
  REQUEST_TIMED_OUT: 'REQUEST_TIMED_OUT',

  UNKNOWN_PRODUCER_ID: 'PRODUCER_STATE_LOST',
  OUT_OF_ORDER_SEQUENCE_NUMBER: 'PRODUCER_STATE_LOST',
  DUPLICATE_SEQUENCE_NUMBER: 'PRODUCER_STATE_LOST',
  INVALID_PRODUCER_EPOCH: 'PRODUCER_STATE_LOST',

  SASL_AUTHENTICATION_FAILED: 'AUTHENTICATION_FAILED',
  UNSUPPORTED_SASL_MECHANISM: 'AUTHENTICATION_FAILED',
  ILLEGAL_SASL_STATE: 'AUTHENTICATION_FAILED',
  DELEGATION_TOKEN_AUTH_DISABLED: 'AUTHENTICATION_FAILED',
  TOPIC_AUTHORIZATION_FAILED: 'AUTHORIZATION_FAILED',
  CLUSTER_AUTHORIZATION_FAILED: 'AUTHORIZATION_FAILED',
  GROUP_AUTHORIZATION_FAILED: 'AUTHORIZATION_FAILED',
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 'AUTHORIZATION_FAILED',
  DELEGATION_TOKEN_AUTHORIZATION_FAILED: 'AUTHORIZATION_FAILED',

  MESSAGE_TOO_LARGE: 'MESSAGE_TOO_LARGE',
  RECORD_LIST_TOO_LARGE: 'MESSAGE_TOO_LARGE',
  INVALID_RECORD: 'INVALID_RECORD',
  INVALID_TIMESTAMP: 'INVALID_RECORD',

  UNKNOWN_TOPIC_OR_PARTITION: 'UNKNOWN_TOPIC',
  UNKNOWN_TOPIC_ID: 'UNKNOWN_TOPIC',
  INVALID_TOPIC_EXCEPTION: 'INVALID_TOPIC',

  UNSUPPORTED_VERSION: 'UNSUPPORTED_BY_BROKER',
  UNSUPPORTED_COMPRESSION_TYPE: 'UNSUPPORTED_BY_BROKER',
  UNSUPPORTED_FOR_MESSAGE_FORMAT: 'UNSUPPORTED_BY_BROKER',
  INVALID_REQUIRED_ACKS: 'UNSUPPORTED_BY_BROKER',
}

/**
 * Where the sink departs from Kafka's retriable flag, each as Kafka's Java producer does:
 * - The idempotent, non-transactional producer recovers from a broker that lost or rejects its sequence state by
 *   resetting its producer id and epoch and sending again (TransactionManager, KIP-360): so do we, with a new client.
 *   The Java producer completes a DUPLICATE_SEQUENCE_NUMBER batch as already written; we send it again, which
 *   at-least-once allows.
 * - UnknownTopicOrPartitionException is retriable (an InvalidMetadataException), but the Java producer retries it
 *   only while it waits for the topic to appear in metadata (`max.block.ms`), then fails the send. The engine's
 *   retries within the delivery timeout are that wait; what reaches this table after it is final.
 */
const javaProducerOverrides: Readonly<Record<string, boolean>> = {
  UNKNOWN_PRODUCER_ID: true,
  OUT_OF_ORDER_SEQUENCE_NUMBER: true,
  INVALID_PRODUCER_EPOCH: true,
  DUPLICATE_SEQUENCE_NUMBER: true,
  UNKNOWN_TOPIC_OR_PARTITION: false,
  UNKNOWN_TOPIC_ID: false,
}

/**
 * Errors Kafka 4.4 defines that the client's table (generated from an older protocol) lacks, with Kafka's
 * retriable flag (`RetriableException` subclasses in kafka-clients 4.4.0). None is a producer's error, but a broker
 * may still name one, and an unknown name would otherwise be judged by the client's hint alone.
 */
const newerKafkaErrors: Readonly<Record<string, boolean>> = {
  INVALID_REGULAR_EXPRESSION: false,
  REBOOTSTRAP_REQUIRED: false,
  STREAMS_INVALID_TOPOLOGY: false,
  STREAMS_INVALID_TOPOLOGY_EPOCH: false,
  STREAMS_TOPOLOGY_FENCED: false,
  SHARE_SESSION_LIMIT_REACHED: true,
  GROUP_DELETION_FAILED: false,
  STREAMS_TOPOLOGY_DESCRIPTION_UPDATE_FAILED: false,
  CONTROLLER_ID_NOT_REGISTERED: false,
}

/**
 * Whether retrying a Kafka error can help: Kafka's own `retriable` flag from its protocol documentation (the
 * error-code table, generated from it, that @platformatic/kafka ships), except `javaProducerOverrides`. An error
 * Kafka does not define falls back to `retriableHint` (the client's verdict), else it is fatal.
 */
export function isRetriableKafkaError(name: string, retriableHint?: boolean): boolean {
  if (Object.hasOwn(javaProducerOverrides, name)) return javaProducerOverrides[name]!
  const defined = Object.hasOwn(protocolErrors, name) ? (protocolErrors as Readonly<Record<string, { canRetry: boolean }>>)[name] : undefined
  if (defined !== undefined) return defined.canRetry
  if (Object.hasOwn(newerKafkaErrors, name)) return newerKafkaErrors[name]!
  return retriableHint === true
}

/** Classifies a Kafka error name: our code for it, and whether it is retried (`isRetriableKafkaError`). */
export function classifyKafkaErrorName(name: string, retriableHint?: boolean): KafkaErrorClassification {
  const retriable = isRetriableKafkaError(name, retriableHint)
  const code = Object.hasOwn(kafkaErrorCodes, name) ? kafkaErrorCodes[name]! : retriable ? 'RETRIABLE_BROKER_ERROR' : 'BROKER_ERROR'
  return retriable ? transient(code) : fatal(code)
}

/** A KafkaSendError for an error Kafka named, classified as above (the engines' boundaries build theirs with it). */
export function kafkaSendErrorFor(name: string, options: { message: string; cause?: unknown; retriableHint?: boolean }) {
  const { code, transient } = classifyKafkaErrorName(name, options.retriableHint)
  return new KafkaSendError({ code, transient, kafkaName: name, message: options.message, cause: options.cause })
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
