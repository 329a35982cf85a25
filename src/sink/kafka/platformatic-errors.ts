/**
 * Reads @platformatic/kafka's error shapes and turns any of them into a `KafkaSendError` (kafka-error-names.ts
 * decides what is transient). The client nests errors: a send fails with MultipleErrors (one per broker), each the
 * MultipleErrors of its retry attempts (the latest one counts), each a ResponseError (MultipleErrors of ProtocolErrors carrying the
 * Kafka name in `apiId`) or a NetworkError whose `cause` is the socket error. Nothing here may throw: it runs
 * on errors of any origin, including ones that are not Errors at all.
 */
import {
  AuthenticationError,
  NetworkError,
  ProtocolError,
  TimeoutError,
  UnsupportedApiError,
  UnsupportedCompressionError,
  UserError,
} from '@platformatic/kafka'
import { classifyKafkaErrorName } from './kafka-error-names.ts'
import {
  classifyUnidentifiedError,
  isTlsErrorCode,
  isUnreachableErrnoCode,
  KafkaSendError,
  type KafkaErrorClassification,
} from './errors.ts'

type Finding =
  | { readonly kind: 'kafka'; readonly name: string; readonly retriable: boolean | undefined; readonly error: Error }
  | { readonly kind: 'authentication' | 'tls' | 'unsupported' | 'closed' | 'timeout' | 'network'; readonly error: Error }

const maxVisitedErrors = 200

// The client turns UNKNOWN_TOPIC_OR_PARTITION from Metadata into `new UserError('Unknown topic <name>.')` without
// a cause (clients/base/base.js, #performMetadata), so the message is the only trace of the Kafka error.
const unknownTopicMessage = /^Unknown topic (.*)\.$/
// Sent when the client is closed while an operation waits to retry (clients/base/base.js, kPerformWithRetry).
const closedWhileRetryingMessage = /^Client closed while retrying /
// The retry loop's summary of all attempts of one operation (clients/base/base.js, kPerformWithRetry). Only the
// latest attempt says what is wrong now: an earlier attempt's error may have been cured since.
const retryAttemptsMessage = /^\S+ failed \d+ times\.$/
// UserErrors the connection raises around TLS (network/connection.js). 'Broker requires TLS.' means a TLS record
// came back to a plaintext client: certain. The handshake message wraps an ECONNRESET before the TLS session was
// up, which a listener without TLS causes and so does a broker that restarts: the engine's listener probe tells
// them apart, so here it counts as a network failure.
const tlsRequiredMessage = 'Broker requires TLS.'
const tlsHandshakeResetMessage = 'TLS handshake failed. Please verify the broker supports TLS.'

export function classifyPlatformaticError(error: unknown): KafkaSendError {
  try {
    if (error instanceof KafkaSendError) return error
    const findings: Finding[] = []
    collectFindings(error, findings, new Set())
    return decide(error, findings)
  } catch {
    // A getter that throws, a proxy, a cycle we did not foresee: still an answer, never an exception.
    return classifyUnidentifiedError(error)
  }
}

function collectFindings(value: unknown, findings: Finding[], visited: Set<unknown>): void {
  if (!(value instanceof Error) || visited.has(value) || visited.size >= maxVisitedErrors) return
  visited.add(value)
  const error = value as Error & { code?: unknown; apiId?: unknown; canRetry?: unknown; closed?: unknown }

  if (error instanceof ProtocolError && typeof error.apiId === 'string') {
    findings.push({ kind: 'kafka', name: error.apiId, retriable: toBoolean(error.canRetry), error })
  } else if (error instanceof AuthenticationError) {
    findings.push({ kind: 'authentication', error })
  } else if (error instanceof TimeoutError) {
    findings.push({ kind: 'timeout', error })
  } else if (error instanceof UnsupportedApiError || error instanceof UnsupportedCompressionError) {
    findings.push({ kind: 'unsupported', error })
  } else if (error instanceof NetworkError) {
    findings.push({ kind: error.closed === true ? 'closed' : 'network', error })
  } else if (error instanceof UserError) {
    const unknownTopic = unknownTopicMessage.exec(error.message)
    if (unknownTopic) findings.push({ kind: 'kafka', name: 'UNKNOWN_TOPIC_OR_PARTITION', retriable: false, error })
    else if (closedWhileRetryingMessage.test(error.message)) findings.push({ kind: 'closed', error })
    else if (error.message === tlsRequiredMessage) findings.push({ kind: 'tls', error })
    else if (error.message === tlsHandshakeResetMessage) findings.push({ kind: 'network', error })
  } else if (isTlsErrorCode(error.code)) {
    findings.push({ kind: 'tls', error })
  } else if (isUnreachableErrnoCode(error.code)) {
    findings.push({ kind: 'network', error })
  }

  if (error instanceof AggregateError && Array.isArray(error.errors)) {
    const inner: unknown[] = error.errors
    if (retryAttemptsMessage.test(error.message)) collectFindings(inner[inner.length - 1], findings, visited)
    else for (const each of inner) collectFindings(each, findings, visited)
  }
  collectFindings(error.cause, findings, visited)
}

function toBoolean(value: unknown): boolean | undefined {
  return typeof value === 'boolean' ? value : undefined
}

/**
 * One verdict for the whole error tree. Anything fatal wins: if one broker refused the records for good, the
 * batch cannot succeed by retrying. Then a close of the port (the reason the send ended), then the most
 * specific transient cause: a Kafka-named error (the last one, i.e. the latest attempt), a timeout, a network
 * failure. An error with none of these findings is unidentified.
 */
function decide(error: unknown, findings: readonly Finding[]): KafkaSendError {
  let fatalVerdict: { finding: Finding; classification: KafkaErrorClassification; name?: string } | undefined
  let closed: Finding | undefined
  let lastTransientKafka: { finding: Finding; classification: KafkaErrorClassification; name: string } | undefined
  let timeout: Finding | undefined
  let network: Finding | undefined

  for (const finding of findings) {
    switch (finding.kind) {
      case 'kafka': {
        const classification = classifyKafkaErrorName(finding.name, finding.retriable)
        if (!classification.transient) fatalVerdict ??= { finding, classification, name: finding.name }
        else lastTransientKafka = { finding, classification, name: finding.name }
        break
      }
      case 'authentication':
        fatalVerdict ??= { finding, classification: { code: 'AUTHENTICATION_FAILED', transient: false } }
        break
      case 'tls':
        fatalVerdict ??= { finding, classification: { code: 'TLS_FAILED', transient: false } }
        break
      case 'unsupported':
        fatalVerdict ??= { finding, classification: { code: 'UNSUPPORTED_BY_BROKER', transient: false } }
        break
      case 'closed':
        closed ??= finding
        break
      case 'timeout':
        timeout = finding
        break
      case 'network':
        network = finding
        break
    }
  }

  // An AuthenticationError wraps the broker's SASL_AUTHENTICATION_FAILED: keep the Kafka name when there is one.
  const authentication = fatalVerdict?.classification.code === 'AUTHENTICATION_FAILED'
  if (fatalVerdict !== undefined && fatalVerdict.name === undefined && authentication) {
    const named = findings.find(
      (finding) => finding.kind === 'kafka' && classifyKafkaErrorName(finding.name).code === 'AUTHENTICATION_FAILED',
    )
    if (named?.kind === 'kafka') fatalVerdict = { ...fatalVerdict, name: named.name }
  }

  if (fatalVerdict !== undefined) {
    return build(fatalVerdict.classification, fatalVerdict.name, fatalVerdict.finding.error, error)
  }
  if (closed !== undefined) return build({ code: 'CLIENT_CLOSED', transient: true }, undefined, closed.error, error)
  if (lastTransientKafka !== undefined) {
    return build(lastTransientKafka.classification, lastTransientKafka.name, lastTransientKafka.finding.error, error)
  }
  if (timeout !== undefined) return build({ code: 'REQUEST_TIMED_OUT', transient: true }, undefined, timeout.error, error)
  if (network !== undefined) return build({ code: 'BROKERS_UNAVAILABLE', transient: true }, undefined, network.error, error)
  return classifyUnidentifiedError(error)
}

function build(
  classification: KafkaErrorClassification,
  kafkaName: string | undefined,
  decisive: Error,
  original: unknown,
): KafkaSendError {
  const detail = describeDecisive(decisive)
  return new KafkaSendError({
    code: classification.code,
    transient: classification.transient,
    kafkaName,
    message: kafkaName === undefined ? `${classification.code}: ${detail}` : `${kafkaName}: ${detail}`,
    cause: original,
  })
}

/** The decisive error's message, with the socket error's code when the client wrapped one (e.g. ECONNREFUSED). */
function describeDecisive(error: Error): string {
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined
  const causeCode = cause !== null && typeof cause === 'object' && typeof cause.code === 'string' ? cause.code : undefined
  return causeCode === undefined ? error.message : `${error.message} (${causeCode})`
}
