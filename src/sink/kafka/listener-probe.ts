/**
 * Tells a Kafka listener whose security protocol differs from the connection's apart from a broker that is down.
 * Clients see both as a connection that closes or resets, and retry it forever; a mismatch never heals, so the
 * connector must stop and say which setting to check.
 *
 * The probe opens one plaintext TCP connection and speaks the first steps of the protocol, as a broker would
 * answer them before any authentication:
 * - ApiVersions v0 (brokers answer it before SASL authentication, KIP-43/KIP-35, so clients can pick versions);
 *   a TLS listener answers with a TLS record (an alert) instead, or closes;
 * - then Metadata v0: a SASL listener closes the connection on any request other than ApiVersions and
 *   SaslHandshake before authentication (Kafka's SaslServerAuthenticator: "Unexpected Kafka request of type …
 *   during SASL handshake"), a plaintext listener answers it.
 * A client that uses TLS gets a second probe over TLS once the first saw TLS, to learn whether the listener also
 * wants SASL. A listener that refuses the connection, or gives no answer in time, is down, not misconfigured.
 */
import net from 'node:net'
import tls from 'node:tls'
import type { SecurityProtocol } from './port.ts'

export type ListenerObservation =
  /** The first bytes back were a TLS record: the listener speaks TLS. */
  | { readonly kind: 'tls' }
  /** A Kafka ApiVersions answer (over TLS or not); `authenticationRequired` when it then closed on Metadata. */
  | { readonly kind: 'kafka'; readonly overTls: boolean; readonly advertisesSaslHandshake: boolean; readonly authenticationRequired: boolean }
  /** Refused, reset, closed without a byte, or silent: nothing to conclude from. */
  | { readonly kind: 'inconclusive'; readonly reason: string }

const apiVersionsKey = 18
const metadataKey = 3
const saslHandshakeKey = 17
/** TLS record content types: change_cipher_spec 20, alert 21, handshake 22, with a 3.x record version after. */
const tlsRecordTypes = new Set([20, 21, 22])

/**
 * Which mismatch an observation proves for a connection configured with `protocol`, as the sentence a user
 * reads in errorDetails; undefined when the listener fits or nothing can be concluded. Pure.
 */
export function describeSecurityMismatch(protocol: SecurityProtocol, observation: ListenerObservation): string | undefined {
  const usesTls = protocol === 'ssl' || protocol === 'saslSsl'
  const usesSasl = protocol === 'saslPlaintext' || protocol === 'saslSsl'
  const setting = 'check authentication:securityProtocol'
  switch (observation.kind) {
    case 'inconclusive':
      return undefined
    case 'tls':
      return usesTls ? undefined : `the broker requires TLS on this listener (securityProtocol is ${protocol}): ${setting}`
    case 'kafka':
      if (usesTls && !observation.overTls) return `the broker does not offer TLS on this listener: it answered in plaintext (securityProtocol is ${protocol}): ${setting}`
      // Kafka brokers list SaslHandshake on every listener (a plaintext one answers it ILLEGAL_SASL_STATE), so a
      // listener that answers Metadata without authentication is not a SASL listener either.
      if (usesSasl && (!observation.advertisesSaslHandshake || !observation.authenticationRequired)) {
        return `the broker does not offer SASL on this listener (securityProtocol is ${protocol}): ${setting}`
      }
      if (!usesSasl && observation.authenticationRequired) {
        return `the broker requires SASL authentication on this listener (securityProtocol is ${protocol}): ${setting}`
      }
      return undefined
  }
}

/**
 * Probes one listener, in plaintext, or over TLS with `tlsOptions` (the client's own trust); never rejects.
 * A TLS handshake that fails is inconclusive here: the client reports that failure itself.
 */
export function probeListener(host: string, port: number, timeoutMs: number, tlsOptions?: tls.ConnectionOptions): Promise<ListenerObservation> {
  return new Promise((resolve) => {
    const overTls = tlsOptions !== undefined
    const socket = overTls ? tls.connect({ ...tlsOptions, host, port, servername: net.isIP(host) === 0 ? host : undefined }) : net.createConnection({ host, port })
    let received = Buffer.alloc(0)
    let step: 'apiVersions' | 'metadata' = 'apiVersions'
    let advertisesSaslHandshake = false
    let settled = false
    const finish = (observation: ListenerObservation) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      resolve(observation)
    }
    const timer = setTimeout(() => finish({ kind: 'inconclusive', reason: `no answer within ${timeoutMs} ms` }), timeoutMs)

    socket.once(overTls ? 'secureConnect' : 'connect', () => socket.write(request(apiVersionsKey, 1, Buffer.alloc(0))))
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // A reset after ApiVersions was answered is how a SASL listener refuses the Metadata request.
      if (step === 'metadata') finish({ kind: 'kafka', overTls, advertisesSaslHandshake, authenticationRequired: true })
      else finish({ kind: 'inconclusive', reason: error.code ?? error.message })
    })
    socket.on('close', () => {
      if (step === 'metadata') finish({ kind: 'kafka', overTls, advertisesSaslHandshake, authenticationRequired: true })
      else finish({ kind: 'inconclusive', reason: 'closed without answering' })
    })
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk])
      if (!overTls && step === 'apiVersions' && received.length >= 2 && tlsRecordTypes.has(received[0]!) && received[1] === 3) {
        return finish({ kind: 'tls' })
      }
      const frame = nextFrame(received)
      if (frame === undefined) return
      received = received.subarray(frame.length + 4)
      if (step === 'apiVersions') {
        const answer = readApiVersionsV0(frame)
        if (answer === undefined || answer.correlationId !== 1) return finish({ kind: 'inconclusive', reason: 'not a Kafka ApiVersions answer' })
        advertisesSaslHandshake = answer.apiKeys.includes(saslHandshakeKey)
        step = 'metadata'
        // Metadata v0 with an empty topic array: the smallest request every broker version answers.
        socket.write(request(metadataKey, 2, int32(0)))
        return
      }
      finish({ kind: 'kafka', overTls, advertisesSaslHandshake, authenticationRequired: false })
    })
  })
}

/** Request header v1 (api key, version 0, correlation id, client id) and body, size-prefixed. */
function request(apiKey: number, correlationId: number, body: Buffer): Buffer {
  const clientId = Buffer.from('kafka-sink-probe')
  const header = Buffer.alloc(10)
  header.writeInt16BE(apiKey, 0)
  header.writeInt16BE(0, 2)
  header.writeInt32BE(correlationId, 4)
  header.writeInt16BE(clientId.length, 8)
  const payload = Buffer.concat([header, clientId, body])
  return Buffer.concat([int32(payload.length), payload])
}

function int32(value: number): Buffer {
  const buffer = Buffer.alloc(4)
  buffer.writeInt32BE(value, 0)
  return buffer
}

/** The first complete size-prefixed frame (without its size), if it has fully arrived. */
function nextFrame(buffer: Buffer): Buffer | undefined {
  if (buffer.length < 4) return undefined
  const size = buffer.readInt32BE(0)
  if (size < 0 || buffer.length < size + 4) return undefined
  return buffer.subarray(4, size + 4)
}

/** ApiVersions v0 response: correlation id, error code, [api key, min, max]. */
function readApiVersionsV0(frame: Buffer): { correlationId: number; apiKeys: number[] } | undefined {
  if (frame.length < 10) return undefined
  const correlationId = frame.readInt32BE(0)
  const count = frame.readInt32BE(6)
  if (count < 0 || frame.length < 10 + count * 6) return undefined
  const apiKeys: number[] = []
  for (let index = 0; index < count; index++) apiKeys.push(frame.readInt16BE(10 + index * 6))
  return { correlationId, apiKeys }
}
