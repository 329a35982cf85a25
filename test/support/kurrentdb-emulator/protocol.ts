/**
 * The KurrentDB v1 protocol as the official client ships it (generated/kurrentdb/protocols/v1), adapted
 * for serving: reads accept pre-encoded `ReadResp` buffers, and append requests are decoded by hand
 * (event-codec.ts) into plain objects, because google-protobuf's classes are too slow for a million events.
 */
import type * as grpc from '@grpc/grpc-js'
import { ServerFeaturesService } from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/serverfeatures_grpc_pb.js'
import { StreamsService } from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/streams_grpc_pb.js'
import { AppendReq, AppendResp, BatchAppendReq, BatchAppendResp, ReadReq, ReadResp } from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/streams_pb.js'
import { UUID } from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/shared_pb.js'
import { decodeProposedEvent, type ProposedEvent } from './event-codec.ts'
import { forEachField, readVarint } from './wire-format.ts'

export * as streams from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/streams_pb.js'
export * as shared from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/shared_pb.js'
export * as status from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/status_pb.js'
export * as serverFeatures from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/serverfeatures_pb.js'
export { Code } from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/code_pb.js'
export { Any } from 'google-protobuf/google/protobuf/any_pb.js'
export { Empty } from 'google-protobuf/google/protobuf/empty_pb.js'
export { Timestamp } from 'google-protobuf/google/protobuf/timestamp_pb.js'

/** One `BatchAppendReq` message; an append may span several with the same correlation id. */
export type BatchAppendRequest = {
  correlationId: UUID | undefined
  options: BatchAppendReq.Options | undefined
  proposedEvents: ProposedEvent[]
  isFinal: boolean
}

/** One `AppendReq` message: the options come first, then one message per event. */
export type AppendRequest = { options: AppendReq.Options | undefined; proposedEvent: ProposedEvent | undefined }

/** A read response: a generated message, or bytes encoded at append time and sent as they are. */
export type ReadResponse = ReadResp | Buffer

const batchAppendField = { correlationId: 1, options: 2, proposedMessages: 3, isFinal: 4 } as const
const appendField = { options: 1, proposedMessage: 2 } as const

function deserializeBatchAppendRequest(bytes: Buffer): BatchAppendRequest {
  const request: BatchAppendRequest = { correlationId: undefined, options: undefined, proposedEvents: [], isFinal: false }
  forEachField(
    bytes,
    (fieldNumber, start, end) => {
      if (fieldNumber === batchAppendField.proposedMessages) request.proposedEvents.push(decodeProposedEvent(bytes, start, end))
      else if (fieldNumber === batchAppendField.correlationId) request.correlationId = UUID.deserializeBinary(bytes.subarray(start, end))
      else if (fieldNumber === batchAppendField.options) request.options = BatchAppendReq.Options.deserializeBinary(bytes.subarray(start, end))
    },
    (fieldNumber, reader) => {
      const value = readVarint(reader)
      if (fieldNumber === batchAppendField.isFinal) request.isFinal = value !== 0
    },
  )
  return request
}

function deserializeAppendRequest(bytes: Buffer): AppendRequest {
  const request: AppendRequest = { options: undefined, proposedEvent: undefined }
  forEachField(bytes, (fieldNumber, start, end) => {
    if (fieldNumber === appendField.options) request.options = AppendReq.Options.deserializeBinary(bytes.subarray(start, end))
    else if (fieldNumber === appendField.proposedMessage) request.proposedEvent = decodeProposedEvent(bytes, start, end)
  })
  return request
}

function serializeReadResponse(response: ReadResponse): Buffer {
  if (Buffer.isBuffer(response)) return response
  return Buffer.from(response.serializeBinary())
}

// The generated definitions are typed with their own message classes; the casts record the swapped
// (de)serializers. grpc-js calls them as plain functions, so nothing else changes.
export const streamsServiceDefinition = {
  ...StreamsService,
  read: { ...StreamsService.read, responseSerialize: serializeReadResponse } as grpc.MethodDefinition<ReadReq, ReadResponse>,
  append: { ...StreamsService.append, requestDeserialize: deserializeAppendRequest } as unknown as grpc.MethodDefinition<AppendRequest, AppendResp>,
  batchAppend: { ...StreamsService.batchAppend, requestDeserialize: deserializeBatchAppendRequest } as unknown as grpc.MethodDefinition<
    BatchAppendRequest,
    BatchAppendResp
  >,
}

export const serverFeaturesServiceDefinition = ServerFeaturesService

/** The methods this emulator serves, as `ServerFeatures.GetSupportedMethods` names them (lower case). */
export const servedMethods = [
  { service: 'event_store.client.streams.streams', methods: ['read', 'append', 'batchappend', 'delete', 'tombstone'] },
  { service: 'event_store.client.server_features.serverfeatures', methods: ['getsupportedmethods'] },
] as const
