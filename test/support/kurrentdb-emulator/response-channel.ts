/**
 * The sending side of a server-streaming call with HTTP/2 backpressure: when `write` reports a full buffer
 * the sender waits for 'drain', so a slow reader holds events in the log, not in the emulator's memory.
 * The channel also knows when the call is over (client cancel, error, our own end).
 */
import type * as grpc from '@grpc/grpc-js'

export type ResponseChannel<Message> = {
  readonly open: boolean
  /** Sends one message; the returned promise (only when the buffer is full) settles on drain or close. */
  send(message: Message): Promise<void> | undefined
  /** Resolves on `wake` or when the call ends, whichever comes first. */
  waitFor(wake: Promise<void>): Promise<void>
  end(): void
  fail(error: grpc.ServiceError): void
}

export function openResponseChannel<Request, Message>(call: grpc.ServerWritableStream<Request, Message>): ResponseChannel<Message> {
  let open = true
  // One slot, not a listener per wait: a live subscription may wait a million times.
  let wakeOnClose: (() => void) | undefined
  let drainWaiter: (() => void) | undefined

  const close = (): void => {
    if (!open) return
    open = false
    wakeOnClose?.()
    drainWaiter?.()
  }
  call.on('cancelled', close)
  call.on('close', close)
  call.on('error', close)
  call.on('finish', close)
  call.on('drain', () => drainWaiter?.())

  return {
    get open() {
      return open
    },
    send(message: Message): Promise<void> | undefined {
      if (!open || call.write(message)) return undefined
      return new Promise<void>((resolve) => {
        drainWaiter = () => {
          drainWaiter = undefined
          resolve()
        }
      })
    },
    waitFor(wake: Promise<void>): Promise<void> {
      if (!open) return Promise.resolve()
      return new Promise<void>((resolve) => {
        wakeOnClose = resolve
        wake.then(() => {
          if (wakeOnClose === resolve) wakeOnClose = undefined
          resolve()
        })
      })
    },
    end(): void {
      if (!open) return
      open = false
      call.end()
    },
    fail(error: grpc.ServiceError): void {
      if (!open) return
      call.emit('error', error)
      close()
    },
  }
}
