/**
 * Messages and errors shaped as the server sends them, so the client raises its own error classes:
 * gRPC errors carry the `exception` trailer its `convertToCommandError` switches on (`stream-deleted`,
 * `wrong-expected-version`, …), and the rare read responses (confirmation, checkpoint, caught-up, not found)
 * are built with the generated classes.
 */
import * as grpc from '@grpc/grpc-js'
import { randomUUID } from 'node:crypto'
import type { ExpectedRevision } from './expected-revision.ts'
import { shared, streams, Timestamp } from './protocol.ts'

export type EmulatorError = grpc.ServiceError

function errorWithTrailers(code: grpc.status, details: string, trailers: Record<string, string>): EmulatorError {
  const metadata = new grpc.Metadata()
  for (const [key, value] of Object.entries(trailers)) metadata.set(key, value)
  return Object.assign(new Error(`${code} ${grpc.status[code]}: ${details}`), { code, details, metadata })
}

export function streamDeletedError(streamName: string): EmulatorError {
  return errorWithTrailers(grpc.status.FAILED_PRECONDITION, `Event stream '${streamName}' is deleted.`, {
    exception: 'stream-deleted',
    'stream-name': streamName,
  })
}

/** The legacy numbering the `expected-version` trailer uses for the symbolic states. */
function legacyExpectedVersion(expected: ExpectedRevision): string {
  switch (expected) {
    case 'any':
      return '-2'
    case 'no_stream':
      return '-1'
    case 'stream_exists':
      return '-4'
    default:
      return expected.toString()
  }
}

export function wrongExpectedVersionError(streamName: string, expected: ExpectedRevision, current: bigint | undefined): EmulatorError {
  const trailers: Record<string, string> = {
    exception: 'wrong-expected-version',
    'stream-name': streamName,
    'expected-version': legacyExpectedVersion(expected),
  }
  if (current !== undefined) trailers['actual-version'] = current.toString()
  return errorWithTrailers(grpc.status.FAILED_PRECONDITION, `WrongExpectedVersion: stream '${streamName}', expected ${expected}, current ${current ?? 'no stream'}`, trailers)
}

export function unavailableError(reason: string): EmulatorError {
  return errorWithTrailers(grpc.status.UNAVAILABLE, reason, {})
}

export function invalidArgumentError(reason: string): EmulatorError {
  return errorWithTrailers(grpc.status.INVALID_ARGUMENT, reason, {})
}

export function streamNameOf(identifier: shared.StreamIdentifier | undefined): string {
  return identifier ? Buffer.from(identifier.getStreamName_asU8()).toString('utf8') : ''
}

export function streamIdentifier(streamName: string): shared.StreamIdentifier {
  const identifier = new shared.StreamIdentifier()
  identifier.setStreamName(Buffer.from(streamName, 'utf8'))
  return identifier
}

function now(): Timestamp {
  return Timestamp.fromDate(new Date())
}

export function confirmationResponse(): streams.ReadResp {
  const confirmation = new streams.ReadResp.SubscriptionConfirmation()
  confirmation.setSubscriptionId(randomUUID())
  return new streams.ReadResp().setConfirmation(confirmation)
}

export function checkpointResponse(position: bigint): streams.ReadResp {
  const checkpoint = new streams.ReadResp.Checkpoint()
  checkpoint.setCommitPosition(position.toString())
  checkpoint.setPreparePosition(position.toString())
  checkpoint.setTimestamp(now())
  return new streams.ReadResp().setCheckpoint(checkpoint)
}

/** `caught_up` with a timestamp, which the client needs before it looks at the position or revision. */
export function caughtUpResponse(at: { position?: bigint | undefined; revision?: bigint | undefined }): streams.ReadResp {
  const caughtUp = new streams.ReadResp.CaughtUp()
  caughtUp.setTimestamp(now())
  if (at.revision !== undefined) caughtUp.setStreamRevision(at.revision.toString())
  if (at.position !== undefined) {
    const position = new streams.ReadResp.Position()
    position.setCommitPosition(at.position.toString())
    position.setPreparePosition(at.position.toString())
    caughtUp.setPosition(position)
  }
  return new streams.ReadResp().setCaughtUp(caughtUp)
}

export function streamNotFoundResponse(streamName: string): streams.ReadResp {
  const notFound = new streams.ReadResp.StreamNotFound()
  notFound.setStreamIdentifier(streamIdentifier(streamName))
  return new streams.ReadResp().setStreamNotFound(notFound)
}
