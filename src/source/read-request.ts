/**
 * Builds the `Streams.Read` subscription request for a read plan and a start point, with the message classes
 * @kurrent/kurrentdb-client ships (the same ones its own subscribeToAll/subscribeToStream use).
 */
import { Empty, StreamIdentifier } from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/shared_pb'
import { ReadReq } from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/streams_pb'
import type { LogPosition, StartPoint } from './positions.ts'
import type { ReadTarget } from './read-plan.ts'

export interface SubscriptionRequestOptions {
  readonly target: ReadTarget
  readonly start: StartPoint
  /**
   * For filtered `$all` subscriptions: the server sends a checkpoint after this many scanned events, so a sparse
   * filter still moves our checkpoint forward (KurrentDB's connectors use `autocommit:recordsThreshold` here).
   */
  readonly checkpointEvery: number
}

export function buildSubscriptionRequest(options: SubscriptionRequestOptions): ReadReq {
  const readOptions = new ReadReq.Options()
  const uuidOption = new ReadReq.Options.UUIDOption()
  uuidOption.setString(new Empty())
  readOptions.setUuidOption(uuidOption)
  readOptions.setResolveLinks(false)
  readOptions.setReadDirection(ReadReq.Options.ReadDirection.FORWARDS)
  readOptions.setSubscription(new ReadReq.Options.SubscriptionOptions())

  const { target, start } = options
  if (target.kind === 'stream') {
    const streamOptions = new ReadReq.Options.StreamOptions()
    const identifier = new StreamIdentifier()
    identifier.setStreamName(Buffer.from(target.streamName, 'utf8'))
    streamOptions.setStreamIdentifier(identifier)
    if (start.kind === 'start') streamOptions.setStart(new Empty())
    else if (start.kind === 'end') streamOptions.setEnd(new Empty())
    else if (start.kind === 'afterRevision') streamOptions.setRevision(start.revision.toString())
    else throw new Error('a stream subscription resumes from a stream revision, not a log position')
    readOptions.setStream(streamOptions)
    readOptions.setNoFilter(new Empty())
  } else {
    const allOptions = new ReadReq.Options.AllOptions()
    if (start.kind === 'start') allOptions.setStart(new Empty())
    else if (start.kind === 'end') allOptions.setEnd(new Empty())
    else if (start.kind === 'after') {
      const position = new ReadReq.Options.Position()
      position.setCommitPosition(start.position.commit.toString())
      position.setPreparePosition(start.position.prepare.toString())
      allOptions.setPosition(position)
    } else throw new Error('an $all subscription resumes from a log position, not a stream revision')
    readOptions.setAll(allOptions)
    if (target.filter === undefined) readOptions.setNoFilter(new Empty())
    else {
      const expression = new ReadReq.Options.FilterOptions.Expression()
      if ('regex' in target.filter) expression.setRegex(target.filter.regex)
      else expression.setPrefixList([...target.filter.prefixes])
      const filterOptions = new ReadReq.Options.FilterOptions()
      if (target.filter.on === 'streamName') filterOptions.setStreamIdentifier(expression)
      else filterOptions.setEventType(expression)
      // window × multiplier scanned events between checkpoints: a window of `checkpointEvery` with multiplier 1.
      filterOptions.setMax(Math.max(1, options.checkpointEvery))
      filterOptions.setCheckpointintervalmultiplier(1)
      readOptions.setFilter(filterOptions)
    }
  }
  const request = new ReadReq()
  request.setOptions(readOptions)
  return request
}

/** A one-event read of the end of `$all`: the cheapest request that proves the server answers reads. */
export function buildReadLastEventRequest(): ReadReq {
  return buildOneEventReadRequest(ReadReq.Options.ReadDirection.BACKWARDS, 'end')
}

/**
 * A one-event read of `$all` forwards from `position`: the server refuses a position that is not a record boundary
 * with INVALID_ARGUMENT, for reads and subscriptions alike (KurrentDB `TFChunkReadSide.cs`, `RpcExceptions.cs`).
 */
export function buildReadEventAtRequest(position: LogPosition): ReadReq {
  return buildOneEventReadRequest(ReadReq.Options.ReadDirection.FORWARDS, position)
}

function buildOneEventReadRequest(direction: ReadReq.Options.ReadDirection, from: 'end' | LogPosition): ReadReq {
  const readOptions = new ReadReq.Options()
  const uuidOption = new ReadReq.Options.UUIDOption()
  uuidOption.setString(new Empty())
  readOptions.setUuidOption(uuidOption)
  readOptions.setResolveLinks(false)
  readOptions.setReadDirection(direction)
  const allOptions = new ReadReq.Options.AllOptions()
  if (from === 'end') allOptions.setEnd(new Empty())
  else {
    const position = new ReadReq.Options.Position()
    position.setCommitPosition(from.commit.toString())
    position.setPreparePosition(from.prepare.toString())
    allOptions.setPosition(position)
  }
  readOptions.setAll(allOptions)
  readOptions.setCount('1')
  readOptions.setNoFilter(new Empty())
  const request = new ReadReq()
  request.setOptions(readOptions)
  return request
}
