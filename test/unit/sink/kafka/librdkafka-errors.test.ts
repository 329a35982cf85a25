import { describe, expect, test } from 'bun:test'
import { classifyConnectionFailureLog, classifyLibrdkafkaError, kafkaErrorNamesByCode } from '../../../../src/sink/kafka/librdkafka-errors.ts'

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
    expect(classifyConnectionFailureLog('127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection refused (after 0ms in state CONNECT)')).toBeUndefined()
  })
})
