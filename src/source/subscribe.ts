/**
 * The source: a KurrentDB subscription as an Observable of `SourceBatch`es (events and resumable positions, in read
 * order): what the gRPC stream delivered in one turn of the event loop (one network read) is one emission, so the
 * pipeline's per-emission cost is paid per batch, not per event.
 *
 * - It pauses the underlying call while `paused$` says so (HTTP/2 flow control then stops the server), which is how
 *   the pipeline bounds what is in flight.
 * - A connection that drops (KurrentDB restarting, network) is reopened after the last item it delivered, with a
 *   capped, jittered backoff; nothing is skipped or repeated at the seam. Errors that will not go away by waiting
 *   (access denied, bad request) end the Observable with a `KurrentDbReadError`.
 */
import { Observable, type Observable as ObservableType } from 'rxjs'
import { status as GrpcStatus, type ClientReadableStream } from '@grpc/grpc-js'
import { backoffDelay, type BackoffPolicy } from '../backoff.ts'
import type { Logger } from '../observability/logger.ts'
import type { KurrentDbConnection } from './kurrentdb-connection.ts'
import { readLogEnd, startAfter } from './log-end.ts'
import { isEndOfLog, type LogPosition, type StartPoint } from './positions.ts'
import type { ReadTarget } from './read-plan.ts'
import { buildSubscriptionRequest } from './read-request.ts'
import { decodeReadResponse, type SourceEvent } from './read-response-decoder.ts'

export type SourceItem =
  | { readonly kind: 'event'; readonly event: SourceEvent }
  /** A position the subscription has scanned up to, with nothing to forward in between (filtered subscriptions). */
  | { readonly kind: 'checkpoint'; readonly position: LogPosition }
  /** KurrentDB confirmed the subscription: from here on, newly appended events will be delivered. */
  | { readonly kind: 'subscribed' }
  /** Everything that existed when the subscription started has been delivered; events now arrive live. */
  | { readonly kind: 'caughtUp' }

/** Items read together, in read order; never empty. */
export type SourceBatch = readonly SourceItem[]

/** A batch closes at this size even within one read. */
const maxItemsPerBatch = 512

export class KurrentDbReadError extends Error {
  override readonly name = 'KurrentDbReadError'
  constructor(
    message: string,
    readonly transient: boolean,
    readonly grpcCode: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

export interface SourceOptions {
  readonly target: ReadTarget
  readonly start: StartPoint
  readonly checkpointEvery: number
  readonly paused$: ObservableType<boolean>
  /**
   * While true, each item is emitted as soon as it is decoded, not with the rest of its read: a consumer close to its
   * bound then pauses the source at the exact item that reaches it.
   */
  readonly emitEachItem?: () => boolean
  readonly logger: Logger
  /** Reconnect delays (see backoffDelay). */
  readonly reconnect?: BackoffPolicy
}

// Codes a KurrentDB restart, failover or network hiccup produces; anything else needs a person.
const transientGrpcCodes = new Set<number>([
  GrpcStatus.UNAVAILABLE,
  GrpcStatus.DEADLINE_EXCEEDED,
  GrpcStatus.ABORTED,
  GrpcStatus.INTERNAL,
  GrpcStatus.UNKNOWN,
  GrpcStatus.RESOURCE_EXHAUSTED,
  GrpcStatus.CANCELLED,
])

export function classifyReadError(error: unknown): KurrentDbReadError {
  if (error instanceof KurrentDbReadError) return error
  const code = typeof (error as { code?: unknown })?.code === 'number' ? ((error as { code: number }).code) : undefined
  const message = error instanceof Error ? error.message : String(error)
  // No gRPC code means the connection could not be made at all (DNS, refused): a network condition, so transient.
  const transient = code === undefined || transientGrpcCodes.has(code)
  return new KurrentDbReadError(`KurrentDB read failed: ${message}`, transient, code, { cause: error })
}

const defaultReconnect = { initialMs: 200, maxMs: 5_000 }

export function subscribeToSource(connection: KurrentDbConnection, options: SourceOptions): ObservableType<SourceBatch> {
  return new Observable<SourceBatch>((subscriber) => {
    const reconnect = options.reconnect ?? defaultReconnect
    let resumeFrom: StartPoint = options.start
    // The last event read, when it is what a reconnect resumes after: kept as it is, and turned into a start point
    // only when one is needed (once per reconnect instead of once per event).
    let resumeAfterEvent: SourceEvent | undefined
    const resumePoint = (): StartPoint => {
      if (resumeAfterEvent === undefined) return resumeFrom
      resumeFrom = options.target.kind === 'stream' ? { kind: 'afterRevision', revision: resumeAfterEvent.revision } : { kind: 'after', position: resumeAfterEvent.position }
      resumeAfterEvent = undefined
      return resumeFrom
    }
    let call: ClientReadableStream<Buffer> | undefined
    let paused = false
    let closed = false
    let failedAttempts = 0
    let reopenTimer: ReturnType<typeof setTimeout> | undefined
    let pending: SourceItem[] = []
    let flushScheduled: ReturnType<typeof setImmediate> | undefined

    // Responses decoded in one turn of the event loop are emitted together, after the turn's I/O callbacks.
    const flush = () => {
      if (flushScheduled !== undefined) clearImmediate(flushScheduled)
      flushScheduled = undefined
      if (pending.length === 0) return
      const batch = pending
      pending = []
      subscriber.next(batch)
    }
    const emit = (item: SourceItem) => {
      pending.push(item)
      if (pending.length >= maxItemsPerBatch || options.emitEachItem?.() === true) flush()
      else flushScheduled ??= setImmediate(flush)
    }

    const pausing = options.paused$.subscribe((shouldPause) => {
      paused = shouldPause
      if (call === undefined) return
      if (shouldPause) call.pause()
      else call.resume()
    })

    const onResponse = (bytes: Buffer) => {
      let response
      try {
        response = decodeReadResponse(bytes)
      } catch (error) {
        fail(new KurrentDbReadError(`KurrentDB sent a response that is not a valid ReadResp: ${(error as Error).message}`, false, undefined, { cause: error }))
        return
      }
      switch (response.kind) {
        case 'event':
          resumeAfterEvent = response.event
          // The decoded response is already an event item ({ kind: 'event', event }).
          emit(response)
          return
        case 'checkpoint':
          // Not a position to resume after: it means "the end" (see isEndOfLog).
          if (isEndOfLog(response.position)) return
          resumeAfterEvent = undefined
          resumeFrom = { kind: 'after', position: response.position }
          emit({ kind: 'checkpoint', position: response.position })
          return
        case 'confirmation':
          failedAttempts = 0
          emit({ kind: 'subscribed' })
          return
        case 'caughtUp':
          emit({ kind: 'caughtUp' })
          return
        default:
          return
      }
    }

    const fail = (error: KurrentDbReadError) => {
      if (closed) return
      closed = true
      call?.cancel()
      // What was read before the failure is still delivered, in order, before the error.
      flush()
      subscriber.error(error)
    }

    const onCallEnded = (cause: unknown) => {
      if (closed) return
      call = undefined
      const error = classifyReadError(cause)
      if (!error.transient) {
        fail(error)
        return
      }
      failedAttempts++
      const delay = backoffDelay(failedAttempts, reconnect)
      options.logger.warn('KurrentDB subscription interrupted; reconnecting', { error, attempt: failedAttempts, delayMs: delay })
      reopenTimer = setTimeout(open, delay)
    }

    const open = () => {
      reopenTimer = undefined
      if (closed) return
      // `end` is resolved to the last event before subscribing, so a reconnect resumes from there and not from a
      // later end (events written while the call was down would be skipped).
      if (resumePoint().kind === 'end') {
        readLogEnd(connection, options.target).then((end) => {
          if (resumePoint().kind === 'end') resumeFrom = startAfter(end, options.target)
          open()
        }, onCallEnded)
        return
      }
      let request
      try {
        request = buildSubscriptionRequest({ target: options.target, start: resumePoint(), checkpointEvery: options.checkpointEvery })
      } catch (error) {
        fail(new KurrentDbReadError((error as Error).message, false, undefined, { cause: error }))
        return
      }
      connection.openRead(request).then(
        (opened) => {
          if (closed) {
            opened.cancel()
            return
          }
          call = opened
          let ended = false
          const end = (cause: unknown) => {
            if (ended || call !== opened) return
            ended = true
            onCallEnded(cause)
          }
          opened.on('data', onResponse)
          opened.on('error', end)
          // A subscription never ends by itself; the server closing it is an interruption to recover from.
          opened.on('end', () => end(new KurrentDbReadError('KurrentDB closed the subscription', true, GrpcStatus.UNAVAILABLE)))
          if (paused) opened.pause()
        },
        onCallEnded,
      )
    }

    open()
    return () => {
      closed = true
      if (flushScheduled !== undefined) clearImmediate(flushScheduled)
      pausing.unsubscribe()
      if (reopenTimer !== undefined) clearTimeout(reopenTimer)
      const current = call
      call = undefined
      current?.cancel()
    }
  })
}
