import { describe, expect, test } from 'bun:test'
import { Empty, StreamIdentifier, UUID } from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/shared_pb'
import { ReadResp } from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/streams_pb'
import { decodeReadResponse, MalformedReadResponseError } from '../../../src/source/read-response-decoder.ts'

// Responses are encoded with the generated google-protobuf classes the client ships, so the decoder is checked
// against the real wire format rather than against our own idea of it.
function encodedEvent(options: { commit: string; prepare: string; revision: string; data: Uint8Array; metadata?: Uint8Array; structuredId?: boolean }): Uint8Array {
  const recorded = new ReadResp.ReadEvent.RecordedEvent()
  const uuid = new UUID()
  if (options.structuredId) {
    const structured = new UUID.Structured()
    structured.setMostSignificantBits('-6149092897330018751')
    structured.setLeastSignificantBits('1234605616436508552')
    uuid.setStructured(structured)
  } else uuid.setString('5c6f0d0e-3b4a-4a43-9a6c-0f2f8f0a1b2c')
  recorded.setId(uuid)
  const identifier = new StreamIdentifier()
  identifier.setStreamName(Buffer.from('LoanRequest-1'))
  recorded.setStreamIdentifier(identifier)
  recorded.setStreamRevision(options.revision)
  recorded.setCommitPosition(options.commit)
  recorded.setPreparePosition(options.prepare)
  recorded.getMetadataMap().set('type', 'LoanRequested')
  recorded.getMetadataMap().set('content-type', 'application/json')
  recorded.getMetadataMap().set('created', '17236640859078477')
  recorded.setData(options.data)
  if (options.metadata) recorded.setCustomMetadata(options.metadata)
  const readEvent = new ReadResp.ReadEvent()
  readEvent.setEvent(recorded)
  readEvent.setCommitPosition(options.commit)
  const response = new ReadResp()
  response.setEvent(readEvent)
  return response.serializeBinary()
}

describe('decodeReadResponse', () => {
  test('keeps the event data bytes exactly as stored, including JSON a parse/stringify would rewrite', () => {
    const data = Buffer.from('{ "amount": 1.50, "big": 12345678901234567890, "text": "\\u00e9" }')
    const decoded = decodeReadResponse(encodedEvent({ commit: '1024', prepare: '1000', revision: '7', data, metadata: Buffer.from('{"key1":"value1"}') }))
    expect(decoded.kind).toBe('event')
    if (decoded.kind !== 'event') return
    expect(Buffer.from(decoded.event.data).equals(data)).toBe(true)
    expect(Buffer.from(decoded.event.customMetadata).toString()).toBe('{"key1":"value1"}')
    expect(decoded.event).toMatchObject({
      id: '5c6f0d0e-3b4a-4a43-9a6c-0f2f8f0a1b2c',
      streamId: 'LoanRequest-1',
      revision: 7n,
      position: { commit: 1024n, prepare: 1000n },
      type: 'LoanRequested',
      contentType: 'application/json',
      createdTicks: 17236640859078477n,
    })
  })

  test('decodes uint64 positions above 2^53 without losing precision', () => {
    const huge = (2n ** 63n + 12345n).toString()
    const decoded = decodeReadResponse(encodedEvent({ commit: huge, prepare: huge, revision: '9007199254740993', data: new Uint8Array([1, 2, 3]) }))
    if (decoded.kind !== 'event') throw new Error(`expected an event, got ${decoded.kind}`)
    expect(decoded.event.position.commit).toBe(2n ** 63n + 12345n)
    expect(decoded.event.revision).toBe(9007199254740993n)
  })

  test('formats a structured UUID as its canonical string', () => {
    const decoded = decodeReadResponse(encodedEvent({ commit: '1', prepare: '1', revision: '0', data: new Uint8Array(), structuredId: true }))
    if (decoded.kind !== 'event') throw new Error('expected an event')
    // Signed int64 halves read as unsigned hex, as the client's own structuredUUIDToString does.
    expect(decoded.event.id).toBe('aaaa0896-d3c4-4641-1122-334455667788')
  })

  test('decodes confirmation, checkpoint, caught-up and stream-not-found', () => {
    const confirmation = new ReadResp()
    const subscriptionConfirmation = new ReadResp.SubscriptionConfirmation()
    subscriptionConfirmation.setSubscriptionId('sub-1')
    confirmation.setConfirmation(subscriptionConfirmation)
    expect(decodeReadResponse(confirmation.serializeBinary())).toEqual({ kind: 'confirmation', subscriptionId: 'sub-1' })

    const checkpoint = new ReadResp()
    const checkpointMessage = new ReadResp.Checkpoint()
    checkpointMessage.setCommitPosition('18446744073709551615')
    checkpointMessage.setPreparePosition('18446744073709551614')
    checkpoint.setCheckpoint(checkpointMessage)
    expect(decodeReadResponse(checkpoint.serializeBinary())).toEqual({ kind: 'checkpoint', position: { commit: 2n ** 64n - 1n, prepare: 2n ** 64n - 2n } })

    const caughtUp = new ReadResp()
    const caughtUpMessage = new ReadResp.CaughtUp()
    const position = new ReadResp.Position()
    position.setCommitPosition('500')
    position.setPreparePosition('499')
    caughtUpMessage.setPosition(position)
    caughtUp.setCaughtUp(caughtUpMessage)
    expect(decodeReadResponse(caughtUp.serializeBinary())).toEqual({ kind: 'caughtUp', position: { commit: 500n, prepare: 499n }, revision: undefined })

    const notFound = new ReadResp()
    notFound.setStreamNotFound(new ReadResp.StreamNotFound())
    expect(decodeReadResponse(notFound.serializeBinary()).kind).toBe('streamNotFound')
  })

  test('an event without any position is reported as empty, never forwarded with a made-up position', () => {
    const readEvent = new ReadResp.ReadEvent()
    readEvent.setNoPosition(new Empty())
    const response = new ReadResp()
    response.setEvent(readEvent)
    expect(decodeReadResponse(response.serializeBinary()).kind).toBe('emptyEvent')
  })

  test('rejects truncated bytes with a typed error instead of decoding garbage', () => {
    const bytes = encodedEvent({ commit: '1', prepare: '1', revision: '0', data: Buffer.from('hello') })
    expect(() => decodeReadResponse(bytes.subarray(0, bytes.length - 3))).toThrow(MalformedReadResponseError)
  })
})
