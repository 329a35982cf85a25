import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { KafkaSendErrorCode } from '../../../../src/sink/kafka/errors.ts'
import { classifyConnectionFailureLog, classifyLibrdkafkaError, kafkaErrorNamesByCode, librdkafkaErrorCode } from '../../../../src/sink/kafka/librdkafka-errors.ts'

describe('kafkaErrorNamesByCode', () => {
  // Codes and names from Kafka's protocol documentation (the "Error Codes" table), written out here.
  test("codes are named as Kafka's protocol documentation names them", () => {
    const documented: Record<number, string> = {
      [-1]: 'UNKNOWN_SERVER_ERROR',
      3: 'UNKNOWN_TOPIC_OR_PARTITION',
      6: 'NOT_LEADER_OR_FOLLOWER',
      10: 'MESSAGE_TOO_LARGE',
      19: 'NOT_ENOUGH_REPLICAS',
      29: 'TOPIC_AUTHORIZATION_FAILED',
      45: 'OUT_OF_ORDER_SEQUENCE_NUMBER',
      58: 'SASL_AUTHENTICATION_FAILED',
      59: 'UNKNOWN_PRODUCER_ID',
    }
    for (const [code, name] of Object.entries(documented)) expect(`${code} ${kafkaErrorNamesByCode[Number(code)]}`).toBe(`${code} ${name}`)
  })
})

describe('classifyLibrdkafkaError', () => {
  test('a Kafka code from a delivery report keeps Kafka\'s name and the shared classification', () => {
    expect(classifyLibrdkafkaError({ code: 10, message: 'Broker: Message size too large', origin: 'kafka' })).toMatchObject({ code: 'MESSAGE_TOO_LARGE', transient: false, kafkaName: 'MESSAGE_TOO_LARGE' })
    expect(classifyLibrdkafkaError({ code: 6, message: 'Broker: Not leader for partition', origin: 'kafka' })).toMatchObject({ code: 'RETRIABLE_BROKER_ERROR', transient: true, kafkaName: 'NOT_LEADER_OR_FOLLOWER' })
  })

  test('local codes: transport and timeouts are transient, TLS and authentication fatal, none has a Kafka name', () => {
    expect(classifyLibrdkafkaError({ code: -195, message: 'broker transport failure', origin: 'local' })).toMatchObject({ code: 'BROKERS_UNAVAILABLE', transient: true, kafkaName: undefined })
    expect(classifyLibrdkafkaError({ code: -192, message: 'Local: Message timed out', origin: 'local' })).toMatchObject({ code: 'DELIVERY_TIMED_OUT', transient: true })
    expect(classifyLibrdkafkaError({ code: -181, message: 'Local: SSL error', origin: 'local' })).toMatchObject({ code: 'TLS_FAILED', transient: false })
    expect(classifyLibrdkafkaError({ code: -169, message: 'Local: Authentication failure', origin: 'local' })).toMatchObject({ code: 'AUTHENTICATION_FAILED', transient: false })
  })

  // The client builds error events from an Error whose text is "Local: <description>" and sets code -1 (its
  // lib/error.js); read as Kafka's -1 (UNKNOWN_SERVER_ERROR) they would be fatal while brokers are merely down.
  test('an error event with code -1 is identified by its description', () => {
    expect(classifyLibrdkafkaError({ code: -1, message: 'broker transport failure', origin: 'local' })).toMatchObject({ code: 'BROKERS_UNAVAILABLE', transient: true })
    expect(classifyLibrdkafkaError({ code: -1, message: 'all broker connections are down', origin: 'local' })).toMatchObject({ code: 'BROKERS_UNAVAILABLE', transient: true })
    expect(classifyLibrdkafkaError({ code: -1, message: 'Unknown broker error', origin: 'kafka' })).toMatchObject({ code: 'BROKER_ERROR', transient: false, kafkaName: 'UNKNOWN_SERVER_ERROR' })
  })

  test('anything that is not a librdkafka error is UNKNOWN and fatal', () => {
    expect(classifyLibrdkafkaError(new Error('boom'))).toMatchObject({ code: 'UNKNOWN', transient: false })
    expect(classifyLibrdkafkaError('text')).toMatchObject({ code: 'UNKNOWN', transient: false })
  })
})

describe('classifyConnectionFailureLog', () => {
  // Texts as librdkafka 2.15.1 logged them against the rig's security front.
  test('TLS verification and SASL authentication failures are recognised; other failures are not', () => {
    expect(
      classifyConnectionFailureLog('[thrd:ssl://127.0.0.1:1/bootstrap]: ssl://127.0.0.1:1/bootstrap: SSL handshake failed: error:0A000086:SSL routines::certificate verify failed: broker certificate could not be verified'),
    ).toMatchObject({ code: 'TLS_FAILED', transient: false })
    expect(
      classifyConnectionFailureLog('[thrd:sasl_ssl://127.0.0.1:1/bootstrap]: sasl_ssl://127.0.0.1:1/bootstrap: SASL authentication error: Authentication failed: Invalid username or password (after 1ms in state AUTH_REQ)'),
    ).toMatchObject({ code: 'AUTHENTICATION_FAILED', transient: false, kafkaName: 'SASL_AUTHENTICATION_FAILED' })
    // The error's message is what the operator reads (the connector's errorDetails): it keeps librdkafka's text.
    const tls = '[thrd:ssl://127.0.0.1:1/bootstrap]: SSL handshake failed: certificate verify failed'
    expect(classifyConnectionFailureLog(tls)?.message).toBe(`librdkafka: ${tls}`)
    const sasl = 'sasl_ssl://127.0.0.1:1/bootstrap: SASL authentication error: Authentication failed: Invalid username or password'
    expect(classifyConnectionFailureLog(sasl)?.message).toBe(`librdkafka: ${sasl}`)
    expect(classifyConnectionFailureLog('127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection refused (after 0ms in state CONNECT)')).toBeUndefined()
  })
})

/**
 * librdkafka's own tables are the oracle: the numbers of its local codes as the client publishes them
 * (lib/error.js, `LibrdKafkaError.codes`, generated from rdkafka.h) and their rd_kafka_err2str descriptions
 * (rdkafka.c). error.js needs the native addon only for `err2str`, so it is evaluated here with that binding absent,
 * to build error events exactly as the client does.
 */
const nodeRequire = createRequire(import.meta.url)
const clientDir = dirname(nodeRequire.resolve('@confluentinc/kafka-javascript/package.json'))

interface ClientError {
  readonly code: number
  readonly message: string
  readonly origin: string
}
interface ClientErrorClass {
  new (error: Error | { message: string; code: number }): ClientError
  readonly codes: Readonly<Record<string, number>>
}

function loadClientErrorClass(): ClientErrorClass {
  const source = readFileSync(join(clientDir, 'lib/error.js'), 'utf8')
  const module = { exports: {} as unknown }
  const requireWithoutAddon = (id: string): unknown => (id === '../librdkafka' ? {} : nodeRequire(id))
  new Function('module', 'exports', 'require', source)(module, module.exports, requireWithoutAddon)
  return module.exports as ClientErrorClass
}

/** rd_kafka_err2str's text of every local code, by librdkafka's name (`_TRANSPORT`), from rdkafka.c. */
function librdkafkaDescriptions(): ReadonlyMap<string, string> {
  const source = readFileSync(join(clientDir, 'deps/librdkafka/src/rdkafka.c'), 'utf8')
  const descriptions = new Map<string, string>()
  for (const match of source.matchAll(/_ERR_DESC\(\s*RD_KAFKA_RESP_ERR_(_\w+),\s*((?:"[^"]*"\s*)+)\)/g)) {
    descriptions.set(match[1]!, [...match[2]!.matchAll(/"([^"]*)"/g)].map((literal) => literal[1]).join(''))
  }
  return descriptions
}

const LibrdKafkaError = loadClientErrorClass()
const descriptions = librdkafkaDescriptions()

/**
 * What each local error means for the port (errors.ts: the contract of each code; librdkafka's INTRODUCTION.md and
 * rdkafka.h for what the error reports). The rules, by group:
 * - the network is down or a name does not resolve: BROKERS_UNAVAILABLE, transient (librdkafka reconnects);
 * - every timeout is transient: the message's delivery timeout is DELIVERY_TIMED_OUT, a request's REQUEST_TIMED_OUT;
 * - a full local queue, too few in-sync replicas and an explicit "retry" are retriable broker conditions;
 * - a purge or the handle's destruction only happen when the port closes: CLIENT_CLOSED, nothing wrong with the data;
 * - the idempotent producer's fatal, fenced or inconsistent state: PRODUCER_STATE_LOST, healed by a new producer;
 * - authentication and TLS failures are fatal (the same settings fail the same way);
 * - an unknown topic or partition, a bad message, an unknown protocol or a feature the broker lacks, something
 *   librdkafka does not implement, an invalid argument: fatal, each under the code the contract names for it.
 */
const expectedByName: Readonly<Record<string, { readonly code: KafkaSendErrorCode; readonly transient: boolean }>> = {
  _TRANSPORT: { code: 'BROKERS_UNAVAILABLE', transient: true },
  _RESOLVE: { code: 'BROKERS_UNAVAILABLE', transient: true },
  _ALL_BROKERS_DOWN: { code: 'BROKERS_UNAVAILABLE', transient: true },
  _MSG_TIMED_OUT: { code: 'DELIVERY_TIMED_OUT', transient: true },
  _TIMED_OUT: { code: 'REQUEST_TIMED_OUT', transient: true },
  _TIMED_OUT_QUEUE: { code: 'REQUEST_TIMED_OUT', transient: true },
  _QUEUE_FULL: { code: 'RETRIABLE_BROKER_ERROR', transient: true },
  _ISR_INSUFF: { code: 'RETRIABLE_BROKER_ERROR', transient: true },
  _RETRY: { code: 'RETRIABLE_BROKER_ERROR', transient: true },
  _DESTROY: { code: 'CLIENT_CLOSED', transient: true },
  _PURGE_QUEUE: { code: 'CLIENT_CLOSED', transient: true },
  _PURGE_INFLIGHT: { code: 'CLIENT_CLOSED', transient: true },
  _FATAL: { code: 'PRODUCER_STATE_LOST', transient: true },
  _FENCED: { code: 'PRODUCER_STATE_LOST', transient: true },
  _INCONSISTENT: { code: 'PRODUCER_STATE_LOST', transient: true },
  _AUTHENTICATION: { code: 'AUTHENTICATION_FAILED', transient: false },
  _SSL: { code: 'TLS_FAILED', transient: false },
  _UNKNOWN_TOPIC: { code: 'UNKNOWN_TOPIC', transient: false },
  _UNKNOWN_PARTITION: { code: 'UNKNOWN_TOPIC', transient: false },
  _BAD_COMPRESSION: { code: 'INVALID_RECORD', transient: false },
  _BAD_MSG: { code: 'INVALID_RECORD', transient: false },
  _UNKNOWN_PROTOCOL: { code: 'UNSUPPORTED_BY_BROKER', transient: false },
  _UNSUPPORTED_FEATURE: { code: 'UNSUPPORTED_BY_BROKER', transient: false },
  _NOT_IMPLEMENTED: { code: 'UNSUPPORTED_BY_ENGINE', transient: false },
  _INVALID_ARG: { code: 'UNKNOWN', transient: false },
}

function codeOf(name: string): number {
  const code = LibrdKafkaError.codes[`ERR_${name}`]
  if (code === undefined) throw new Error(`librdkafka has no code ERR_${name}`)
  return code
}

describe('librdkafka local errors, against librdkafka\'s own tables', () => {
  test('each code number is classified by its meaning, names librdkafka\'s error and carries no Kafka name', () => {
    for (const [name, expected] of Object.entries(expectedByName)) {
      const error = classifyLibrdkafkaError(new LibrdKafkaError({ code: codeOf(name), message: `${descriptions.get(name)}` }))
      expect({ name, code: error.code, transient: error.transient, kafkaName: error.kafkaName }).toEqual({ name, ...expected, kafkaName: undefined })
      expect(error.message).toContain(`librdkafka ${name}:`)
      expect(error.message).toContain(`${descriptions.get(name)}`)
    }
  })

  // The client's error events carry code -1 and only the lower-cased text after "Local: " (lib/error.js).
  test('an error event is classified by its description as the code it describes', () => {
    for (const [name, expected] of Object.entries(expectedByName)) {
      const description = descriptions.get(name)
      expect(`${name} ${description?.startsWith('Local: ')}`).toBe(`${name} true`)
      const event = new LibrdKafkaError(new Error(description))
      expect({ name, origin: event.origin, code: event.code }).toEqual({ name, origin: 'local', code: -1 })
      const error = classifyLibrdkafkaError(event)
      expect({ name, code: error.code, transient: error.transient, kafkaName: error.kafkaName }).toEqual({ name, ...expected, kafkaName: undefined })
      expect(error.message).toContain(`librdkafka ${name}:`)
    }
  })

  test('a description is recognised whatever its case, and only when the error says it is local', () => {
    const text = descriptions.get('_TRANSPORT')!.slice('Local: '.length)
    expect(classifyLibrdkafkaError({ code: -1, message: text, origin: 'local' })).toMatchObject({ code: 'BROKERS_UNAVAILABLE', transient: true })
    expect(classifyLibrdkafkaError({ code: -1, message: text.toUpperCase(), origin: 'local' })).toMatchObject({ code: 'BROKERS_UNAVAILABLE', transient: true })
    // From a broker, -1 is Kafka's UNKNOWN_SERVER_ERROR whatever the text says.
    expect(classifyLibrdkafkaError({ code: -1, message: text, origin: 'kafka' })).toMatchObject({ code: 'BROKER_ERROR', transient: false, kafkaName: 'UNKNOWN_SERVER_ERROR' })
  })

  test('a real code wins over the text it comes with', () => {
    const timedOut = descriptions.get('_MSG_TIMED_OUT')!.slice('Local: '.length).toLowerCase()
    expect(classifyLibrdkafkaError({ code: codeOf('_TRANSPORT'), message: timedOut, origin: 'local' })).toMatchObject({ code: 'BROKERS_UNAVAILABLE' })
  })

  // A local error event whose text names no code we know is not Kafka's -1 (UNKNOWN_SERVER_ERROR): it is unidentified.
  test('an error event with a description we do not know, or without text, is UNKNOWN and fatal', () => {
    for (const name of ['_FAIL', '_CRIT_SYS_RESOURCE', '_STATE']) {
      const error = classifyLibrdkafkaError(new LibrdKafkaError(new Error(descriptions.get(name))))
      expect({ name, code: error.code, transient: error.transient, kafkaName: error.kafkaName }).toEqual({ name, code: 'UNKNOWN', transient: false, kafkaName: undefined })
    }
    expect(classifyLibrdkafkaError({ code: -1, origin: 'local' })).toMatchObject({ code: 'UNKNOWN', transient: false, kafkaName: undefined })
  })

  test('a local code the port gives no meaning is UNKNOWN and fatal', () => {
    for (const name of ['_CRIT_SYS_RESOURCE', '_FAIL', '_STATE', '_NODE_UPDATE']) {
      const error = classifyLibrdkafkaError(new LibrdKafkaError({ code: codeOf(name), message: `${descriptions.get(name)}` }))
      expect({ name, code: error.code, transient: error.transient, kafkaName: error.kafkaName }).toEqual({ name, code: 'UNKNOWN', transient: false, kafkaName: undefined })
    }
  })
})

describe('classifyLibrdkafkaError: messages and shapes', () => {
  test('the message names Kafka\'s error and keeps librdkafka\'s text; without text it names the code', () => {
    expect(classifyLibrdkafkaError({ code: 10, message: 'Broker: Message size too large', origin: 'kafka' }).message).toBe('Kafka answered MESSAGE_TOO_LARGE: Broker: Message size too large')
    expect(classifyLibrdkafkaError({ code: 10, origin: 'kafka' }).message).toBe('Kafka answered MESSAGE_TOO_LARGE: librdkafka error 10')
    expect(classifyLibrdkafkaError({ code: codeOf('_SSL'), origin: 'local' }).message).toBe(`librdkafka _SSL: librdkafka error ${codeOf('_SSL')}`)
  })

  test('a Kafka code no table lists is a fatal broker error that keeps its number', () => {
    const error = classifyLibrdkafkaError({ code: 9999, message: 'Broker: something new', origin: 'kafka' })
    expect(error).toMatchObject({ code: 'BROKER_ERROR', transient: false, kafkaName: 'KAFKA_ERROR_9999' })
    expect(error.message).toBe('Kafka answered error 9999: Broker: something new')
  })

  test('the error keeps librdkafka\'s error as its cause; a KafkaSendError passes through unchanged', () => {
    const original = { code: codeOf('_TRANSPORT'), message: 'Local: Broker transport failure', origin: 'local' }
    expect(classifyLibrdkafkaError(original).cause).toBe(original)
    const classified = classifyLibrdkafkaError({ code: 6, origin: 'kafka' })
    expect(classifyLibrdkafkaError(classified)).toBe(classified)
  })

  test('something without a numeric code is not a librdkafka error', () => {
    for (const value of [null, undefined, 42, { code: '-195', message: 'Local: Broker transport failure' }, { message: 'no code' }]) {
      expect(classifyLibrdkafkaError(value)).toMatchObject({ code: 'UNKNOWN', transient: false, kafkaName: undefined })
      expect(librdkafkaErrorCode(value)).toBeUndefined()
    }
  })
})

describe('delivery reports as the client builds them', () => {
  // The client's error objects mark every code at or above ERR__END (-100), Kafka's included, as origin "local"
  // (lib/error.js): a Kafka code must keep its Kafka name whatever the origin says.
  test("a Kafka code keeps Kafka's name even when the client calls its origin local", () => {
    const report = new LibrdKafkaError({ code: 10, message: 'Broker: Message size too large' })
    expect(report.origin).toBe('local')
    expect(classifyLibrdkafkaError(report)).toMatchObject({ code: 'MESSAGE_TOO_LARGE', transient: false, kafkaName: 'MESSAGE_TOO_LARGE' })
    expect(classifyLibrdkafkaError(new LibrdKafkaError({ code: 6, message: 'Broker: Not leader for partition' }))).toMatchObject({ code: 'RETRIABLE_BROKER_ERROR', transient: true, kafkaName: 'NOT_LEADER_OR_FOLLOWER' })
  })
})

describe('librdkafkaErrorCode', () => {
  test("is librdkafka's number, local or Kafka's", () => {
    expect(librdkafkaErrorCode(new LibrdKafkaError({ code: codeOf('_MSG_TIMED_OUT'), message: 'Local: Message timed out' }))).toBe(-192)
    expect(librdkafkaErrorCode({ code: 6, message: 'Broker: Not leader for partition', origin: 'kafka' })).toBe(6)
    expect(librdkafkaErrorCode({ code: 0 })).toBe(0)
  })
})
