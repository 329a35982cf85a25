/**
 * `Streams.Read`: parses the request and hands it to a one-shot read or a subscription. Every call is
 * tracked so that taking the emulator down ends it with UNAVAILABLE, as a server going away would.
 */
import type * as grpc from '@grpc/grpc-js'
import type { Authorization } from './authorization.ts'
import type { EventLog } from './event-log.ts'
import type { ServerBehaviour } from './server-version.ts'
import type { ReadResponse, streams } from './protocol.ts'
import { parseReadRequest } from './read-request.ts'
import { readAll, readStream } from './reads.ts'
import { openResponseChannel, type ResponseChannel } from './response-channel.ts'
import { invalidArgumentError, unavailableError } from './responses.ts'
import type { Faults } from './faults.ts'
import { subscribeToAll, subscribeToStream } from './subscriptions.ts'
import type { TrackCall } from './grpc-host.ts'

export function handleRead(log: EventLog, track: TrackCall, authorization: Authorization, faults: Faults, server: ServerBehaviour) {
  return (call: grpc.ServerWritableStream<streams.ReadReq, ReadResponse>): void => {
    const channel = openResponseChannel(call)
    const release = track((error) => channel.fail(error), 'read')
    serveRead(log, channel, call.request, server, (streamName) =>
      faults.take('read-unavailable', streamName) ? unavailableError('injected fault: read-unavailable') : authorization.check(call.metadata, 'read', streamName),
    )
      .catch((error: unknown) => channel.fail(invalidArgumentError(error instanceof Error ? error.message : String(error))))
      .finally(release)
  }
}

async function serveRead(log: EventLog, channel: ResponseChannel<ReadResponse>, message: streams.ReadReq, server: ServerBehaviour, refuse: (streamName: string) => grpc.ServiceError | undefined): Promise<void> {
  const request = parseReadRequest(message)
  if (typeof request === 'string') return channel.fail(invalidArgumentError(request))
  const { target, mode } = request
  const refusal = refuse(target.kind === 'all' ? '$all' : target.streamName)
  if (refusal !== undefined) return channel.fail(refusal)
  // KurrentDB refuses a position inside a record, for reads and subscriptions alike (R3: `TFChunkReadSide.cs`,
  // `RpcExceptions.InvalidPositionException`); the message is the server's.
  if (target.kind === 'all' && typeof target.from === 'bigint' && !log.isRecordBoundary(target.from)) {
    return channel.fail(invalidArgumentError('Trying to read from an invalid position.'))
  }
  if (mode.kind === 'subscription') {
    if (target.kind === 'all') return subscribeToAll(log, channel, request, target.from, server)
    return subscribeToStream(log, channel, target.streamName, target.from, server)
  }
  if (target.kind === 'all') return readAll(log, channel, request, target.from, mode.count)
  return readStream(log, channel, request, target.streamName, target.from, mode.count)
}
