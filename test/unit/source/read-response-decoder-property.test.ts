/**
 * The decoder against the protobuf library the client ships (google-protobuf and its generated ReadResp classes):
 * arbitrary events are encoded by the library, and what the decoder reads must be what the library itself reads
 * back from the same bytes. Covers what hand-written cases miss: field values of every length class, non-ASCII
 * stream names and types, metadata maps with other keys and in any order, links, structured ids, uint64 extremes.
 */
import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { StreamIdentifier, UUID } from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/shared_pb'
import { ReadResp } from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/streams_pb'
import { decodeReadResponse } from '../../../src/source/read-response-decoder.ts'

const uint64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })
const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })
const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.constantFrom('', 'application/json', 'application/octet-stream', 'type', 'created'))
const bytes = fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ minLength: 127, maxLength: 129 }), fc.uint8Array({ minLength: 16_380, maxLength: 16_390 }))

const recorded = fc.record({
  id: fc.oneof(fc.uuid().map((uuid) => ({ kind: 'string' as const, uuid })), fc.tuple(int64, int64).map(([most, least]) => ({ kind: 'structured' as const, most, least }))),
  streamName: text,
  revision: uint64,
  // Positions from 1: proto3 leaves a 0 out, and the decoder reads a missing position as "none" (falling back to the
  // ReadEvent's position, or reporting an empty event), which the hand-written cases cover.
  commit: fc.bigInt({ min: 1n, max: 2n ** 64n - 1n }),
  prepare: fc.bigInt({ min: 1n, max: 2n ** 64n - 1n }),
  metadata: fc.array(fc.tuple(fc.oneof(fc.constantFrom('type', 'content-type', 'created'), text), fc.oneof(text, uint64.map(String))), { maxLength: 6 }),
  data: bytes,
  customMetadata: bytes,
})
type Recorded = typeof recorded extends fc.Arbitrary<infer T> ? T : never

function build(event: Recorded): ReadResp.ReadEvent.RecordedEvent {
  const message = new ReadResp.ReadEvent.RecordedEvent()
  const uuid = new UUID()
  if (event.id.kind === 'string') uuid.setString(event.id.uuid)
  else {
    const structured = new UUID.Structured()
    structured.setMostSignificantBits(event.id.most.toString())
    structured.setLeastSignificantBits(event.id.least.toString())
    uuid.setStructured(structured)
  }
  message.setId(uuid)
  const identifier = new StreamIdentifier()
  identifier.setStreamName(Buffer.from(event.streamName, 'utf8'))
  message.setStreamIdentifier(identifier)
  message.setStreamRevision(event.revision.toString())
  message.setCommitPosition(event.commit.toString())
  message.setPreparePosition(event.prepare.toString())
  for (const [key, value] of event.metadata) message.getMetadataMap().set(key, value)
  message.setData(event.data)
  message.setCustomMetadata(event.customMetadata)
  return message
}

/** What the library reads back, in the decoder's terms (defaults as the server's protocol defines them). */
function expectedFrom(bytesOnWire: Uint8Array) {
  const readEvent = ReadResp.deserializeBinary(bytesOnWire).getEvent()!
  const record = readEvent.getEvent() ?? readEvent.getLink()!
  const positionSource = readEvent.getLink() ?? record
  const metadata = record.getMetadataMap()
  const created = metadata.get('created')
  const uuid = record.getId()!
  const id = uuid.hasStructured()
    ? (() => {
        const hex = BigInt.asUintN(64, BigInt(uuid.getStructured()!.getMostSignificantBits())).toString(16).padStart(16, '0') + BigInt.asUintN(64, BigInt(uuid.getStructured()!.getLeastSignificantBits())).toString(16).padStart(16, '0')
        return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
      })()
    : uuid.getString()
  return {
    id,
    streamId: Buffer.from(record.getStreamIdentifier()!.getStreamName_asU8()).toString('utf8'),
    revision: BigInt(record.getStreamRevision()),
    position: { commit: BigInt(positionSource.getCommitPosition()), prepare: BigInt(positionSource.getPreparePosition()) },
    type: metadata.get('type') ?? '',
    contentType: metadata.get('content-type') ?? 'application/octet-stream',
    createdTicks: created !== undefined && /^\d+$/.test(created) ? BigInt(created) : 0n,
    data: Buffer.from(record.getData_asU8()).toString('hex'),
    customMetadata: Buffer.from(record.getCustomMetadata_asU8()).toString('hex'),
  }
}

describe('decodeReadResponse, checked against the protobuf library', () => {
  test('reads every field of arbitrary recorded events, and of links, as the library does', () => {
    fc.assert(
      fc.property(recorded, fc.option(recorded, { nil: undefined }), fc.boolean(), (event, link, asBuffer) => {
        const readEvent = new ReadResp.ReadEvent()
        readEvent.setEvent(build(event))
        if (link !== undefined) readEvent.setLink(build(link))
        const response = new ReadResp()
        response.setEvent(readEvent)
        const serialized = response.serializeBinary()
        const wire = asBuffer ? Buffer.from(serialized) : serialized
        const decoded = decodeReadResponse(wire)
        if (decoded.kind !== 'event') throw new Error(`expected an event, got ${decoded.kind}`)
        expect({ ...decoded.event, data: Buffer.from(decoded.event.data).toString('hex'), customMetadata: Buffer.from(decoded.event.customMetadata).toString('hex') }).toEqual(expectedFrom(serialized))
      }),
      { seed: 20261202, numRuns: 400 },
    )
  })
})

describe('decodeReadResponse over a run of responses', () => {
  // Consecutive events often share a stream, a type and a created time; others differ from the previous one in a
  // single byte, or only in length, or are too long to remember. Every response in the run must still read as the
  // library reads it, whatever came before it.
  const similarTexts = fc.constantFrom('order-41', 'order-42', 'order-4', 'order-411', 'ordér-41', '', 'x'.repeat(127), 'x'.repeat(128), 'x'.repeat(129), 'x'.repeat(300))
  const similarTicks = fc.constantFrom('638665821234567890', '638665821234567891', '638665821234567899', '738665821234567890', '63866582123456789', '6386658212345678900', '0', '00000000000000000000000000000001', 'not digits', '')
  const runEvent = fc.record({
    streamName: similarTexts,
    type: similarTexts,
    created: similarTicks,
    commit: fc.bigInt({ min: 1n, max: 2n ** 64n - 1n }),
    data: fc.uint8Array({ maxLength: 20 }),
    customMetadata: fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ minLength: 1, maxLength: 20 })),
  })

  test('each event reads as the library reads it, after any other', () => {
    fc.assert(
      fc.property(fc.array(runEvent, { minLength: 2, maxLength: 30 }), (run) => {
        for (const [index, item] of run.entries()) {
          const event = build({
            id: { kind: 'string', uuid: '00000000-0000-4000-8000-000000000000' },
            streamName: item.streamName,
            revision: BigInt(index),
            commit: item.commit,
            prepare: item.commit,
            metadata: [
              ['type', item.type],
              ['created', item.created],
            ],
            data: item.data,
            customMetadata: item.customMetadata,
          })
          const readEvent = new ReadResp.ReadEvent()
          readEvent.setEvent(event)
          const response = new ReadResp()
          response.setEvent(readEvent)
          const serialized = response.serializeBinary()
          const decoded = decodeReadResponse(Buffer.from(serialized))
          if (decoded.kind !== 'event') throw new Error(`expected an event, got ${decoded.kind}`)
          expect({ ...decoded.event, data: Buffer.from(decoded.event.data).toString('hex'), customMetadata: Buffer.from(decoded.event.customMetadata).toString('hex') }).toEqual(expectedFrom(serialized))
        }
      }),
      { seed: 20261204, numRuns: 300 },
    )
  })
})
