/**
 * `Streams.Append` (client streaming: options, then one message per event) and `Streams.BatchAppend`
 * (one long-lived bidi stream per client; an append is one or more requests sharing a correlation id,
 * the last marked `is_final`). Answers follow the server: BatchAppend reports failures as a
 * google.rpc.Status whose details pack `WrongExpectedVersion` / `StreamDeleted`, which the client unpacks.
 */
import type * as grpc from '@grpc/grpc-js'
import type { ProposedEvent } from './event-codec.ts'
import type { AppendOutcome, EventLog } from './event-log.ts'
import { expectedRevisionOf, type ExpectedRevision } from './expected-revision.ts'
import { Any, Code, Empty, shared, status, streams, type AppendRequest, type BatchAppendRequest } from './protocol.ts'
import type { Authorization } from './authorization.ts'
import { appendDelayMs, type Faults } from './faults.ts'
import { invalidArgumentError, streamDeletedError, streamNameOf, unavailableError } from './responses.ts'
import type { TrackCall } from './grpc-host.ts'

function expectedFromAppendOptions(options: streams.AppendReq.Options): ExpectedRevision {
  const cases = streams.AppendReq.Options.ExpectedStreamRevisionCase
  return expectedRevisionOf(options.getExpectedStreamRevisionCase(), { revision: cases.REVISION, noStream: cases.NO_STREAM, streamExists: cases.STREAM_EXISTS }, () => options.getRevision())
}

function expectedFromBatchOptions(options: streams.BatchAppendReq.Options): ExpectedRevision {
  const cases = streams.BatchAppendReq.Options.ExpectedStreamPositionCase
  return expectedRevisionOf(options.getExpectedStreamPositionCase(), { revision: cases.STREAM_POSITION, noStream: cases.NO_STREAM, streamExists: cases.STREAM_EXISTS }, () => options.getStreamPosition())
}

export function handleAppend(log: EventLog, track: TrackCall, faults: Faults, authorization: Authorization) {
  return (call: grpc.ServerReadableStream<AppendRequest, streams.AppendResp>, callback: grpc.sendUnaryData<streams.AppendResp>): void => {
    let options: streams.AppendReq.Options | undefined
    const events: ProposedEvent[] = []
    let answered = false
    const answer: typeof callback = (error, response) => {
      if (answered) return
      answered = true
      release()
      callback(error, response)
    }
    const release = track((error) => answer(error))
    call.on('data', (request: AppendRequest) => {
      if (request.options) options = request.options
      if (request.proposedEvent) events.push(request.proposedEvent)
    })
    call.on('end', () => {
      if (!options) return answer(invalidArgumentError('AppendReq.options must come first'))
      const streamName = streamNameOf(options.getStreamIdentifier())
      if (faults.take('append-delay', streamName)) return void setTimeout(serve, appendDelayMs, options, streamName)
      serve(options, streamName)
    })
    const serve = (options: streams.AppendReq.Options, streamName: string) => {
      const expected = expectedFromAppendOptions(options)
      const refusal = authorization.check(call.metadata, 'write', streamName)
      if (refusal !== undefined) return answer(refusal)
      const outcome = log.append(streamName, expected, events)
      if (faults.take('append-reply-lost', streamName)) return answer(unavailableError('injected fault: append-reply-lost (the append was committed)'))
      if (outcome.kind === 'stream-deleted') return answer(streamDeletedError(streamName))
      answer(null, appendResponse(outcome, expected))
    }
  }
}

function appendResponse(outcome: Exclude<AppendOutcome, { kind: 'stream-deleted' }>, expected: ExpectedRevision): streams.AppendResp {
  const response = new streams.AppendResp()
  if (outcome.kind === 'success') {
    const success = new streams.AppendResp.Success()
    if (outcome.currentRevision === undefined) success.setNoStream(new shared.Empty())
    else success.setCurrentRevision(outcome.currentRevision.toString())
    if (outcome.position === undefined) success.setNoPosition(new shared.Empty())
    else {
      const position = new streams.AppendResp.Position()
      position.setCommitPosition(outcome.position.toString())
      position.setPreparePosition(outcome.position.toString())
      success.setPosition(position)
    }
    return response.setSuccess(success)
  }
  const wrong = new streams.AppendResp.WrongExpectedVersion()
  if (outcome.currentRevision === undefined) {
    wrong.setCurrentNoStream(new shared.Empty())
    wrong.setNoStream2060(new shared.Empty())
  } else {
    wrong.setCurrentRevision(outcome.currentRevision.toString())
    wrong.setCurrentRevision2060(Number(outcome.currentRevision))
  }
  switch (expected) {
    case 'any':
      wrong.setExpectedAny(new shared.Empty())
      wrong.setAny2060(new shared.Empty())
      break
    case 'no_stream':
      wrong.setExpectedNoStream(new shared.Empty())
      break
    case 'stream_exists':
      wrong.setExpectedStreamExists(new shared.Empty())
      wrong.setStreamExists2060(new shared.Empty())
      break
    default:
      wrong.setExpectedRevision(expected.toString())
      wrong.setExpectedRevision2060(Number(expected))
  }
  return response.setWrongExpectedVersion(wrong)
}

type PendingBatch = { correlationId: shared.UUID | undefined; options: streams.BatchAppendReq.Options | undefined; events: ProposedEvent[] }

export function handleBatchAppend(log: EventLog, track: TrackCall, faults: Faults, authorization: Authorization) {
  return (call: grpc.ServerDuplexStream<BatchAppendRequest, streams.BatchAppendResp>): void => {
    const pending = new Map<string, PendingBatch>()
    let open = true
    const release = track((error) => {
      if (!open) return
      open = false
      call.emit('error', error)
    })
    call.on('data', (request: BatchAppendRequest) => {
      const key = request.correlationId ? Buffer.from(request.correlationId.serializeBinary()).toString('base64') : ''
      let batch = pending.get(key)
      if (!batch && request.isFinal) batch = { correlationId: request.correlationId, options: request.options, events: request.proposedEvents }
      else {
        if (!batch) {
          batch = { correlationId: request.correlationId, options: request.options, events: [] }
          pending.set(key, batch)
        }
        if (request.options) batch.options = request.options
        for (const event of request.proposedEvents) batch.events.push(event)
        if (!request.isFinal) return
        pending.delete(key)
      }
      const ready = batch
      if (faults.take('append-delay', streamNameOf(ready.options?.getStreamIdentifier()))) return void setTimeout(() => serveBatch(ready), appendDelayMs)
      serveBatch(ready)
    })
    const serveBatch = (batch: PendingBatch) => {
      if (!open) return
      const refusal = authorization.check(call.metadata, 'write', streamNameOf(batch.options?.getStreamIdentifier()))
      if (refusal !== undefined) {
        open = false
        release()
        call.emit('error', refusal)
        return
      }
      const response = batchAppendResponse(log, batch)
      if (faults.take('append-reply-lost', streamNameOf(batch.options?.getStreamIdentifier()))) {
        // The connection drops after the write: the whole call fails, as the client sees a broken stream.
        open = false
        release()
        call.emit('error', unavailableError('injected fault: append-reply-lost (the append was committed)'))
        return
      }
      if (open) call.write(response)
    }
    call.on('end', () => {
      release()
      if (open) {
        open = false
        call.end()
      }
    })
    call.on('cancelled', () => {
      open = false
      release()
    })
    call.on('error', () => {
      open = false
      release()
    })
  }
}

function batchAppendResponse(log: EventLog, batch: PendingBatch): streams.BatchAppendResp {
  const response = new streams.BatchAppendResp()
  if (batch.correlationId) response.setCorrelationId(batch.correlationId)
  const options = batch.options
  if (!options) return response.setError(rpcStatus(Code.INVALID_ARGUMENT, 'BatchAppendReq.options missing in the first request'))
  const identifier = options.getStreamIdentifier() ?? new shared.StreamIdentifier()
  response.setStreamIdentifier(identifier)
  const expected = expectedFromBatchOptions(options)
  if (expected === 'any') response.setAny(new Empty())
  else if (expected === 'no_stream') response.setNoStream(new Empty())
  else if (expected === 'stream_exists') response.setStreamExists(new Empty())
  else response.setStreamPosition(expected.toString())

  const streamName = streamNameOf(identifier)
  const outcome = log.append(streamName, expected, batch.events)
  switch (outcome.kind) {
    case 'success': {
      const success = new streams.BatchAppendResp.Success()
      if (outcome.currentRevision === undefined) success.setNoStream(new Empty())
      else success.setCurrentRevision(outcome.currentRevision.toString())
      if (outcome.position === undefined) success.setNoPosition(new Empty())
      else {
        const position = new shared.AllStreamPosition()
        position.setCommitPosition(outcome.position.toString())
        position.setPreparePosition(outcome.position.toString())
        success.setPosition(position)
      }
      return response.setSuccess(success)
    }
    case 'wrong-expected-version': {
      const details = new shared.WrongExpectedVersion()
      if (outcome.currentRevision === undefined) details.setCurrentNoStream(new Empty())
      else details.setCurrentStreamRevision(outcome.currentRevision.toString())
      if (expected === 'any') details.setExpectedAny(new Empty())
      else if (expected === 'no_stream') details.setExpectedNoStream(new Empty())
      else if (expected === 'stream_exists') details.setExpectedStreamExists(new Empty())
      else details.setExpectedStreamPosition(expected.toString())
      const message = `WrongExpectedVersion: stream '${streamName}', expected ${expected}, current ${outcome.currentRevision ?? 'no stream'}`
      return response.setError(rpcStatus(Code.FAILED_PRECONDITION, message, details.serializeBinary(), 'event_store.client.WrongExpectedVersion'))
    }
    case 'stream-deleted': {
      const details = new shared.StreamDeleted()
      details.setStreamIdentifier(identifier)
      return response.setError(rpcStatus(Code.FAILED_PRECONDITION, `Event stream '${streamName}' is deleted.`, details.serializeBinary(), 'event_store.client.StreamDeleted'))
    }
  }
}

function rpcStatus(code: Code, message: string, details?: Uint8Array, typeName?: string): status.Status {
  const result = new status.Status()
  result.setCode(code)
  result.setMessage(message)
  if (details && typeName) {
    const any = new Any()
    any.pack(details, typeName)
    result.setDetails(any)
  }
  return result
}
