/**
 * `Streams.Read`: parses the request and hands it to a one-shot read or a subscription. Every call is
 * tracked so that taking the emulator down ends it with UNAVAILABLE, as a server going away would.
 */
import type * as grpc from '@grpc/grpc-js'
import type { EventLog } from './event-log.ts'
import type { ReadResponse, streams } from './protocol.ts'
import { parseReadRequest } from './read-request.ts'
import { readAll, readStream } from './reads.ts'
import { openResponseChannel, type ResponseChannel } from './response-channel.ts'
import { invalidArgumentError } from './responses.ts'
import { subscribeToAll, subscribeToStream } from './subscriptions.ts'
import type { TrackCall } from './grpc-host.ts'

export function handleRead(log: EventLog, track: TrackCall) {
  return (call: grpc.ServerWritableStream<streams.ReadReq, ReadResponse>): void => {
    const channel = openResponseChannel(call)
    const release = track((error) => channel.fail(error), 'read')
    serveRead(log, channel, call.request)
      .catch((error: unknown) => channel.fail(invalidArgumentError(error instanceof Error ? error.message : String(error))))
      .finally(release)
  }
}

async function serveRead(log: EventLog, channel: ResponseChannel<ReadResponse>, message: streams.ReadReq): Promise<void> {
  const request = parseReadRequest(message)
  if (typeof request === 'string') return channel.fail(invalidArgumentError(request))
  const { target, mode } = request
  if (mode.kind === 'subscription') {
    if (target.kind === 'all') return subscribeToAll(log, channel, request, target.from)
    return subscribeToStream(log, channel, target.streamName, target.from)
  }
  if (target.kind === 'all') return readAll(log, channel, request, target.from, mode.count)
  return readStream(log, channel, request, target.streamName, target.from, mode.count)
}
