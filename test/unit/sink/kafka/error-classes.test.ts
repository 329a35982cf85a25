// The building blocks of the Kafka error model, against outside references: Node's system error codes for an
// unreachable broker (nodejs.org/api/errors.html, "Common system errors", and getaddrinfo's EAI_AGAIN / ENOTFOUND),
// Node's and OpenSSL's certificate verification codes for TLS (nodejs.org/api/tls.html, X509 error codes).
import { describe, expect, test } from 'bun:test'
import { classifyUnidentifiedError, isSecurityFailure, isTlsErrorCode, isUnreachableErrnoCode, KafkaSendError, kafkaSendErrorCodes } from '../../../../src/sink/kafka/errors.ts'
import { kafkaSendErrorFor } from '../../../../src/sink/kafka/kafka-error-names.ts'

describe('isUnreachableErrnoCode', () => {
  test("every system error that means 'cannot reach that address now' is one; others and non-strings are not", () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'EHOSTDOWN', 'ENETUNREACH', 'ENETDOWN', 'ENOTFOUND', 'EAI_AGAIN', 'ESOCKETTIMEDOUT']) {
      expect({ code, unreachable: isUnreachableErrnoCode(code) }).toEqual({ code, unreachable: true })
    }
    for (const code of ['EACCES', 'EADDRINUSE', 'ENOENT', 'EPERM', '', undefined, 111, null]) expect({ code, unreachable: isUnreachableErrnoCode(code) }).toEqual({ code, unreachable: false })
  })
})

describe('isTlsErrorCode', () => {
  test("Node's TLS and OpenSSL codes and the certificate verification codes are TLS failures", () => {
    const tlsCodes = [
      'ERR_TLS_CERT_ALTNAME_INVALID',
      'ERR_TLS_HANDSHAKE_TIMEOUT',
      'ERR_SSL_WRONG_VERSION_NUMBER',
      'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
      'CERT_HAS_EXPIRED',
      'CERT_NOT_YET_VALID',
      'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
      'DEPTH_ZERO_SELF_SIGNED_CERT',
      'SELF_SIGNED_CERT_IN_CHAIN',
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'HOSTNAME_MISMATCH',
    ]
    for (const code of tlsCodes) expect({ code, tls: isTlsErrorCode(code) }).toEqual({ code, tls: true })
  })

  test('network codes, codes merely containing the prefixes, and non-strings are not', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'X_ERR_TLS_', 'X_ERR_SSL_', 'ERR_HTTP2_ERROR', '', undefined, 42]) expect({ code, tls: isTlsErrorCode(code) }).toEqual({ code, tls: false })
  })
})

describe('isSecurityFailure', () => {
  const error = (code: (typeof kafkaSendErrorCodes)[number], transient = false) => new KafkaSendError({ code, transient, message: code })

  test('fatal authentication, authorization, TLS and protocol-mismatch failures are; nothing else is', () => {
    const security = ['AUTHENTICATION_FAILED', 'AUTHORIZATION_FAILED', 'TLS_FAILED', 'SECURITY_PROTOCOL_MISMATCH']
    for (const code of kafkaSendErrorCodes) expect({ code, security: isSecurityFailure(error(code)) }).toEqual({ code, security: security.includes(code) })
  })

  test('a transient failure never is, whatever its code', () => {
    for (const code of ['AUTHENTICATION_FAILED', 'TLS_FAILED'] as const) expect(isSecurityFailure(error(code, true))).toBe(false)
  })
})

describe('kafkaSendErrorFor and classifyUnidentifiedError', () => {
  test('a Kafka-named failure keeps the name, the message and the cause, classified by the table', () => {
    const cause = new Error('broker said no')
    const built = kafkaSendErrorFor('TOPIC_AUTHORIZATION_FAILED', { message: 'not allowed to write orders', cause })
    expect({ code: built.code, transient: built.transient, kafkaName: built.kafkaName, message: built.message, cause: built.cause }).toEqual({
      code: 'AUTHORIZATION_FAILED',
      transient: false,
      kafkaName: 'TOPIC_AUTHORIZATION_FAILED',
      message: 'not allowed to write orders',
      cause,
    })
    expect(kafkaSendErrorFor('SOME_FUTURE_ERROR', { message: 'x', retriableHint: true }).transient).toBe(true)
  })

  test('an error without a cause has no cause property', () => {
    expect('cause' in new KafkaSendError({ code: 'UNKNOWN', transient: false, message: 'x' })).toBe(false)
  })

  test("an unidentified error's message describes it: its message, else its name, else its text", () => {
    expect(classifyUnidentifiedError(new Error('socket hang up')).message).toBe('Kafka send failed: socket hang up')
    expect(classifyUnidentifiedError(Object.assign(new Error(''), { name: 'WeirdError' })).message).toBe('Kafka send failed: WeirdError')
    expect(classifyUnidentifiedError('plain text').message).toBe('Kafka send failed: plain text')
    expect(classifyUnidentifiedError(42).message).toBe('Kafka send failed: 42')
    const hostile = { toString: () => { throw new Error('no') } }
    expect(classifyUnidentifiedError(hostile).message).toBe('Kafka send failed: an error that cannot be described')
  })
})
