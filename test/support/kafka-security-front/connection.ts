/**
 * One client connection of the security front: authenticates it (when SASL is required), then relays its frames
 * to one broker of the mock cluster over a plaintext TCP connection of its own, rewriting the only two responses
 * that must change (ApiVersions, Metadata; the rest pass as bytes).
 *
 * Kafka's rules this follows (SaslServerAuthenticator): before authentication a broker accepts ApiVersions and
 * SaslHandshake only; after a v1 handshake, SaslAuthenticate only; a failed authentication is answered, then the
 * connection is closed. A broker answers a connection's requests in the order it received them, so responses
 * from the mock arrive in request order; the front's own answers (SASL) wait for the ApiVersions answers still
 * outstanding so the client sees that order too.
 */
import net from 'node:net'
import { apiKeys, patchApiVersionsResponse, saslApiVersions } from './api-versions.ts'
import { rewriteMetadataResponse, type BrokerAddress } from './metadata.ts'
import { exceedsLimit, messageTooLargeResponse, produceApiKey, readProduceRequest } from './produce-limit.ts'
import { FrameSplitter, framed, KafkaProtocolError, readRequestHeader, requestBodyOffset, type RequestHeader } from './protocol.ts'
import { createSaslSession, type SaslMechanismName, type SaslSession, type ScramCredentialStore } from './sasl.ts'
import {
  kafkaErrors,
  rawSaslToken,
  readSaslAuthenticateBytes,
  readSaslHandshakeMechanism,
  saslAuthenticateResponse,
  saslHandshakeResponse,
} from './sasl-apis.ts'

export interface ConnectionContext {
  /** Undefined when the front only adds TLS. */
  readonly sasl: { readonly mechanisms: readonly SaslMechanismName[]; readonly credentials: ScramCredentialStore } | undefined
  /** The front's listener address for a broker id, for Metadata rewriting. */
  readonly frontAddressOf: (nodeId: number) => BrokerAddress | undefined
  /** Every socket the connection opens, so the front can end them all on close. */
  readonly track: (socket: net.Socket) => void
  /** Every request the client sent (the whole frame, header included), before the front acts on it. */
  readonly onRequest: (header: RequestHeader, frame: Buffer) => void
  /** The broker's message.max.bytes, which the mock does not enforce (produce-limit.ts); undefined for none. */
  readonly maxMessageBytes?: number | undefined
  /** Why the front closed a connection (protocol violations, failed authentication, broker unreachable). */
  readonly onProblem: (message: string) => void
}

type Phase =
  | { readonly name: 'awaitingHandshake' }
  | { readonly name: 'awaitingAuthenticate'; readonly session: SaslSession; readonly mechanism: SaslMechanismName }
  | { readonly name: 'awaitingRawToken'; readonly session: SaslSession; readonly mechanism: SaslMechanismName }
  | { readonly name: 'authenticated'; readonly user: string | undefined }
  | { readonly name: 'closing' }

/** Responses the front rewrites, by correlation id. */
interface TrackedRequest {
  readonly apiKey: number
  readonly apiVersion: number
}

export function relayConnection(client: net.Socket, broker: BrokerAddress, context: ConnectionContext): void {
  new Relay(client, broker, context).start()
}

class Relay {
  #phase: Phase
  #upstream: net.Socket | undefined
  readonly #requests = new FrameSplitter()
  readonly #responses = new FrameSplitter()
  readonly #tracked = new Map<number, TrackedRequest>()
  /**
   * The front's own answers waiting for the forwarded requests sent before them to be answered (`after`: how many
   * answered requests had been forwarded when it was queued); `end` closes after them.
   */
  readonly #ownAnswers: { frame: Buffer; end: boolean; after: number }[] = []
  #forwardedCount = 0
  #answeredCount = 0
  #clientPaused = false
  #upstreamPaused = false

  constructor(
    private readonly client: net.Socket,
    private readonly broker: BrokerAddress,
    private readonly context: ConnectionContext,
  ) {
    this.#phase = context.sasl === undefined ? { name: 'authenticated', user: undefined } : { name: 'awaitingHandshake' }
  }

  start(): void {
    this.context.track(this.client)
    this.client.setNoDelay(true)
    this.client.on('data', (chunk: Buffer) => this.#guard(() => this.#onClientData(chunk)))
    // The client is done sending: pass the half-close on; the broker then closes its side, which ends ours.
    this.client.on('end', () => this.#upstream?.end())
    this.client.on('close', () => this.#upstream?.destroy())
    this.client.on('error', () => this.#destroyBoth())
  }

  /** Any malformed input ends the connection, with the reason kept for the test's diagnostics. */
  #guard(work: () => void): void {
    try {
      work()
    } catch (error) {
      const message = error instanceof KafkaProtocolError ? error.message : `front error: ${String(error)}`
      this.#fail(message)
    }
  }

  #onClientData(chunk: Buffer): void {
    // A request may close the connection (failed authentication): the frames after it are ignored, as Kafka would.
    for (const frame of this.#requests.push(chunk)) {
      if (this.#closing()) return
      this.#onRequest(frame)
    }
  }

  #closing(): boolean {
    return this.#phase.name === 'closing'
  }

  #onRequest(frame: Buffer): void {
    const phase = this.#phase
    if (phase.name === 'awaitingRawToken') {
      this.#onSaslToken(phase, frame, (reply) => rawSaslToken(reply), undefined)
      return
    }
    const header = readRequestHeader(frame)
    this.context.onRequest(header, frame)
    switch (phase.name) {
      case 'authenticated':
        if (header.apiKey === apiKeys.SaslHandshake || header.apiKey === apiKeys.SaslAuthenticate) {
          // Re-authentication (KIP-368) is never asked for: SaslAuthenticate answers a session lifetime of 0.
          this.#fail(`${apiName(header.apiKey)} on an authenticated connection is not supported by the front`)
          return
        }
        if (header.apiKey === produceApiKey && this.context.maxMessageBytes !== undefined) {
          const produce = readProduceRequest(frame, requestBodyOffset(frame, header.apiVersion >= 9), header.apiVersion)
          if (exceedsLimit(produce, this.context.maxMessageBytes)) {
            this.context.onProblem(`Produce v${header.apiVersion} over message.max.bytes ${this.context.maxMessageBytes}: MESSAGE_TOO_LARGE`)
            this.#answer(messageTooLargeResponse(header.correlationId, header.apiVersion, produce), false)
            return
          }
        }
        this.#forward(frame, header)
        return
      case 'awaitingHandshake':
        if (header.apiKey === apiKeys.ApiVersions) this.#forward(frame, header)
        else if (header.apiKey === apiKeys.SaslHandshake) this.#onHandshake(frame, header)
        else this.#fail(`${apiName(header.apiKey)} before SASL authentication`)
        return
      case 'awaitingAuthenticate':
        if (header.apiKey !== apiKeys.SaslAuthenticate) {
          this.#fail(`${apiName(header.apiKey)} where SaslAuthenticate was expected`)
          return
        }
        this.#onSaslToken(
          phase,
          readSaslAuthenticateBytes(frame, header.apiVersion),
          (reply) => saslAuthenticateResponse(header.correlationId, header.apiVersion, { errorCode: kafkaErrors.NONE, errorMessage: null, authBytes: reply }),
          (message) =>
            saslAuthenticateResponse(header.correlationId, header.apiVersion, {
              errorCode: kafkaErrors.SASL_AUTHENTICATION_FAILED,
              errorMessage: message,
              authBytes: Buffer.alloc(0),
            }),
        )
        return
    }
  }

  #onHandshake(frame: Buffer, header: RequestHeader): void {
    const sasl = this.context.sasl!
    const requested = readSaslHandshakeMechanism(frame)
    const mechanism = sasl.mechanisms.find((name) => name === requested)
    if (mechanism === undefined || header.apiVersion > 1) {
      // Kafka answers UNSUPPORTED_SASL_MECHANISM with the enabled list, then closes the connection.
      const errorCode = mechanism === undefined ? kafkaErrors.UNSUPPORTED_SASL_MECHANISM : kafkaErrors.UNSUPPORTED_VERSION
      this.context.onProblem(`SaslHandshake v${header.apiVersion} for ${JSON.stringify(requested)} refused`)
      this.#answer(saslHandshakeResponse(header.correlationId, errorCode, sasl.mechanisms), true)
      return
    }
    const session = createSaslSession(mechanism, sasl.credentials)
    this.#phase = header.apiVersion === 0 ? { name: 'awaitingRawToken', session, mechanism } : { name: 'awaitingAuthenticate', session, mechanism }
    this.#answer(saslHandshakeResponse(header.correlationId, kafkaErrors.NONE, sasl.mechanisms), false)
  }

  /** One SASL token; `failed` undefined means the raw flow, where Kafka just closes the connection on failure. */
  #onSaslToken(
    phase: { readonly session: SaslSession; readonly mechanism: SaslMechanismName },
    token: Buffer,
    succeeded: (reply: Buffer) => Buffer,
    failed: ((message: string) => Buffer) | undefined,
  ): void {
    const step = phase.session.step(token)
    if (step.kind === 'failed') {
      this.context.onProblem(`${phase.mechanism} authentication failed: ${step.message}`)
      if (failed === undefined) this.#fail(undefined)
      else this.#answer(failed(step.message), true)
      return
    }
    if (step.kind === 'authenticated') this.#phase = { name: 'authenticated', user: step.user }
    this.#answer(succeeded(step.reply), false)
  }

  #forward(frame: Buffer, header: RequestHeader): void {
    // Every request that gets an answer is tracked, so the front's own answers keep the order of the requests; a
    // Produce with acks=0 is never answered by the broker.
    const unanswered = header.apiKey === produceApiKey && readProduceRequest(frame, requestBodyOffset(frame, header.apiVersion >= 9), header.apiVersion).acks === 0
    if (!unanswered) {
      this.#tracked.set(header.correlationId, { apiKey: header.apiKey, apiVersion: header.apiVersion })
      this.#forwardedCount++
    }
    const upstream = this.#upstream ?? this.#connectUpstream()
    if (!upstream.write(framed(frame)) && !this.#clientPaused) {
      // Backpressure: stop reading the client until the broker connection drains.
      this.#clientPaused = true
      this.client.pause()
      upstream.once('drain', () => {
        this.#clientPaused = false
        this.client.resume()
      })
    }
  }

  #connectUpstream(): net.Socket {
    const upstream = net.connect({ host: this.broker.host, port: this.broker.port })
    this.#upstream = upstream
    this.context.track(upstream)
    upstream.setNoDelay(true)
    upstream.on('data', (chunk: Buffer) => this.#guard(() => this.#onUpstreamData(chunk)))
    upstream.on('end', () => this.client.end())
    upstream.on('close', () => {
      if (!this.client.destroyed) this.client.end()
    })
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      this.context.onProblem(`broker ${this.broker.host}:${this.broker.port}: ${error.code ?? error.message}`)
      this.#destroyBoth()
    })
    return upstream
  }

  #onUpstreamData(chunk: Buffer): void {
    for (const frame of this.#responses.push(chunk)) {
      // Own answers queued before this response's request go first.
      this.#flushOwnAnswers()
      this.#toClient(framed(this.#rewrite(frame)))
      this.#answeredCount++
    }
    this.#flushOwnAnswers()
  }

  #rewrite(frame: Buffer): Buffer {
    if (frame.length < 4) throw new KafkaProtocolError('response shorter than its correlation id')
    const correlationId = frame.readInt32BE(0)
    const tracked = this.#tracked.get(correlationId)
    if (tracked === undefined) return frame
    this.#tracked.delete(correlationId)
    if (tracked.apiKey === apiKeys.Metadata) {
      return rewriteMetadataResponse(frame, tracked.apiVersion, this.context.frontAddressOf)
    }
    if (tracked.apiKey !== apiKeys.ApiVersions) return frame
    return this.context.sasl === undefined ? frame : patchApiVersionsResponse(frame, tracked.apiVersion, saslApiVersions)
  }

  #answer(frame: Buffer, end: boolean): void {
    if (end) this.#phase = { name: 'closing' }
    this.#ownAnswers.push({ frame, end, after: this.#forwardedCount })
    this.#flushOwnAnswers()
  }

  /** Own answers go out once every forwarded request sent before them has its answer (see header). */
  #flushOwnAnswers(): void {
    while (this.#ownAnswers.length > 0 && this.#ownAnswers[0]!.after <= this.#answeredCount) {
      const { frame, end } = this.#ownAnswers.shift()!
      if (end) {
        this.client.end(frame)
        this.#upstream?.destroy()
        return
      }
      this.#toClient(frame)
    }
  }

  #toClient(bytes: Buffer): void {
    if (this.client.destroyed || this.client.writableEnded) return
    if (!this.client.write(bytes) && !this.#upstreamPaused && this.#upstream !== undefined) {
      const upstream = this.#upstream
      this.#upstreamPaused = true
      upstream.pause()
      this.client.once('drain', () => {
        this.#upstreamPaused = false
        upstream.resume()
      })
    }
  }

  /** Closes both sides now; `reason` undefined for closes Kafka makes silently (raw SASL flow). */
  #fail(reason: string | undefined): void {
    if (reason !== undefined) this.context.onProblem(reason)
    this.#phase = { name: 'closing' }
    this.#destroyBoth()
  }

  #destroyBoth(): void {
    this.#phase = { name: 'closing' }
    this.client.destroy()
    this.#upstream?.destroy()
  }
}

function apiName(apiKey: number): string {
  const known = Object.entries(apiKeys).find(([, key]) => key === apiKey)
  return known === undefined ? `request with api key ${apiKey}` : known[0]
}
