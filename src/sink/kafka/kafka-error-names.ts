/**
 * Errors Kafka names (its protocol's error codes, e.g. NOT_LEADER_OR_FOLLOWER): our stable code for each, and whether
 * retrying can help. Apart from errors.ts because it reads the Kafka client's error table: importing the client costs
 * a few hundred milliseconds of start-up, which only the engines (loaded when a connector first opens Kafka) should
 * pay, not every module that names a KafkaSendError.
 */
// Data only: Kafka's error-code table as the client generates it from Kafka's protocol documentation.
import { protocolErrors } from '@platformatic/kafka'
import { KafkaSendError, type KafkaErrorClassification, type KafkaSendErrorCode } from './errors.ts'

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
