/**
 * The Kafka port's error model: every failure an engine reports is a `KafkaSendError` with one of our stable
 * codes, whether retrying can help (`transient`), the Kafka error name verbatim when the broker named one,
 * and the client's original error as `cause`. Which Kafka error is transient is decided once, in kafka-error-names.ts,
 * from Kafka's own retriable flags (with the few exceptions Kafka's Java producer makes); engines only extract the
 * name (or the network failure) from their client's error shapes and call `classifyKafkaErrorName`.
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
