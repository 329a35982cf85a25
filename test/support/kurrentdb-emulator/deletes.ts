/**
 * `Streams.Delete` (soft: a `$metadata` event with `$tb` = Int64.MaxValue on `$$<stream>`; reads then
 * answer "stream not found" and a later append brings the stream back, continuing its revisions) and
 * `Streams.Tombstone` (hard: a `$streamDeleted` event; the stream can never be read or written again).
 */
import type * as grpc from '@grpc/grpc-js'
import type { DeleteOutcome, EventLog } from './event-log.ts'
import { expectedRevisionOf, type ExpectedRevision } from './expected-revision.ts'
import { streams } from './protocol.ts'
import type { Authorization } from './authorization.ts'
import type { Faults } from './faults.ts'
import { streamDeletedError, streamNameOf, unavailableError, wrongExpectedVersionError } from './responses.ts'

type DeleteOptions = streams.DeleteReq.Options | streams.TombstoneReq.Options

function expectedFromDeleteOptions(options: DeleteOptions): ExpectedRevision {
  // DeleteReq and TombstoneReq number their oneof cases alike (revision 2, no_stream 3, any 4, stream_exists 5).
  const cases = streams.DeleteReq.Options.ExpectedStreamRevisionCase
  return expectedRevisionOf(options.getExpectedStreamRevisionCase() as number, { revision: cases.REVISION, noStream: cases.NO_STREAM, streamExists: cases.STREAM_EXISTS }, () => options.getRevision())
}

function settle(outcome: DeleteOutcome, streamName: string, expected: ExpectedRevision): { error: grpc.ServiceError } | { position: bigint } {
  switch (outcome.kind) {
    case 'stream-deleted':
      return { error: streamDeletedError(streamName) }
    case 'wrong-expected-version':
      return { error: wrongExpectedVersionError(streamName, expected, outcome.currentRevision) }
    case 'success':
      return { position: outcome.position }
  }
}

export function handleDelete(log: EventLog, faults: Faults, authorization: Authorization) {
  return (call: grpc.ServerUnaryCall<streams.DeleteReq, streams.DeleteResp>, callback: grpc.sendUnaryData<streams.DeleteResp>): void => {
    const options = call.request.getOptions() ?? new streams.DeleteReq.Options()
    const streamName = streamNameOf(options.getStreamIdentifier())
    const refusal = authorization.check(call.metadata, 'delete', streamName)
    if (refusal !== undefined) return callback(refusal)
    if (faults.take('delete-unavailable', streamName)) return callback(unavailableError('injected fault: delete-unavailable'))
    const expected = expectedFromDeleteOptions(options)
    const result = settle(log.softDelete(streamName, expected), streamName, expected)
    if ('error' in result) return callback(result.error)
    const position = new streams.DeleteResp.Position()
    position.setCommitPosition(result.position.toString())
    position.setPreparePosition(result.position.toString())
    callback(null, new streams.DeleteResp().setPosition(position))
  }
}

export function handleTombstone(log: EventLog, authorization: Authorization) {
  return (call: grpc.ServerUnaryCall<streams.TombstoneReq, streams.TombstoneResp>, callback: grpc.sendUnaryData<streams.TombstoneResp>): void => {
    const options = call.request.getOptions() ?? new streams.TombstoneReq.Options()
    const streamName = streamNameOf(options.getStreamIdentifier())
    const refusal = authorization.check(call.metadata, 'delete', streamName)
    if (refusal !== undefined) return callback(refusal)
    const expected = expectedFromDeleteOptions(options)
    const result = settle(log.tombstone(streamName, expected), streamName, expected)
    if ('error' in result) return callback(result.error)
    const position = new streams.TombstoneResp.Position()
    position.setCommitPosition(result.position.toString())
    position.setPreparePosition(result.position.toString())
    callback(null, new streams.TombstoneResp().setPosition(position))
  }
}
