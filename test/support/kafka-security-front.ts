/**
 * The Kafka security front: TLS and/or SASL in front of the Kafka test broker, whose librdkafka mock cluster
 * speaks plaintext only. One listener per mock broker on 127.0.0.1; each client connection is authenticated by
 * the front and then relayed, bytes as they are, to that broker over a plaintext connection of its own.
 *
 * What it covers:
 * - TLS with a throwaway CA and a server certificate for 127.0.0.1 and localhost (made with the openssl CLI at
 *   start, deleted on close); `caFile` is what clients must trust.
 * - SASL as Kafka brokers do it: SaslHandshake v0–1 and SaslAuthenticate v0–2 answered by the front (advertised by
 *   patching ApiVersions responses, since the mock does not), PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512; a failed
 *   authentication is answered SASL_AUTHENTICATION_FAILED (58) and the connection closed; any other request
 *   before authentication closes the connection.
 * - Metadata responses of every version (v0–v12) rewritten so that brokers are reached through the front.
 *
 * What it does not cover:
 * - FindCoordinator (and the coordinator host/port it returns) is not rewritten: no client of the rig uses
 *   consumer groups or transactions through the front (kcat -C reads partitions without a group).
 * - Brokers added to the mock after start, re-authentication (KIP-368: the front grants a session lifetime of 0),
 *   mutual TLS, OAUTHBEARER/GSSAPI, SASLprep normalisation, SCRAM extensions and channel binding.
 * - Responses are rewritten only when tracked by correlation id (Metadata, ApiVersions); everything else is
 *   relayed without being parsed, so requests without responses (Produce acks=0) need nothing special.
 */
import net from 'node:net'
import tls from 'node:tls'
import { apiKeys } from './kafka-security-front/api-versions.ts'
import { createTestCertificates, type TestCertificates } from './kafka-security-front/certificates.ts'
import { relayConnection, type ConnectionContext } from './kafka-security-front/connection.ts'
import { metadataBrokersRequest, readMetadataBrokers, readMetadataRequestTopics, type BrokerAddress, type MetadataBroker } from './kafka-security-front/metadata.ts'
import { FrameSplitter, framed, requestBodyOffset, type RequestHeader } from './kafka-security-front/protocol.ts'
import { saslMechanismNames, ScramCredentialStore, type SaslMechanismName } from './kafka-security-front/sasl.ts'
import type { KafkaTestBroker } from './kafka-test-broker.ts'

export type { SaslMechanismName } from './kafka-security-front/sasl.ts'

/** librdkafka's names: ssl = SSL, saslPlaintext = SASL_PLAINTEXT, saslSsl = SASL_SSL. */
export type KafkaSecurityFrontProtocol = 'ssl' | 'saslPlaintext' | 'saslSsl'

export interface KafkaSecurityFrontOptions<P extends KafkaSecurityFrontProtocol = KafkaSecurityFrontProtocol> {
  /** The mock cluster, or its comma-separated bootstrap list. */
  readonly broker: KafkaTestBroker | string
  readonly protocol: P
  /** user → password. Required (non-empty) for the SASL protocols, ignored for ssl. */
  readonly users?: Readonly<Record<string, string>>
  /** Mechanisms the front enables, in the order SaslHandshake lists them; default all three. */
  readonly mechanisms?: readonly SaslMechanismName[]
  /** The broker's message.max.bytes: larger record batches get MESSAGE_TOO_LARGE (the mock enforces none). */
  readonly maxMessageBytes?: number
}

export interface KafkaSecurityFrontBroker {
  readonly nodeId: number
  /** host:port of the front's listener for this broker. */
  readonly front: string
  /** host:port of the mock broker behind it. */
  readonly broker: string
}

export interface KafkaSecurityFront<P extends KafkaSecurityFrontProtocol = KafkaSecurityFrontProtocol> {
  readonly protocol: P
  /** Comma-separated host:port list of the front's listeners, one per broker, in broker id order. */
  readonly bootstrapServers: string
  /** PEM file of the CA that signed the front's certificate; undefined for saslPlaintext (no TLS). */
  readonly caFile: P extends 'saslPlaintext' ? undefined : string
  readonly brokers: readonly KafkaSecurityFrontBroker[]
  /** Every API key/version clients sent through the front, with counts (what clients actually use). */
  requestsSeen(): readonly { readonly api: string; readonly apiKey: number; readonly apiVersion: number; readonly count: number }[]
  /** Why the front closed connections or refused them: failed authentications, protocol violations, TLS errors. */
  problems(): readonly string[]
  /** The topics of every Metadata request clients sent, in arrival order; null for a request for all topics. */
  metadataTopicsRequested(): readonly (readonly string[] | null)[]
  /** How many client connections to the front are open now (after the TLS handshake, for the TLS protocols). */
  openClientConnections(): number
  /** Ends every connection and listener and deletes the certificates. Idempotent. */
  close(): Promise<void>
}

const discoveryTimeoutMs = 10_000
const frontHost = '127.0.0.1'

export async function startKafkaSecurityFront<P extends KafkaSecurityFrontProtocol>(
  options: KafkaSecurityFrontOptions<P>,
): Promise<KafkaSecurityFront<P>> {
  const sasl = saslSettings(options)
  const bootstrap = typeof options.broker === 'string' ? options.broker : options.broker.bootstrapServers
  const mockBrokers = (await discoverBrokers(bootstrap)).sort((a, b) => a.nodeId - b.nodeId)

  const useTls = options.protocol !== 'saslPlaintext'
  const certificates = useTls ? await createTestCertificates() : undefined
  const sockets = new Set<net.Socket>()
  const servers: net.Server[] = []
  const frontAddresses = new Map<number, BrokerAddress>()
  const requestCounts = new Map<string, { apiKey: number; apiVersion: number; count: number }>()
  const problems: string[] = []
  const metadataTopics: (readonly string[] | null)[] = []
  const clientConnections = new Set<net.Socket>()
  let closed = false

  const context: ConnectionContext = {
    sasl,
    maxMessageBytes: options.maxMessageBytes,
    frontAddressOf: (nodeId) => frontAddresses.get(nodeId),
    track: (socket) => {
      if (closed) {
        socket.destroy()
        return
      }
      sockets.add(socket)
      socket.once('close', () => sockets.delete(socket))
    },
    onRequest: (header: RequestHeader, frame: Buffer) => {
      const key = `${header.apiKey}:${header.apiVersion}`
      const entry = requestCounts.get(key) ?? { apiKey: header.apiKey, apiVersion: header.apiVersion, count: 0 }
      entry.count++
      requestCounts.set(key, entry)
      if (header.apiKey === apiKeys.Metadata && metadataTopics.length < 10_000) {
        // Metadata is flexible (request header v2) from v9 on.
        metadataTopics.push(readMetadataRequestTopics(frame, header.apiVersion, requestBodyOffset(frame, header.apiVersion >= 9)))
      }
    },
    onProblem: (message) => {
      if (problems.length < 1_000) problems.push(message)
    },
  }

  const close = async (): Promise<void> => {
    if (closed) return
    closed = true
    const serversClosed = servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())))
    for (const socket of sockets) socket.destroy()
    await Promise.all(serversClosed)
    await certificates?.remove()
  }

  try {
    for (const mockBroker of mockBrokers) {
      const server = createListener(
        certificates,
        (socket) => {
          clientConnections.add(socket)
          socket.once('close', () => clientConnections.delete(socket))
          relayConnection(socket, mockBroker, context)
        },
        context,
      )
      servers.push(server)
      const port = await listen(server)
      frontAddresses.set(mockBroker.nodeId, { host: frontHost, port })
    }
  } catch (error) {
    await close()
    throw error
  }

  const brokers = mockBrokers.map((mockBroker) => {
    const front = frontAddresses.get(mockBroker.nodeId)!
    return { nodeId: mockBroker.nodeId, front: `${front.host}:${front.port}`, broker: `${mockBroker.host}:${mockBroker.port}` }
  })
  return {
    protocol: options.protocol,
    bootstrapServers: brokers.map((broker) => broker.front).join(','),
    caFile: certificates?.caFile as KafkaSecurityFront<P>['caFile'],
    brokers,
    requestsSeen: () =>
      [...requestCounts.values()]
        .sort((a, b) => a.apiKey - b.apiKey || a.apiVersion - b.apiVersion)
        .map((entry) => ({ api: apiName(entry.apiKey), ...entry })),
    problems: () => [...problems],
    metadataTopicsRequested: () => [...metadataTopics],
    openClientConnections: () => clientConnections.size,
    close,
  }
}

function saslSettings(options: KafkaSecurityFrontOptions): ConnectionContext['sasl'] {
  if (options.protocol === 'ssl') return undefined
  const users = options.users ?? {}
  if (Object.keys(users).length === 0) throw new Error(`a ${options.protocol} front needs at least one user`)
  const mechanisms = options.mechanisms ?? saslMechanismNames
  for (const mechanism of mechanisms) {
    if (!saslMechanismNames.includes(mechanism)) throw new Error(`unsupported SASL mechanism ${mechanism}`)
  }
  if (mechanisms.length === 0) throw new Error('a SASL front needs at least one mechanism')
  return { mechanisms: [...mechanisms], credentials: new ScramCredentialStore({ ...users }) }
}

function createListener(
  certificates: TestCertificates | undefined,
  onConnection: (socket: net.Socket) => void,
  context: Pick<ConnectionContext, 'track' | 'onProblem'>,
): net.Server {
  if (certificates === undefined) return net.createServer(onConnection)
  const server = tls.createServer({ key: certificates.serverKeyPem, cert: certificates.serverCertPem }, onConnection)
  // The TCP socket under each TLS connection, tracked from the start: close() must also end handshakes under way.
  server.on('connection', (socket: net.Socket) => context.track(socket))
  // A client that does not trust the CA aborts the handshake: worth a line in problems(), nothing more.
  server.on('tlsClientError', (error: NodeJS.ErrnoException) => context.onProblem(`TLS handshake failed: ${error.code ?? error.message}`))
  return server
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, frontHost, () => {
      server.off('error', reject)
      resolve((server.address() as net.AddressInfo).port)
    })
  })
}

/** Asks the mock for its brokers (Metadata v1, no topics) through the first bootstrap address that answers. */
async function discoverBrokers(bootstrap: string): Promise<MetadataBroker[]> {
  const failures: string[] = []
  for (const address of bootstrap.split(',')) {
    const colon = address.lastIndexOf(':')
    const broker = { host: address.slice(0, colon), port: Number(address.slice(colon + 1)) }
    try {
      const brokers = await askMetadata(broker)
      if (brokers.length > 0) return brokers
      failures.push(`${address}: no brokers in Metadata`)
    } catch (error) {
      failures.push(`${address}: ${error instanceof Error ? error.message : String(error)}`)
    }
  }
  throw new Error(`kafka security front: cannot list the mock's brokers (${failures.join('; ')})`)
}

function askMetadata(broker: BrokerAddress): Promise<MetadataBroker[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: broker.host, port: broker.port })
    const splitter = new FrameSplitter()
    const timer = setTimeout(() => settle(new Error(`no Metadata answer within ${discoveryTimeoutMs} ms`)), discoveryTimeoutMs)
    const settle = (result: MetadataBroker[] | Error) => {
      clearTimeout(timer)
      socket.destroy()
      if (result instanceof Error) reject(result)
      else resolve(result)
    }
    socket.on('connect', () => socket.write(framed(metadataBrokersRequest(1, 'kafka-security-front'))))
    socket.on('data', (chunk: Buffer) => {
      try {
        const [frame] = splitter.push(chunk)
        if (frame !== undefined) settle(readMetadataBrokers(frame, 1))
      } catch (error) {
        settle(error instanceof Error ? error : new Error(String(error)))
      }
    })
    socket.on('error', (error) => settle(error))
    socket.on('close', () => settle(new Error('connection closed before the Metadata answer')))
  })
}

const knownApiNames: Readonly<Record<number, string>> = {
  0: 'Produce',
  1: 'Fetch',
  2: 'ListOffsets',
  [apiKeys.Metadata]: 'Metadata',
  10: 'FindCoordinator',
  [apiKeys.SaslHandshake]: 'SaslHandshake',
  [apiKeys.ApiVersions]: 'ApiVersions',
  22: 'InitProducerId',
  [apiKeys.SaslAuthenticate]: 'SaslAuthenticate',
}

function apiName(apiKey: number): string {
  return knownApiNames[apiKey] ?? `api ${apiKey}`
}
