// The probe's conversation fed byte by byte. Expectations from the Kafka protocol guide (kafka.apache.org/protocol):
// every request and response is an int32 size followed by that many bytes; request header v1 is api_key int16,
// api_version int16, correlation_id int32, client_id nullable string (int16 length); ApiVersions (key 18) v0 has an
// empty request body and answers correlation_id, error_code int16, api_keys [api_key, min_version, max_version]
// (int32 count, int16 each); Metadata (key 3) v0 takes topics as an array of strings. A TLS record starts with its
// content type (20 change_cipher_spec, 21 alert, 22 handshake) and a 3.x version (RFC 8446 §5.1).
import { describe, expect, test } from 'bun:test'
import { startProbeConversation } from '../../../../src/sink/kafka/listener-probe-conversation.ts'

interface DecodedRequest {
  readonly apiKey: number
  readonly apiVersion: number
  readonly correlationId: number
  readonly clientId: string
  readonly body: Buffer
}

function decodeRequest(bytes: Buffer): DecodedRequest {
  expect(bytes.readInt32BE(0)).toBe(bytes.length - 4)
  const clientIdLength = bytes.readInt16BE(12)
  return {
    apiKey: bytes.readInt16BE(4),
    apiVersion: bytes.readInt16BE(6),
    correlationId: bytes.readInt32BE(8),
    clientId: bytes.subarray(14, 14 + clientIdLength).toString(),
    body: bytes.subarray(14 + clientIdLength),
  }
}

function sized(payload: Buffer): Buffer {
  const size = Buffer.alloc(4)
  size.writeInt32BE(payload.length)
  return Buffer.concat([size, payload])
}

/** An ApiVersions v0 response body (without the size), listing `apiKeys` with versions 0–3. */
function apiVersionsBody(correlationId: number, apiKeys: readonly number[], count = apiKeys.length): Buffer {
  const body = Buffer.alloc(10 + apiKeys.length * 6)
  body.writeInt32BE(correlationId, 0)
  body.writeInt16BE(0, 4)
  body.writeInt32BE(count, 6)
  apiKeys.forEach((apiKey, index) => {
    body.writeInt16BE(apiKey, 10 + index * 6)
    body.writeInt16BE(0, 12 + index * 6)
    body.writeInt16BE(3, 14 + index * 6)
  })
  return body
}

const saslHandshake = 17
/** What a broker lists: Produce, Fetch, Metadata, ApiVersions … and, on every listener, SaslHandshake (last here). */
const brokerApis = [0, 1, 3, 18, 36, saslHandshake]
/** A Metadata v0 response: correlation id, an empty broker array and an empty topic array. */
const metadataAnswer = sized(Buffer.from([0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0]))

/** A conversation whose ApiVersions request got the answer `apiKeys`, and the request it sent next. */
function afterApiVersions(apiKeys: readonly number[] = brokerApis, overTls = false) {
  const conversation = startProbeConversation(overTls)
  const { correlationId } = decodeRequest(conversation.opening)
  const reply = conversation.receive(sized(apiVersionsBody(correlationId, apiKeys)))
  expect(reply.observation).toBeUndefined()
  expect(reply.send).toBeDefined()
  return { conversation, next: decodeRequest(reply.send!) }
}

describe('the requests', () => {
  test('it opens with ApiVersions v0: no body, a correlation id and a client id naming the sink', () => {
    const opening = decodeRequest(startProbeConversation(false).opening)
    expect(opening.apiKey).toBe(18)
    expect(opening.apiVersion).toBe(0)
    expect(opening.body.length).toBe(0)
    expect(opening.clientId).toContain('kafka-sink')
  })

  test('once ApiVersions is answered it asks for Metadata v0 with an empty topic array, under a new correlation id', () => {
    const opening = decodeRequest(startProbeConversation(false).opening)
    const { next } = afterApiVersions()
    expect(next.apiKey).toBe(3)
    expect(next.apiVersion).toBe(0)
    expect([...next.body]).toEqual([0, 0, 0, 0])
    expect(next.clientId).toBe(opening.clientId)
    expect(next.correlationId).not.toBe(opening.correlationId)
  })
})

describe('a Kafka listener', () => {
  test('that answers Metadata needs no authentication; SaslHandshake listed anywhere among the APIs is seen', () => {
    const { conversation } = afterApiVersions()
    expect(conversation.receive(metadataAnswer)).toEqual({ observation: { kind: 'kafka', overTls: false, advertisesSaslHandshake: true, authenticationRequired: false } })
  })

  test('without SaslHandshake among its APIs does not advertise it', () => {
    const { conversation } = afterApiVersions([0, 3, 18])
    expect(conversation.receive(metadataAnswer).observation).toEqual({ kind: 'kafka', overTls: false, advertisesSaslHandshake: false, authenticationRequired: false })
  })

  test('with SaslHandshake as its only API advertises it', () => {
    const { conversation } = afterApiVersions([saslHandshake])
    expect(conversation.ended(undefined)).toEqual({ kind: 'kafka', overTls: false, advertisesSaslHandshake: true, authenticationRequired: true })
  })

  test('an empty API list is still an ApiVersions answer', () => {
    const { conversation } = afterApiVersions([])
    expect(conversation.receive(metadataAnswer).observation).toEqual({ kind: 'kafka', overTls: false, advertisesSaslHandshake: false, authenticationRequired: false })
  })

  test.each([[undefined], ['ECONNRESET']])('that closes on Metadata (%p) requires authentication', (reason) => {
    const { conversation } = afterApiVersions()
    expect(conversation.ended(reason)).toEqual({ kind: 'kafka', overTls: false, advertisesSaslHandshake: true, authenticationRequired: true })
  })

  test('over TLS says so', () => {
    const { conversation } = afterApiVersions(brokerApis, true)
    expect(conversation.receive(metadataAnswer).observation).toEqual({ kind: 'kafka', overTls: true, advertisesSaslHandshake: true, authenticationRequired: false })
  })

  test('the Metadata answer counts once it has fully arrived', () => {
    const { conversation } = afterApiVersions()
    expect(conversation.receive(metadataAnswer.subarray(0, 6))).toEqual({})
    expect(conversation.receive(metadataAnswer.subarray(6, metadataAnswer.length - 1))).toEqual({})
    expect(conversation.receive(metadataAnswer.subarray(metadataAnswer.length - 1)).observation?.kind).toBe('kafka')
  })

  test('after ApiVersions the bytes are Kafka frames even when they look like a TLS record', () => {
    const { conversation } = afterApiVersions()
    expect(conversation.receive(Buffer.from([22, 3, 1, 0]))).toEqual({})
    expect(conversation.ended(undefined)).toEqual({ kind: 'kafka', overTls: false, advertisesSaslHandshake: true, authenticationRequired: true })
  })
})

describe('the ApiVersions answer', () => {
  test('split anywhere, even inside its size, is read once complete', () => {
    const conversation = startProbeConversation(false)
    const answer = sized(apiVersionsBody(decodeRequest(conversation.opening).correlationId, brokerApis))
    for (const cut of [1, 2, 3, 4, 9, answer.length - 1]) {
      const fresh = startProbeConversation(false)
      expect(fresh.receive(answer.subarray(0, cut))).toEqual({})
      expect(decodeRequest(fresh.receive(answer.subarray(cut)).send!).apiKey).toBe(3)
    }
  })

  test('byte by byte', () => {
    const conversation = startProbeConversation(false)
    const answer = sized(apiVersionsBody(decodeRequest(conversation.opening).correlationId, brokerApis))
    for (const byte of answer.subarray(0, answer.length - 1)) expect(conversation.receive(Buffer.from([byte]))).toEqual({})
    expect(decodeRequest(conversation.receive(answer.subarray(answer.length - 1)).send!).apiKey).toBe(3)
  })

  const notKafka = { observation: { kind: 'inconclusive', reason: 'not a Kafka ApiVersions answer' } } as const

  test('for another correlation id is not an answer to the probe', () => {
    const conversation = startProbeConversation(false)
    const correlationId = decodeRequest(conversation.opening).correlationId
    expect(conversation.receive(sized(apiVersionsBody(correlationId + 1, brokerApis)))).toEqual(notKafka)
  })

  test('too short to hold the header and the array size is not Kafka', () => {
    const conversation = startProbeConversation(false)
    const correlationId = decodeRequest(conversation.opening).correlationId
    expect(conversation.receive(sized(apiVersionsBody(correlationId, []).subarray(0, 9)))).toEqual(notKafka)
  })

  test('with fewer entries than its array size says is not Kafka', () => {
    const conversation = startProbeConversation(false)
    const correlationId = decodeRequest(conversation.opening).correlationId
    expect(conversation.receive(sized(apiVersionsBody(correlationId, brokerApis, brokerApis.length + 1)))).toEqual(notKafka)
  })

  test('with a negative array size is not Kafka (the v0 array is not nullable)', () => {
    const conversation = startProbeConversation(false)
    const correlationId = decodeRequest(conversation.opening).correlationId
    expect(conversation.receive(sized(apiVersionsBody(correlationId, [], -1)))).toEqual(notKafka)
  })

  test('an empty frame is not Kafka', () => {
    expect(startProbeConversation(false).receive(sized(Buffer.alloc(0)))).toEqual(notKafka)
  })

  test('a negative size never makes a frame: the end of the connection decides', () => {
    const conversation = startProbeConversation(false)
    expect(conversation.receive(Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0]))).toEqual({})
    expect(conversation.ended(undefined)).toEqual({ kind: 'inconclusive', reason: 'closed without answering' })
  })
})

describe('a TLS listener', () => {
  test.each([20, 21, 22])('answers plaintext with a TLS record (content type %d)', (contentType) => {
    // A fatal alert record: type, version 3.1, length 2, level 2, description 50 (decode_error).
    expect(startProbeConversation(false).receive(Buffer.from([contentType, 3, 1, 0, 2, 2, 50]))).toEqual({ observation: { kind: 'tls' } })
  })

  test('is recognised from the record header alone, even when it arrives a byte at a time', () => {
    const conversation = startProbeConversation(false)
    expect(conversation.receive(Buffer.from([21]))).toEqual({})
    expect(conversation.receive(Buffer.from([3]))).toEqual({ observation: { kind: 'tls' } })
  })

  test.each([[[21, 1]], [[19, 3]], [[0, 3]]])('bytes %p are no TLS record header', (bytes) => {
    const conversation = startProbeConversation(false)
    expect(conversation.receive(Buffer.from(bytes))).toEqual({})
    expect(conversation.ended(undefined)).toEqual({ kind: 'inconclusive', reason: 'closed without answering' })
  })

  test('inside TLS, bytes that look like a TLS record prove nothing', () => {
    const conversation = startProbeConversation(true)
    expect(conversation.receive(Buffer.from([21, 3, 1, 0, 2, 2, 50]))).toEqual({})
    expect(conversation.ended(undefined)).toEqual({ kind: 'inconclusive', reason: 'closed without answering' })
  })
})

describe('a listener that gives no answer', () => {
  test('closed: inconclusive', () => {
    expect(startProbeConversation(false).ended(undefined)).toEqual({ kind: 'inconclusive', reason: 'closed without answering' })
  })

  test('failed: inconclusive, with the error', () => {
    expect(startProbeConversation(true).ended('ECONNREFUSED')).toEqual({ kind: 'inconclusive', reason: 'ECONNREFUSED' })
  })
})
