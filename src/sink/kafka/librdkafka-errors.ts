/**
 * The librdkafka engine's error boundary: librdkafka reports every failure as a numeric `rd_kafka_resp_err_t`.
 * Codes from 0 up are Kafka's protocol error codes, which we name as Kafka spells them and classify as the
 * other engine does (errors.ts); negative codes are librdkafka's own (`RD_KAFKA_RESP_ERR__*`, the numbers are part
 * of its ABI), classified here.
 */
import { protocolErrorsCodesById } from '@platformatic/kafka'
import { classifyUnidentifiedError, KafkaSendError, type KafkaSendErrorCode } from './errors.ts'
import { kafkaSendErrorFor } from './kafka-error-names.ts'

/**
 * Kafka protocol error codes → names, as Kafka's protocol documentation spells them (the table @platformatic/kafka
 * generates from it), so every code Kafka can answer is named and classified like the other engine's errors.
 */
export const kafkaErrorNamesByCode: Readonly<Record<number, string>> = protocolErrorsCodesById as Readonly<Record<number, string>>

/**
 * librdkafka's local error codes (rdkafka.h), by the meaning the port gives them. `description` is librdkafka's
 * rd_kafka_err2str text after "Local: ": the client's error events carry only that text (their code reads -1).
 */
const localErrors: Readonly<Record<number, { readonly description: string; readonly name: string; readonly code: KafkaSendErrorCode; readonly transient: boolean }>> = {
  [-195]: { description: 'Broker transport failure', name: '_TRANSPORT', code: 'BROKERS_UNAVAILABLE', transient: true },
  [-193]: { description: 'Host resolution failure', name: '_RESOLVE', code: 'BROKERS_UNAVAILABLE', transient: true },
  [-187]: { description: 'All broker connections are down', name: '_ALL_BROKERS_DOWN', code: 'BROKERS_UNAVAILABLE', transient: true },
  [-192]: { description: 'Message timed out', name: '_MSG_TIMED_OUT', code: 'DELIVERY_TIMED_OUT', transient: true },
  [-185]: { description: 'Timed out', name: '_TIMED_OUT', code: 'REQUEST_TIMED_OUT', transient: true },
  [-166]: { description: 'Timed out in queue', name: '_TIMED_OUT_QUEUE', code: 'REQUEST_TIMED_OUT', transient: true },
  // The local queue is full: backpressure, gone once deliveries drain it.
  [-184]: { description: 'Queue full', name: '_QUEUE_FULL', code: 'RETRIABLE_BROKER_ERROR', transient: true },
  [-183]: { description: 'ISR count insufficient', name: '_ISR_INSUFF', code: 'RETRIABLE_BROKER_ERROR', transient: true },
  [-153]: { description: 'Retry operation', name: '_RETRY', code: 'RETRIABLE_BROKER_ERROR', transient: true },
  // Messages purged or the handle destroyed: the port was closed, nothing is wrong with the messages.
  [-197]: { description: 'Broker handle destroyed for termination', name: '_DESTROY', code: 'CLIENT_CLOSED', transient: true },
  [-152]: { description: 'Purged in queue', name: '_PURGE_QUEUE', code: 'CLIENT_CLOSED', transient: true },
  [-151]: { description: 'Purged in flight', name: '_PURGE_INFLIGHT', code: 'CLIENT_CLOSED', transient: true },
  // The idempotent producer hit an unrecoverable state (librdkafka then refuses every produce): a new
  // producer, with a new producer id, fixes it; the port replaces the client when it sees this.
  [-150]: { description: 'Fatal error', name: '_FATAL', code: 'PRODUCER_STATE_LOST', transient: true },
  [-144]: { description: 'This instance has been fenced by a newer instance', name: '_FENCED', code: 'PRODUCER_STATE_LOST', transient: true },
  [-149]: { description: 'Inconsistent state', name: '_INCONSISTENT', code: 'PRODUCER_STATE_LOST', transient: true },
  [-169]: { description: 'Authentication failure', name: '_AUTHENTICATION', code: 'AUTHENTICATION_FAILED', transient: false },
  [-181]: { description: 'SSL error', name: '_SSL', code: 'TLS_FAILED', transient: false },
  [-188]: { description: 'Unknown topic', name: '_UNKNOWN_TOPIC', code: 'UNKNOWN_TOPIC', transient: false },
  [-190]: { description: 'Unknown partition', name: '_UNKNOWN_PARTITION', code: 'UNKNOWN_TOPIC', transient: false },
  [-198]: { description: 'Invalid compressed data', name: '_BAD_COMPRESSION', code: 'INVALID_RECORD', transient: false },
  [-199]: { description: 'Bad message format', name: '_BAD_MSG', code: 'INVALID_RECORD', transient: false },
  [-171]: { description: 'Unknown protocol', name: '_UNKNOWN_PROTOCOL', code: 'UNSUPPORTED_BY_BROKER', transient: false },
  [-165]: { description: 'Required feature not supported by broker', name: '_UNSUPPORTED_FEATURE', code: 'UNSUPPORTED_BY_BROKER', transient: false },
  [-170]: { description: 'Not implemented', name: '_NOT_IMPLEMENTED', code: 'UNSUPPORTED_BY_ENGINE', transient: false },
  [-186]: { description: 'Invalid argument or configuration', name: '_INVALID_ARG', code: 'UNKNOWN', transient: false },
}

/** The parts of librdkafka's error objects (LibrdKafkaError) the port reads. */
interface LibrdkafkaErrorShape {
  readonly code: number
  readonly message?: string
  readonly origin?: string
}

const localCodesByDescription = new Map(Object.entries(localErrors).map(([code, { description }]) => [description.toLowerCase(), Number(code)]))

/**
 * The code of an error event: the client builds those from an Error whose message is "Local: <description>" and
 * sets code -1 (lib/error.js), so the description is what identifies it.
 */
function effectiveCode(error: LibrdkafkaErrorShape): number {
  if (error.code !== -1 || error.origin !== 'local' || error.message === undefined) return error.code
  return localCodesByDescription.get(error.message.toLowerCase()) ?? error.code
}

function isLibrdkafkaError(error: unknown): error is LibrdkafkaErrorShape {
  return typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'number'
}

/** librdkafka's numeric code of an error, if it is one of its errors. */
export function librdkafkaErrorCode(error: unknown): number | undefined {
  return isLibrdkafkaError(error) ? error.code : undefined
}

export function classifyLibrdkafkaError(error: unknown): KafkaSendError {
  if (error instanceof KafkaSendError) return error
  if (!isLibrdkafkaError(error)) return classifyUnidentifiedError(error)
  const detail = error.message ?? `librdkafka error ${error.code}`
  const code = effectiveCode(error)
  const brokerName = error.origin === 'local' && code === -1 ? undefined : kafkaErrorNamesByCode[code]
  if (brokerName !== undefined) return kafkaSendErrorFor(brokerName, { message: `Kafka answered ${brokerName}: ${detail}`, cause: error })
  const local = localErrors[code]
  if (local !== undefined) {
    // Local codes carry no Kafka name: kafkaName stays undefined, librdkafka's own name goes in the message.
    return new KafkaSendError({ code: local.code, transient: local.transient, message: `librdkafka ${local.name}: ${detail}`, cause: error })
  }
  // A Kafka code our table does not list: fatal, as for any Kafka error name the shared table does not know.
  if (code >= 0) return kafkaSendErrorFor(`KAFKA_ERROR_${code}`, { message: `Kafka answered error ${code}: ${detail}`, cause: error })
  return classifyUnidentifiedError(error)
}

/**
 * librdkafka logs every broker connection failure with facility FAIL, with the text it also hands its error
 * callback. Before the first connection succeeds the client dispatches no error events (they are polled, and it
 * starts polling once connected), so for failures that will not heal — TLS verification, SASL authentication —
 * this text is the only signal in time. Measured with librdkafka 2.15.1: "SSL handshake failed: … certificate
 * verify failed …", "SASL authentication error: Authentication failed: Invalid username or password".
 */
export function classifyConnectionFailureLog(message: string): KafkaSendError | undefined {
  if (/SSL handshake failed|certificate verify failed/i.test(message)) {
    return new KafkaSendError({ code: 'TLS_FAILED', transient: false, message: `librdkafka: ${message}` })
  }
  if (/SASL authentication (error|failed)|Authentication failed/i.test(message)) {
    return new KafkaSendError({ code: 'AUTHENTICATION_FAILED', transient: false, kafkaName: /SASL authentication/i.test(message) ? 'SASL_AUTHENTICATION_FAILED' : undefined, message: `librdkafka: ${message}` })
  }
  return undefined
}
