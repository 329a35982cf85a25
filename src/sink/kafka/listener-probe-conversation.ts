/**
 * The listener probe's side of the conversation, without the socket: which bytes to send, how to read what comes
 * back, and what the answers (or the end of the connection) say about the listener. Pure and deterministic, so every
 * byte-level decision can be tested by feeding chunks; `listener-probe.ts` only moves bytes between it and a socket.
 *
 * The conversation, as a broker would answer it before any authentication:
 * - ApiVersions v0 (brokers answer it before SASL authentication, KIP-43/KIP-35, so clients can pick versions);
 *   a TLS listener answers a plaintext client with a TLS record (an alert) instead, or closes;
 * - then Metadata v0: a SASL listener closes the connection on any request other than ApiVersions and
 *   SaslHandshake before authentication (Kafka's SaslServerAuthenticator: "Unexpected Kafka request of type …
 *   during SASL handshake"), a plaintext listener answers it.
 */

export type ListenerObservation =
  /** The first bytes back were a TLS record: the listener speaks TLS. */
  | { readonly kind: 'tls' }
  /** A Kafka ApiVersions answer (over TLS or not); `authenticationRequired` when it then closed on Metadata. */
  | { readonly kind: 'kafka'; readonly overTls: boolean; readonly advertisesSaslHandshake: boolean; readonly authenticationRequired: boolean }
  /** Refused, reset, closed without a byte, or silent: nothing to conclude from. */
  | { readonly kind: 'inconclusive'; readonly reason: string }

export interface ProbeConversation {
  /** The first request, to send once the connection is up (after the TLS handshake over TLS). */
  readonly opening: Buffer
  /** Bytes from the listener: the next request to send, and the observation once one is reached. */
  receive(chunk: Buffer): { readonly send?: Buffer; readonly observation?: ListenerObservation }
  /** The listener closed or reset the connection (`reason`: its error code, or undefined for a close). */
  ended(reason: string | undefined): ListenerObservation
}

const apiVersionsKey = 18
const metadataKey = 3
const saslHandshakeKey = 17
const apiVersionsCorrelationId = 1
const metadataCorrelationId = 2
/** Shows in the broker's request logs, so an operator can tell the probe from the producer. */
const probeClientId = 'kafka-sink-probe'
/** TLS record content types: change_cipher_spec 20, alert 21, handshake 22, with a 3.x record version after. */
const tlsRecordTypes = new Set([20, 21, 22])

export function startProbeConversation(overTls: boolean): ProbeConversation {
  let received = Buffer.alloc(0)
  let step: 'apiVersions' | 'metadata' = 'apiVersions'
  let advertisesSaslHandshake = false
  const kafka = (authenticationRequired: boolean): ListenerObservation => ({ kind: 'kafka', overTls, advertisesSaslHandshake, authenticationRequired })

  return {
    opening: encodeRequest(apiVersionsKey, apiVersionsCorrelationId, Buffer.alloc(0)),
    receive(chunk) {
      received = Buffer.concat([received, chunk])
      // Inside TLS the bytes are Kafka's; a TLS record can only be the answer to plaintext ApiVersions.
      if (!overTls && step === 'apiVersions' && startsWithTlsRecord(received)) return { observation: { kind: 'tls' } }
      const frame = nextFrame(received)
      if (frame === undefined) return {}
      received = received.subarray(frame.length + 4)
      if (step === 'metadata') return { observation: kafka(false) }
      const answer = readApiVersionsV0(frame)
      if (answer === undefined || answer.correlationId !== apiVersionsCorrelationId) {
        return { observation: { kind: 'inconclusive', reason: 'not a Kafka ApiVersions answer' } }
      }
      advertisesSaslHandshake = answer.apiKeys.includes(saslHandshakeKey)
      step = 'metadata'
      // Metadata v0 with an empty topic array: the smallest request every broker version answers.
      return { send: encodeRequest(metadataKey, metadataCorrelationId, int32(0)) }
    },
    ended(reason) {
      // A close or reset after ApiVersions was answered is how a SASL listener refuses the Metadata request.
      if (step === 'metadata') return kafka(true)
      return { kind: 'inconclusive', reason: reason ?? 'closed without answering' }
    },
  }
}

/** Whether the bytes begin with a TLS record header (content type, then major version 3). */
function startsWithTlsRecord(bytes: Buffer): boolean {
  return bytes.length >= 2 && tlsRecordTypes.has(bytes[0]!) && bytes[1] === 3
}

/** A size-prefixed request with header v1 (api key, version 0, correlation id, client id) and `body`. */
function encodeRequest(apiKey: number, correlationId: number, body: Buffer): Buffer {
  const clientId = Buffer.from(probeClientId)
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

/** ApiVersions v0 response: correlation id, error code, [api key, min, max]; undefined when it is not one. */
function readApiVersionsV0(frame: Buffer): { correlationId: number; apiKeys: number[] } | undefined {
  if (frame.length < 10) return undefined
  const correlationId = frame.readInt32BE(0)
  const count = frame.readInt32BE(6)
  if (count < 0 || frame.length < 10 + count * 6) return undefined
  const apiKeys: number[] = []
  for (let index = 0; index < count; index++) apiKeys.push(frame.readInt16BE(10 + index * 6))
  return { correlationId, apiKeys }
}
