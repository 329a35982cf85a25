// The probe against listeners on 127.0.0.1 in the test process, each behaving as a kind of Kafka listener does
// before authentication (Kafka protocol guide; KIP-43: a SASL listener answers ApiVersions and closes on anything
// else but SaslHandshake; a TLS listener answers plaintext with a TLS alert record): what it observes, that it sends
// SNI only for host names (RFC 6066 §3), and that it closes its connection once it has an answer.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import net from 'node:net'
import tls from 'node:tls'
import { probeListener } from '../../../../src/sink/kafka/listener-probe.ts'
import { createTestCertificates, type TestCertificates } from '../../../support/kafka-security-front/certificates.ts'

/** How a listener treats the probe's requests. */
type Behaviour =
  | 'kafka' // answers ApiVersions and Metadata
  | 'sasl-close' // answers ApiVersions, closes on Metadata
  | 'sasl-reset' // answers ApiVersions, resets the connection on Metadata
  | 'tls-alert' // answers the first bytes with a TLS alert record, as a TLS listener does to a plaintext client
  | 'close' // closes as soon as the connection is up
  | 'silent' // never answers

interface Listener {
  readonly port: number
  /** Resolves when the probe's connection to it has closed (from the probe's side or its own). */
  connectionClosed(): Promise<void>
  /** The SNI name of the last TLS connection, or false when the client sent none. */
  servername(): string | false | null | undefined
  close(): Promise<void>
}

let certificates: TestCertificates
const listeners: Listener[] = []
const timeoutMs = 5_000

beforeAll(async () => {
  certificates = await createTestCertificates()
})

afterAll(async () => {
  await Promise.all(listeners.map((listener) => listener.close()))
  await certificates.remove()
})

function sized(payload: Buffer): Buffer {
  const size = Buffer.alloc(4)
  size.writeInt32BE(payload.length)
  return Buffer.concat([size, payload])
}

/** ApiVersions v0 response listing Metadata (3), ApiVersions (18) and SaslHandshake (17). */
function apiVersionsAnswer(correlationId: number): Buffer {
  const apiKeys = [3, 18, 17]
  const body = Buffer.alloc(10 + apiKeys.length * 6)
  body.writeInt32BE(correlationId, 0)
  body.writeInt32BE(apiKeys.length, 6)
  apiKeys.forEach((apiKey, index) => body.writeInt16BE(apiKey, 10 + index * 6))
  return sized(body)
}

/** Metadata v0 response: correlation id, no brokers, no topics. */
function metadataAnswer(correlationId: number): Buffer {
  const body = Buffer.alloc(12)
  body.writeInt32BE(correlationId, 0)
  return sized(body)
}

function serve(socket: net.Socket, behaviour: Behaviour): void {
  if (behaviour === 'close') return void socket.end()
  let buffered = Buffer.alloc(0)
  socket.on('error', () => {})
  socket.on('data', (chunk: Buffer) => {
    if (behaviour === 'silent') return
    if (behaviour === 'tls-alert') return void socket.end(Buffer.from([21, 3, 3, 0, 2, 2, 70]))
    buffered = Buffer.concat([buffered, chunk])
    while (buffered.length >= 4 && buffered.length >= buffered.readInt32BE(0) + 4) {
      const request = buffered.subarray(4, buffered.readInt32BE(0) + 4)
      buffered = buffered.subarray(request.length + 4)
      const apiKey = request.readInt16BE(0)
      const correlationId = request.readInt32BE(4)
      if (apiKey === 18) socket.write(apiVersionsAnswer(correlationId))
      else if (behaviour === 'kafka') socket.write(metadataAnswer(correlationId))
      else if (behaviour === 'sasl-close') socket.end()
      else socket.resetAndDestroy()
    }
  })
}

async function listen(behaviour: Behaviour, overTls = false): Promise<Listener> {
  let closed = Promise.withResolvers<void>()
  let servername: string | false | null | undefined
  const sockets = new Set<net.Socket>()
  const onConnection = (socket: net.Socket) => {
    const done = closed
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('close', () => done.resolve())
    if (socket instanceof tls.TLSSocket) servername = socket.servername
    serve(socket, behaviour)
  }
  const server = overTls
    ? tls.createServer({ key: certificates.serverKeyPem, cert: certificates.serverCertPem }, onConnection)
    : net.createServer(onConnection)
  server.on('tlsClientError', () => {})
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const listener: Listener = {
    port: (server.address() as net.AddressInfo).port,
    connectionClosed: async () => {
      await closed.promise
      closed = Promise.withResolvers<void>()
    },
    servername: () => servername,
    close: () => {
      for (const socket of sockets) socket.destroy()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
  listeners.push(listener)
  return listener
}

const trusted = (): tls.ConnectionOptions => ({ ca: certificates.caPem })

describe('in plaintext', () => {
  test('a Kafka listener that answers Metadata needs no authentication, and the probe then hangs up', async () => {
    const listener = await listen('kafka')
    expect(await probeListener('127.0.0.1', listener.port, timeoutMs)).toEqual({
      kind: 'kafka', overTls: false, advertisesSaslHandshake: true, authenticationRequired: false,
    })
    await listener.connectionClosed()
  })

  test.each<Behaviour>(['sasl-close', 'sasl-reset'])('a listener that answers ApiVersions, then ends the connection on Metadata (%s), requires SASL', async (behaviour) => {
    const listener = await listen(behaviour)
    expect(await probeListener('127.0.0.1', listener.port, timeoutMs)).toEqual({
      kind: 'kafka', overTls: false, advertisesSaslHandshake: true, authenticationRequired: true,
    })
  })

  test('a listener that answers with a TLS record speaks TLS', async () => {
    const listener = await listen('tls-alert')
    expect(await probeListener('127.0.0.1', listener.port, timeoutMs)).toEqual({ kind: 'tls' })
  })

  test('a real TLS listener, probed in plaintext, is never taken for Kafka', async () => {
    const listener = await listen('kafka', true)
    // Node's TLS server closes on a non-TLS first record (other servers answer an alert first): either is fine here.
    expect(['tls', 'inconclusive']).toContain((await probeListener('127.0.0.1', listener.port, timeoutMs)).kind)
  })

  test('a listener that closes at once proves nothing', async () => {
    const listener = await listen('close')
    expect(await probeListener('127.0.0.1', listener.port, timeoutMs)).toEqual({ kind: 'inconclusive', reason: 'closed without answering' })
  })

  test('a port nobody listens on proves nothing, and says the connection was refused', async () => {
    const listener = await listen('close')
    await listener.close()
    expect(await probeListener('127.0.0.1', listener.port, timeoutMs)).toEqual({ kind: 'inconclusive', reason: 'ECONNREFUSED' })
  })

  test('a listener that never answers proves nothing once the probe gives up, and the probe hangs up', async () => {
    const listener = await listen('silent')
    const observation = await probeListener('127.0.0.1', listener.port, 200)
    expect(observation).toEqual({ kind: 'inconclusive', reason: 'no answer within 200 ms' })
    await listener.connectionClosed()
  })
})

describe('over TLS', () => {
  test('a TLS Kafka listener that answers Metadata needs no authentication; no SNI is sent for an IP address', async () => {
    const listener = await listen('kafka', true)
    expect(await probeListener('127.0.0.1', listener.port, timeoutMs, trusted())).toEqual({
      kind: 'kafka', overTls: true, advertisesSaslHandshake: true, authenticationRequired: false,
    })
    expect(listener.servername()).toBeFalsy()
    await listener.connectionClosed()
  })

  test('a SASL_SSL listener requires authentication; the host name is sent as SNI', async () => {
    const listener = await listen('sasl-close', true)
    expect(await probeListener('localhost', listener.port, timeoutMs, trusted())).toEqual({
      kind: 'kafka', overTls: true, advertisesSaslHandshake: true, authenticationRequired: true,
    })
    expect(listener.servername()).toBe('localhost')
  })

  test('a certificate the client does not trust leaves the verdict to the client: inconclusive', async () => {
    const listener = await listen('kafka', true)
    const observation = await probeListener('127.0.0.1', listener.port, timeoutMs, {})
    expect(observation.kind).toBe('inconclusive')
  })
})
