// The classification table decides which Kafka failures the pipeline retries and which stop the connector:
// a wrong row either retries a poisoned batch forever or fails a connector over a leader election.
import { describe, expect, test } from 'bun:test'
import {
  AuthenticationError,
  MultipleErrors,
  NetworkError,
  ProtocolError,
  ResponseError,
  TimeoutError,
  UnsupportedApiError,
  UnsupportedCompressionError,
  UserError,
} from '@platformatic/kafka'
import { classifyUnidentifiedError, KafkaSendError, kafkaSendErrorCodes } from '../../../../src/sink/kafka/errors.ts'
import { classifyKafkaErrorName, isRetriableKafkaError } from '../../../../src/sink/kafka/kafka-error-names.ts'
import { classifyPlatformaticError } from '../../../../src/sink/kafka/platformatic-errors.ts'

describe('classifyKafkaErrorName', () => {
  // Retriable in Kafka's protocol documentation (error codes table), or recovered by the Java idempotent producer.
  test.each([
    ['NOT_LEADER_OR_FOLLOWER', 'RETRIABLE_BROKER_ERROR'],
    ['LEADER_NOT_AVAILABLE', 'RETRIABLE_BROKER_ERROR'],
    ['NOT_ENOUGH_REPLICAS', 'RETRIABLE_BROKER_ERROR'],
    ['NOT_ENOUGH_REPLICAS_AFTER_APPEND', 'RETRIABLE_BROKER_ERROR'],
    ['KAFKA_STORAGE_ERROR', 'RETRIABLE_BROKER_ERROR'],
    ['COORDINATOR_NOT_AVAILABLE', 'RETRIABLE_BROKER_ERROR'],
    ['OUT_OF_ORDER_SEQUENCE_NUMBER', 'PRODUCER_STATE_LOST'],
    ['UNKNOWN_PRODUCER_ID', 'PRODUCER_STATE_LOST'],
    ['INVALID_PRODUCER_EPOCH', 'PRODUCER_STATE_LOST'],
    ['REQUEST_TIMED_OUT', 'REQUEST_TIMED_OUT'],
    ['NETWORK_EXCEPTION', 'BROKERS_UNAVAILABLE'],
    ['CORRUPT_MESSAGE', 'RETRIABLE_BROKER_ERROR'],
  ] as const)('%s is transient (%s)', (name, code) => {
    expect(classifyKafkaErrorName(name)).toEqual({ code, transient: true })
  })

  test.each([
    ['SASL_AUTHENTICATION_FAILED', 'AUTHENTICATION_FAILED'],
    ['UNSUPPORTED_SASL_MECHANISM', 'AUTHENTICATION_FAILED'],
    ['TOPIC_AUTHORIZATION_FAILED', 'AUTHORIZATION_FAILED'],
    ['CLUSTER_AUTHORIZATION_FAILED', 'AUTHORIZATION_FAILED'],
    ['MESSAGE_TOO_LARGE', 'MESSAGE_TOO_LARGE'],
    ['RECORD_LIST_TOO_LARGE', 'MESSAGE_TOO_LARGE'],
    ['INVALID_RECORD', 'INVALID_RECORD'],
    ['BROKER_NOT_AVAILABLE', 'BROKER_ERROR'],
    ['PRODUCER_FENCED', 'BROKER_ERROR'],
    ['TRANSACTION_COORDINATOR_FENCED', 'BROKER_ERROR'],
    ['INVALID_TIMESTAMP', 'INVALID_RECORD'],
    ['UNKNOWN_TOPIC_OR_PARTITION', 'UNKNOWN_TOPIC'],
    ['INVALID_TOPIC_EXCEPTION', 'INVALID_TOPIC'],
    ['UNSUPPORTED_VERSION', 'UNSUPPORTED_BY_BROKER'],
    ['UNSUPPORTED_COMPRESSION_TYPE', 'UNSUPPORTED_BY_BROKER'],
    ['INVALID_REQUIRED_ACKS', 'UNSUPPORTED_BY_BROKER'],
    ['POLICY_VIOLATION', 'BROKER_ERROR'],
    ['UNKNOWN_SERVER_ERROR', 'BROKER_ERROR'],
  ] as const)('%s is fatal (%s)', (name, code) => {
    expect(classifyKafkaErrorName(name)).toEqual({ code, transient: false })
  })

  test("a name missing from the table follows Kafka's retriable flag, and is fatal without one", () => {
    expect(classifyKafkaErrorName('SOME_FUTURE_ERROR', true)).toEqual({ code: 'RETRIABLE_BROKER_ERROR', transient: true })
    expect(classifyKafkaErrorName('SOME_FUTURE_ERROR', false)).toEqual({ code: 'BROKER_ERROR', transient: false })
    expect(classifyKafkaErrorName('SOME_FUTURE_ERROR')).toEqual({ code: 'BROKER_ERROR', transient: false })
  })

  test("a defined name ignores the client's hint, and prototype names are not table rows", () => {
    expect(classifyKafkaErrorName('MESSAGE_TOO_LARGE', true).transient).toBe(false)
    expect(classifyKafkaErrorName('toString')).toEqual({ code: 'BROKER_ERROR', transient: false })
    expect(classifyKafkaErrorName('__proto__', true)).toEqual({ code: 'RETRIABLE_BROKER_ERROR', transient: true })
  })

})

describe('KafkaSendError', () => {
  test('carries code, transient, the Kafka name verbatim and the cause', () => {
    const cause = new Error('original')
    const error = new KafkaSendError({
      code: 'MESSAGE_TOO_LARGE',
      transient: false,
      kafkaName: 'MESSAGE_TOO_LARGE',
      message: 'too large',
      cause,
    })
    expect(error).toBeInstanceOf(Error)
    expect(error.name).toBe('KafkaSendError')
    expect(error.code).toBe('MESSAGE_TOO_LARGE')
    expect(error.transient).toBe(false)
    expect(error.kafkaName).toBe('MESSAGE_TOO_LARGE')
    expect(error.cause).toBe(cause)
  })

  test('an unidentified error is fatal UNKNOWN, with the original as cause', () => {
    const original = new RangeError('boom')
    const error = classifyUnidentifiedError(original)
    expect(error.code).toBe('UNKNOWN')
    expect(error.transient).toBe(false)
    expect(error.kafkaName).toBeUndefined()
    expect(error.cause).toBe(original)
  })
})

/** How the client reports a Produce answer with error codes (apis/producer/produce-v7.js, parseResponse). */
function produceResponseError(...codes: number[]): ResponseError {
  const errors = Object.fromEntries(
    codes.map((code, index) => [`/responses/0/partition_responses/${index}`, [code, null] as [number, null]]),
  )
  return new ResponseError(0, 7, errors, {})
}

/** How a send that failed after retries reaches us: per-broker MultipleErrors of per-attempt errors. */
function sendFailure(...perBroker: Error[]): MultipleErrors {
  return new MultipleErrors('Producing messages failed.', perBroker)
}

function connectionRefused(): NetworkError {
  const socketError = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9092'), { code: 'ECONNREFUSED' })
  return new NetworkError('Connection to 127.0.0.1:9092 failed.', { cause: socketError })
}

describe('classifyPlatformaticError', () => {
  test('a Produce answer with a fatal code keeps the Kafka name', () => {
    const error = classifyPlatformaticError(sendFailure(produceResponseError(10)))
    expect(error.code).toBe('MESSAGE_TOO_LARGE')
    expect(error.transient).toBe(false)
    expect(error.kafkaName).toBe('MESSAGE_TOO_LARGE')
  })

  test('retried attempts: the latest Kafka-named transient error names the failure', () => {
    const attempts = new MultipleErrors('produce failed 3 times.', [
      connectionRefused(),
      produceResponseError(6),
      produceResponseError(59),
    ])
    const error = classifyPlatformaticError(sendFailure(attempts))
    expect(error).toMatchObject({ code: 'PRODUCER_STATE_LOST', transient: true, kafkaName: 'UNKNOWN_PRODUCER_ID' })
  })

  test('only the latest attempt of a retried operation counts', () => {
    const attempts = new MultipleErrors('produce failed 2 times.', [produceResponseError(2), produceResponseError(6)])
    const error = classifyPlatformaticError(sendFailure(attempts))
    expect(error).toMatchObject({ code: 'RETRIABLE_BROKER_ERROR', transient: true, kafkaName: 'NOT_LEADER_OR_FOLLOWER' })
  })

  test('fatal wins over transient anywhere in the tree', () => {
    const error = classifyPlatformaticError(sendFailure(produceResponseError(6), produceResponseError(29)))
    expect(error).toMatchObject({ code: 'AUTHORIZATION_FAILED', transient: false, kafkaName: 'TOPIC_AUTHORIZATION_FAILED' })
  })

  test('connection refused, with no Kafka name, is transient BROKERS_UNAVAILABLE', () => {
    const error = classifyPlatformaticError(
      new MultipleErrors('Cannot connect to any broker.', [connectionRefused(), connectionRefused()]),
    )
    expect(error).toMatchObject({ code: 'BROKERS_UNAVAILABLE', transient: true, kafkaName: undefined })
    expect(error.message).toContain('ECONNREFUSED')
  })

  test('a bare socket error is transient too', () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })
    expect(classifyPlatformaticError(reset)).toMatchObject({ code: 'BROKERS_UNAVAILABLE', transient: true })
  })

  test('a request timeout is transient REQUEST_TIMED_OUT', () => {
    const error = classifyPlatformaticError(new TimeoutError('Request timed out', { canRetry: true }))
    expect(error).toMatchObject({ code: 'REQUEST_TIMED_OUT', transient: true })
  })

  test('SASL failure is fatal AUTHENTICATION_FAILED and keeps the broker’s name for it', () => {
    const sasl = new AuthenticationError('SASL authentication failed.', { cause: new MultipleErrors('x', [new ProtocolError(58)]) })
    const error = classifyPlatformaticError(new NetworkError('Connection to broker:9092 failed.', { cause: sasl }))
    expect(error).toMatchObject({
      code: 'AUTHENTICATION_FAILED',
      transient: false,
      kafkaName: 'SASL_AUTHENTICATION_FAILED',
    })
  })

  test('a certificate the trust store rejects is fatal TLS_FAILED', () => {
    const certificate = Object.assign(new Error('self signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' })
    const error = classifyPlatformaticError(new NetworkError('Connection to broker:9093 failed.', { cause: certificate }))
    expect(error).toMatchObject({ code: 'TLS_FAILED', transient: false })
  })

  // A TLS record answering a plaintext request proves the listener wants TLS; a reset before the TLS session was up
  // happens both against a listener without TLS and against a TLS broker that restarts (the engine probes which).
  test("'Broker requires TLS.' is fatal TLS_FAILED; a reset during the TLS handshake is transient", () => {
    const required = new NetworkError('Connection to broker:9092 failed.', { cause: new UserError('Broker requires TLS.') })
    expect(classifyPlatformaticError(required)).toMatchObject({ code: 'TLS_FAILED', transient: false })
    const reset = Object.assign(new Error('Client network socket disconnected before secure TLS connection was established'), { code: 'ECONNRESET' })
    const handshake = new UserError('TLS handshake failed. Please verify the broker supports TLS.', { cause: reset })
    const error = classifyPlatformaticError(new NetworkError('Connection to broker:9093 failed.', { cause: handshake }))
    expect(error).toMatchObject({ code: 'BROKERS_UNAVAILABLE', transient: true })
  })

  test("the client's 'Unknown topic' UserError is UNKNOWN_TOPIC with Kafka's name for it", () => {
    const error = classifyPlatformaticError(new UserError('Unknown topic orders.'))
    expect(error).toMatchObject({ code: 'UNKNOWN_TOPIC', transient: false, kafkaName: 'UNKNOWN_TOPIC_OR_PARTITION' })
  })

  test('a client closed under a send is transient CLIENT_CLOSED', () => {
    const closedWhileRetrying = new MultipleErrors('produce failed 2 times.', [
      connectionRefused(),
      new UserError('Client closed while retrying produce.'),
    ])
    expect(classifyPlatformaticError(closedWhileRetrying)).toMatchObject({ code: 'CLIENT_CLOSED', transient: true })
    const closed = new NetworkError('Client is closed.', { canRetry: false, closed: true })
    expect(classifyPlatformaticError(closed)).toMatchObject({ code: 'CLIENT_CLOSED', transient: true })
  })

  test('a KafkaSendError passes through unchanged', () => {
    const ours = new KafkaSendError({ code: 'DELIVERY_TIMED_OUT', transient: true, message: 'late' })
    expect(classifyPlatformaticError(ours)).toBe(ours)
  })

  // Unknown origin: classification must answer, never throw, and answer fatal UNKNOWN (see errors.ts).
  test.each([
    ['a plain Error', new Error('something odd')],
    ['a TypeError', new TypeError('x is not a function')],
    ['a string', 'just a string'],
    ['undefined', undefined],
    ['null', null],
    ['a number', 42],
    ['an object', { message: 'not an error' }],
  ])('%s is fatal UNKNOWN', (_label, value) => {
    const error = classifyPlatformaticError(value)
    expect(error).toBeInstanceOf(KafkaSendError)
    expect(error).toMatchObject({ code: 'UNKNOWN', transient: false, kafkaName: undefined })
  })

  test('never throws, even on hostile errors', () => {
    const cyclic = new Error('cycle')
    cyclic.cause = new MultipleErrors('outer', [cyclic])
    expect(classifyPlatformaticError(cyclic).code).toBe('UNKNOWN')

    const hostile = new Proxy(new Error('proxy'), {
      get() {
        throw new Error('getter exploded')
      },
      getPrototypeOf() {
        throw new Error('prototype exploded')
      },
    })
    // (the callbacks return nothing: bun's toThrow also fails on a function that *returns* an Error)
    let classified: KafkaSendError | undefined
    expect(() => {
      classified = classifyPlatformaticError(hostile)
    }).not.toThrow()
    expect(classified).toMatchObject({ code: 'UNKNOWN', transient: false })

    const deep = Array.from({ length: 10_000 }).reduce<Error>((inner) => new Error('wrap', { cause: inner }), connectionRefused())
    expect(() => {
      classifyPlatformaticError(deep)
    }).not.toThrow()
  })
})

describe('classifyPlatformaticError: precedence and what the message says', () => {
  const closed = () => new NetworkError('Client is closed.', { canRetry: false, closed: true })
  const timeout = () => new TimeoutError('Request timed out', { canRetry: true })
  const several = (...errors: Error[]) => new MultipleErrors('Producing messages failed.', errors)

  test('a broker refusing an API version or a compression is fatal UNSUPPORTED_BY_BROKER', () => {
    expect(classifyPlatformaticError(new UnsupportedApiError('Unsupported API Produce.'))).toMatchObject({ code: 'UNSUPPORTED_BY_BROKER', transient: false, kafkaName: undefined })
    expect(classifyPlatformaticError(new UnsupportedCompressionError('zstd is not supported.'))).toMatchObject({ code: 'UNSUPPORTED_BY_BROKER', transient: false })
  })

  test('fatal > closed > the last Kafka-named transient error > timeout > network', () => {
    expect(classifyPlatformaticError(several(closed(), new ProtocolError(29), new ProtocolError(6)))).toMatchObject({ code: 'AUTHORIZATION_FAILED', kafkaName: 'TOPIC_AUTHORIZATION_FAILED' })
    expect(classifyPlatformaticError(several(new ProtocolError(6), closed(), timeout()))).toMatchObject({ code: 'CLIENT_CLOSED', transient: true, kafkaName: undefined })
    expect(classifyPlatformaticError(several(connectionRefused(), new ProtocolError(6), timeout()))).toMatchObject({ code: 'RETRIABLE_BROKER_ERROR', kafkaName: 'NOT_LEADER_OR_FOLLOWER' })
    expect(classifyPlatformaticError(several(connectionRefused(), timeout(), connectionRefused()))).toMatchObject({ code: 'REQUEST_TIMED_OUT', transient: true })
  })

  test('of several fatal errors the first names the failure; of several transient Kafka errors the last', () => {
    expect(classifyPlatformaticError(several(new ProtocolError(10), new ProtocolError(29)))).toMatchObject({ kafkaName: 'MESSAGE_TOO_LARGE' })
    expect(classifyPlatformaticError(several(new ProtocolError(6), new ProtocolError(19)))).toMatchObject({ kafkaName: 'NOT_ENOUGH_REPLICAS', transient: true })
  })

  test("the message names the Kafka error or our code, then the decisive error's message and its socket code", () => {
    expect(classifyPlatformaticError(several(connectionRefused())).message).toBe('BROKERS_UNAVAILABLE: connect ECONNREFUSED 127.0.0.1:9092')
    const wrapped = new NetworkError('Connection to 127.0.0.1:9092 failed.', { cause: Object.assign(new Error('protocol error'), { code: 'EPROTO' }) })
    expect(classifyPlatformaticError(wrapped).message).toBe('BROKERS_UNAVAILABLE: Connection to 127.0.0.1:9092 failed. (EPROTO)')
    const named = classifyPlatformaticError(several(new ProtocolError(29)))
    expect(named.message).toStartWith('TOPIC_AUTHORIZATION_FAILED: ')
    expect(named.message).not.toContain('(')
    expect(classifyPlatformaticError(timeout()).message).toBe('REQUEST_TIMED_OUT: Request timed out')
  })

  test('SASL failure without a Kafka-named cause is AUTHENTICATION_FAILED without a name', () => {
    const error = classifyPlatformaticError(new AuthenticationError('SASL authentication failed.'))
    expect(error).toMatchObject({ code: 'AUTHENTICATION_FAILED', transient: false, kafkaName: undefined })
    expect(error.message).toBe('AUTHENTICATION_FAILED: SASL authentication failed.')
  })

  test('a TLS failure reported only by its code is TLS_FAILED; the cause keeps the original', () => {
    const original = new NetworkError('Connection to broker:9093 failed.', { cause: Object.assign(new Error("Hostname/IP does not match certificate's altnames"), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }) })
    const error = classifyPlatformaticError(original)
    expect(error).toMatchObject({ code: 'TLS_FAILED', transient: false })
    expect(error.cause).toBe(original)
  })

  test("a UserError the table does not know of says nothing, and a Kafka error's own retriable flag is used for an unknown name", () => {
    expect(classifyPlatformaticError(new UserError('Something else.'))).toMatchObject({ code: 'UNKNOWN' })
    // A protocol error from a newer broker: the client cannot build one by name, so it is made by hand.
    const protocolError = (apiId: string, canRetry: unknown): Error => Object.assign(Object.create(ProtocolError.prototype) as Error, { apiId, canRetry, message: `${apiId} from the broker` })
    const future = protocolError('SOME_FUTURE_ERROR', true)
    expect(classifyPlatformaticError(future)).toMatchObject({ code: 'RETRIABLE_BROKER_ERROR', transient: true, kafkaName: 'SOME_FUTURE_ERROR' })
    const futureFatal = protocolError('SOME_FUTURE_ERROR', 'yes')
    expect(classifyPlatformaticError(futureFatal)).toMatchObject({ code: 'BROKER_ERROR', transient: false })
  })
})

describe("classifyPlatformaticError: the client's messages are matched whole", () => {
  const transientThenFatal = (summary: string) => new MultipleErrors(summary, [produceResponseError(10), produceResponseError(6)])

  test('only a retry summary ("<operation> failed <n> times.") reduces to its latest attempt', () => {
    expect(classifyPlatformaticError(transientThenFatal('produce failed 12 times.'))).toMatchObject({ kafkaName: 'NOT_LEADER_OR_FOLLOWER' })
    for (const summary of ['two words failed 2 times.', 'produce failed 2 times. Giving up', 'produce failed many times.', ' failed 2 times.']) {
      expect({ summary, name: classifyPlatformaticError(transientThenFatal(summary)).kafkaName }).toEqual({ summary, name: 'MESSAGE_TOO_LARGE' })
    }
  })

  test("'Unknown topic <name>.' and 'Client closed while retrying …' only as the whole message", () => {
    for (const message of ['Unknown topic orders.x', 'Error: Unknown topic orders.', 'Not: Client closed while retrying produce.']) {
      expect({ message, code: classifyPlatformaticError(new UserError(message)).code }).toEqual({ message, code: 'UNKNOWN' })
    }
  })

  test('the TLS handshake message alone (no socket error under it) is a network failure', () => {
    expect(classifyPlatformaticError(new UserError('TLS handshake failed. Please verify the broker supports TLS.'))).toMatchObject({ code: 'BROKERS_UNAVAILABLE', transient: true })
  })

  test('a Kafka name counts only on a ProtocolError', () => {
    expect(classifyPlatformaticError(Object.assign(new Error('odd'), { apiId: 'MESSAGE_TOO_LARGE' }))).toMatchObject({ code: 'UNKNOWN' })
  })

  test('a cycle in the tree still finds what is in it', () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })
    reset.cause = new MultipleErrors('Producing messages failed.', [reset])
    expect(classifyPlatformaticError(reset)).toMatchObject({ code: 'BROKERS_UNAVAILABLE' })
  })

  test('a SASL failure takes the name of an authentication error only: not of another Kafka error, nor for a TLS failure', () => {
    const sasl = new AuthenticationError('SASL authentication failed.', { cause: new MultipleErrors('x', [new ProtocolError(6)]) })
    expect(classifyPlatformaticError(sasl)).toMatchObject({ code: 'AUTHENTICATION_FAILED', kafkaName: undefined })
    const tls = new MultipleErrors('Producing messages failed.', [new UserError('Broker requires TLS.'), new ProtocolError(58)])
    expect(classifyPlatformaticError(tls)).toMatchObject({ code: 'TLS_FAILED', kafkaName: undefined })
  })

  test('a SASL failure does not take the name of a transient Kafka error that came before it', () => {
    const error = new MultipleErrors('Producing messages failed.', [new ProtocolError(6), new AuthenticationError('SASL authentication failed.')])
    expect(classifyPlatformaticError(error)).toMatchObject({ code: 'AUTHENTICATION_FAILED', transient: false, kafkaName: undefined })
  })

  // The client nests its errors as AggregateErrors (MultipleErrors); an `errors` field elsewhere is that error's own
  // data (a validation library's list, say), not causes: a socket code in it says nothing about the brokers.
  test("only an AggregateError's errors are causes", () => {
    const foreign = Object.assign(new Error('validation failed'), { errors: [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })] })
    expect(classifyPlatformaticError(foreign)).toMatchObject({ code: 'UNKNOWN', transient: false })
  })

  test('only a string code of an object cause is appended to the message', () => {
    // Causes as a client may set them at run time, whatever its types say.
    for (const cause of ['text', { code: 111 }, null]) {
      expect(classifyPlatformaticError(new NetworkError('Connection failed.', { cause: cause as unknown as Error })).message).toBe('BROKERS_UNAVAILABLE: Connection failed.')
    }
  })
})
