/**
 * Tells a Kafka listener whose security protocol differs from the connection's apart from a broker that is down.
 * Clients see both as a connection that closes or resets, and retry it forever; a mismatch never heals, so the
 * connector must stop and say which setting to check.
 *
 * The probe opens one connection and holds the conversation of `listener-probe-conversation.ts` (ApiVersions, then
 * Metadata, as a broker answers them before any authentication); this file moves its bytes and says what they mean.
 * A client that uses TLS gets a second probe over TLS once the first saw TLS, to learn whether the listener also
 * wants SASL. A listener that refuses the connection, or gives no answer in time, is down, not misconfigured.
 */
import net from 'node:net'
import tls from 'node:tls'
import { startProbeConversation, type ListenerObservation } from './listener-probe-conversation.ts'
import type { SecurityProtocol } from './port.ts'

export type { ListenerObservation } from './listener-probe-conversation.ts'

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
    const conversation = startProbeConversation(overTls)
    // SNI carries host names only (RFC 6066 §3): an IP literal is not sent.
    const socket = overTls ? tls.connect({ ...tlsOptions, host, port, servername: net.isIP(host) === 0 ? host : undefined }) : net.createConnection({ host, port })
    let settled = false
    const finish = (observation: ListenerObservation) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      resolve(observation)
    }
    const timer = setTimeout(() => finish({ kind: 'inconclusive', reason: `no answer within ${timeoutMs} ms` }), timeoutMs)

    socket.once(overTls ? 'secureConnect' : 'connect', () => socket.write(conversation.opening))
    socket.on('error', (error: NodeJS.ErrnoException) => finish(conversation.ended(error.code ?? error.message)))
    socket.on('close', () => finish(conversation.ended(undefined)))
    socket.on('data', (chunk: Buffer) => {
      const { send, observation } = conversation.receive(chunk)
      if (send !== undefined) socket.write(send)
      if (observation !== undefined) finish(observation)
    })
  })
}
