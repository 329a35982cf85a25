/**
 * The Kafka engine on @platformatic/kafka (pure TypeScript; the only Kafka client Bun can run, so the one
 * in the single binary). It maps `KafkaProducerConfig` to the client, sends each batch as one client
 * `send`, and reports one outcome per message. What the client lacks, this layer adds: Kafka-compatible
 * key partitioning (partitioner.ts), compression levels (platformatic-compression.ts), the delivery timeout,
 * broker address families for plaintext bootstrap addresses, and the system trust store for TLS.
 *
 * Delivery timeout: the client retries internally (`retries` = messageSendMaxRetries, keeping the
 * idempotent producer's sequence numbers, so a real broker deduplicates the retries) and has no way to abort
 * a send. When `deliveryTimeoutMs` passes first, the engine reports the batch as not delivered and retires
 * the client (closing it ends its retry loops); the next send starts a fresh client, which also means a fresh
 * producer id, as librdkafka bumps the epoch after a timed-out idempotent batch.
 */
import {
  ProduceAcks,
  Producer,
  type Broker,
  type CompressionAlgorithmValue,
  type MessageToProduce,
  type ProduceResult,
  type ProducerOptions,
  type SASLOptions,
} from '@platformatic/kafka'
import { backoffDelay } from '../../backoff.ts'
import { lookup } from 'node:dns/promises'
import tls from 'node:tls'
import type { Logger } from '../../observability/logger.ts'
import { isSecurityFailure, KafkaSendError } from './errors.ts'
import { describeSecurityMismatch, probeListener } from './listener-probe.ts'
import { createPartitioner } from './partitioner.ts'
import { chooseCompression } from './platformatic-compression.ts'
import { classifyPlatformaticError } from './platformatic-errors.ts'
import { partitionsConfirmedDespite } from './platformatic-partial-delivery.ts'
import type { KafkaMessage, KafkaPort, KafkaProducerConfig, MessageOutcome, SaslMechanism } from './port.ts'
import { EncodedHeaders } from './record-arena.ts'
import { partitionCountOf } from './topic-partitions.ts'
import { clientTakesHeaderBlocks } from './header-block-support.ts'

/** Keys and values are Buffers; header names are strings, turned into bytes by `headerNameBytes`. */
type EngineProducer = Producer<Buffer, Buffer, string, Buffer>
type EngineProducerOptions = ProducerOptions<Buffer, Buffer, string, Buffer>
type EngineMessage = MessageToProduce<Buffer, Buffer, string, Buffer>

/** librdkafka's `reconnect.backoff.ms` default: the first retry waits about this long, then it doubles. */
const initialBackoffMs = 100

/** The client's wait before its retry number `attempt` (1 for the first): from about 100 ms, doubling up to `maxMs`. */
export function clientRetryDelay(attempt: number, maxMs: number, random?: () => number): number {
  return backoffDelay(attempt, { initialMs: initialBackoffMs, maxMs }, random)
}
/**
 * The client-side wait for an answer is the broker's own timeout (Produce `timeout_ms`) plus this margin, so
 * that a broker still waiting for its replicas answers REQUEST_TIMED_OUT before we drop the connection.
 */
const clientTimeoutMarginMs = 1_000
/** How long `close` waits for retired clients' sockets to close before giving up on them. */
const retiredClientCloseTimeoutMs = 5_000
/** How long the listener probe waits for a bootstrap server's answer; silence is inconclusive (a broker down). */
const listenerProbeTimeoutMs = 3_000

const delivered: MessageOutcome = Object.freeze({ delivered: true })

/** The platformatic engine's view of the config, computed without I/O (exported for unit tests). */
export interface PlatformaticProducerPlan {
  readonly options: Omit<EngineProducerOptions, 'bootstrapBrokers' | 'retryDelay' | 'serializers'>
  readonly idempotent: boolean
  /** Resolve bootstrap host names to this family ourselves (plaintext only; TLS passes `family` to the socket). */
  readonly resolveBootstrapFamily: 4 | 6 | undefined
  /** Settings the engine cannot honour exactly; logged once when the port is created. */
  readonly warnings: readonly string[]
  /** Why this engine cannot run these settings on this runtime at all; connect() refuses with it. */
  readonly refusal: string | undefined
}

const saslMechanismNames: Record<SaslMechanism, SASLOptions['mechanism']> = {
  plain: 'PLAIN',
  scramSha256: 'SCRAM-SHA-256',
  scramSha512: 'SCRAM-SHA-512',
}

export function planPlatformaticProducer(config: KafkaProducerConfig): PlatformaticProducerPlan {
  const warnings: string[] = []

  // Kafka ties idempotence to acks=all: the client refuses an idempotent producer with other acks
  // (producer.js: 'Idempotent producer requires acks to be ALL (-1).'), as do librdkafka and the Java client.
  const idempotent = config.acks === 'all'
  if (!idempotent) {
    warnings.push(
      'acks=leader: the idempotent producer needs acks=all, so this producer is not idempotent; ' +
        'retries may write duplicates',
    )
  }

  const compression = chooseCompression(config.compression.type, config.compression.level)
  if (compression.warning !== undefined) warnings.push(compression.warning)

  // The client turns retries 0 and 1 into "unlimited" for idempotent producers (producer.js constructor:
  // `options.retries <= 1` → Number.MAX_SAFE_INTEGER) but leaves a boolean alone, and `false` means 0.
  let retries: number | boolean = config.messageSendMaxRetries
  if (config.messageSendMaxRetries === 0) retries = false
  else if (config.messageSendMaxRetries === 1 && idempotent) {
    retries = 2
    warnings.push(
      'messageSendMaxRetries=1 is applied as 2: @platformatic/kafka treats 1 as unlimited for idempotent producers',
    )
  }

  const useTls = config.securityProtocol === 'ssl' || config.securityProtocol === 'saslSsl'
  const useSasl = config.securityProtocol === 'saslPlaintext' || config.securityProtocol === 'saslSsl'
  const family = config.brokerAddressFamily === 'v4' ? 4 : config.brokerAddressFamily === 'v6' ? 6 : undefined
  // Warned only for v6: v4 is the default, brokers advertise IPv4 addresses in nearly every deployment, and a
  // warning on every start of a default configuration would teach people to ignore warnings (README: compatibility).
  if (family === 6 && !useTls) {
    warnings.push(
      `brokerAddressFamily=${config.brokerAddressFamily} applies to the bootstrap servers only: @platformatic/kafka ` +
        'has no address-family option for plaintext sockets, so brokers it learns from metadata resolve with either family',
    )
  }

  let sasl: SASLOptions | undefined
  if (useSasl) {
    if (config.sasl === undefined) {
      warnings.push(
        `securityProtocol=${config.securityProtocol} without SASL credentials: connecting without authentication`,
      )
    } else {
      sasl = {
        mechanism: saslMechanismNames[config.sasl.mechanism],
        username: config.sasl.username,
        password: config.sasl.password,
      }
    }
  }

  const options: PlatformaticProducerPlan['options'] = {
    clientId: config.clientId,
    idempotent,
    acks: idempotent ? ProduceAcks.ALL : ProduceAcks.LEADER,
    // The client's first InitProducerId (v3+) sends producerId 0 / epoch 0 unless told otherwise
    // (producer.js: `options.producerId ?? this[kOptions].producerId ?? 0n`). Kafka's protocol value for a
    // first init is -1/-1; real brokers ignore the fields without a transactional id, but librdkafka's mock
    // cluster reads 0/0 as an epoch bump of an unknown producer and answers UNKNOWN_PRODUCER_ID, so no
    // idempotent produce works against the test rig without these two (test: "producerId -1 regression").
    producerId: -1n,
    producerEpoch: -1,
    // Our codec names are registered in the client's codec table, not in its type (platformatic-compression.ts).
    compression: compression.codec as CompressionAlgorithmValue,
    retries,
    timeout: config.requestTimeoutMs,
    requestTimeout: config.requestTimeoutMs + clientTimeoutMarginMs,
    connectTimeout: config.requestTimeoutMs,
    // Without idempotence, a second request in flight could land before a retried first one: one at a time
    // keeps per-partition order (Kafka's max.in.flight=1 rule). The idempotent producer forces 1 itself.
    maxInflights: 1,
    autocreateTopics: false,
    repeatOnStaleMetadata: true,
    ...(useTls ? { tls: tlsOptions(family) } : {}),
    ...(sasl === undefined ? {} : { sasl }),
  }

  return { options, idempotent, resolveBootstrapFamily: useTls ? undefined : family, warnings, refusal: compression.unavailable }
}

/**
 * TLS against the system trust store: the runtime's default roots (bundled Mozilla roots plus
 * NODE_EXTRA_CA_CERTS) and the operating system's store, where the sink's docs tell users to add private CAs.
 * Passing `ca` replaces the defaults, hence both lists.
 */
function tlsOptions(family: 4 | 6 | undefined): tls.ConnectionOptions {
  const options: tls.ConnectionOptions & { family?: number } = {}
  const ca = systemTrustStore()
  if (ca !== undefined) options.ca = ca
  // tls.connect passes socket options such as `family` on to the TCP connection (measured under Bun 1.4.5).
  if (family !== undefined) options.family = family
  return options
}

function systemTrustStore(): string[] | undefined {
  if (typeof tls.getCACertificates !== 'function') return undefined
  try {
    return [...new Set([...tls.getCACertificates('default'), ...tls.getCACertificates('system')])]
  } catch {
    return undefined
  }
}

/** host:port as the client parses it: `[v6]:port`, `host:port`, or a bare host (port 9092). */
export function parseBootstrapServer(server: string): Broker {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(server)
  if (bracketed) return { host: bracketed[1]!, port: bracketed[2] === undefined ? 9092 : Number(bracketed[2]) }
  const colon = server.lastIndexOf(':')
  if (colon < 0 || server.indexOf(':') !== colon) return { host: server, port: 9092 }
  return { host: server.slice(0, colon), port: Number(server.slice(colon + 1)) }
}

async function resolveBootstrapServers(servers: readonly string[], family: 4 | 6 | undefined): Promise<Broker[]> {
  const brokers = servers.map(parseBootstrapServer)
  if (family === undefined) return brokers
  const failures: string[] = []
  const resolved = await Promise.all(
    brokers.map(async (broker) => {
      try {
        const addresses = await lookup(broker.host, { family, all: true })
        return addresses.map(({ address }) => ({ host: address, port: broker.port }))
      } catch (error) {
        failures.push(`${broker.host}: ${(error as { code?: unknown }).code ?? String(error)}`)
        return []
      }
    }),
  )
  const usable = resolved.flat()
  if (usable.length > 0) return usable
  // Handing the client the names would let it connect over the other family: report it instead (transient, as
  // DNS answers change; the connection error the client would give for ENOTFOUND is transient too).
  throw new KafkaSendError({
    code: 'BROKERS_UNAVAILABLE',
    transient: true,
    message: `no bootstrap server has an IPv${family} address (${failures.join(', ')})`,
  })
}

/** Header names repeat on every event (es-*, defaultHeaders): encode each once. Bounded, since names are data. */
const headerNameCache = new Map<string, Buffer>()
const headerNameCacheLimit = 10_000

function headerNameBytes(name?: string): Buffer | undefined {
  if (name === undefined) return undefined
  let bytes = headerNameCache.get(name)
  if (bytes === undefined) {
    if (headerNameCache.size >= headerNameCacheLimit) headerNameCache.clear()
    bytes = Buffer.from(name, 'utf8')
    headerNameCache.set(name, bytes)
  }
  return bytes
}

interface Client {
  readonly producer: EngineProducer
  /** The latest error the client retried and when: the explanation when the delivery timeout passes first. */
  readonly retries: { last: { readonly error: unknown; readonly at: number } | undefined }
  retired: boolean
}

type Settled<T> =
  | { readonly kind: 'done'; readonly value: T }
  | { readonly kind: 'failed'; readonly error: unknown }
  | { readonly kind: 'timedOut' }
  | { readonly kind: 'refused'; readonly error: KafkaSendError }

/** What the engine asks of the installed client; tests play a client installed without the kafka-sink patch. */
export interface InstalledClient {
  readonly takesHeaderBlocks: () => boolean
}

export function createPlatformaticKafkaPort(config: KafkaProducerConfig, logger: Logger, installed: InstalledClient = { takesHeaderBlocks: clientTakesHeaderBlocks }): KafkaPort {
  const log = logger.child({ component: 'kafka-engine', engine: 'platformatic' })
  const plan = planPlatformaticProducer(config)
  for (const warning of plan.warnings) log.warn(warning)
  const headerBlocks = installed.takesHeaderBlocks()
  if (!headerBlocks) log.warn('@platformatic/kafka is installed without the kafka-sink patch (scripts/patches; bun install applies it): record headers are handed over as maps, which costs more CPU per record')

  const partitioner = createPartitioner()
  let client: Client | undefined
  let creatingClient: Promise<Client> | undefined
  let state: 'open' | 'flushing' | 'closed' = 'open'
  let closing: Promise<void> | undefined
  const sendsInFlight = new Set<Promise<unknown>>()
  const retiredClientsClosing = new Set<Promise<void>>()
  /** Told of every error a client retries: how a security failure ends an operation before its deadline. */
  const retriedErrorListeners = new Set<(error: unknown) => void>()

  const closedError = () =>
    new KafkaSendError({ code: 'CLIENT_CLOSED', transient: true, message: 'the Kafka port is closed' })

  async function createClient(): Promise<Client> {
    const bootstrapBrokers = await resolveBootstrapServers(config.bootstrapServers, plan.resolveBootstrapFamily)
    const retries: Client['retries'] = { last: undefined }
    const producer: EngineProducer = new Producer<Buffer, Buffer, string, Buffer>({
      ...plan.options,
      bootstrapBrokers,
      retryDelay: (_client, _operation, attempt, _retries, error) => {
        retries.last = { error, at: Date.now() }
        for (const listener of retriedErrorListeners) listener(error)
        return clientRetryDelay(attempt, config.reconnectBackoffMaxMs)
      },
      serializers: { headerKey: headerNameBytes },
    })
    log.debug('Kafka client created', { bootstrapBrokers: bootstrapBrokers.map((b) => `${b.host}:${b.port}`) })
    return { producer, retries, retired: false }
  }

  async function currentClient(): Promise<Client> {
    if (state === 'closed') throw closedError()
    if (client !== undefined && !client.retired) return client
    creatingClient ??= createClient().then(
      (created) => {
        creatingClient = undefined
        if (state === 'closed') {
          closeProducer(created)
          throw closedError()
        }
        client = created
        return created
      },
      (error: unknown) => {
        creatingClient = undefined
        throw error
      },
    )
    return creatingClient
  }

  function closeProducer(retiring: Client): void {
    retiring.retired = true
    const closed = retiring.producer
      .close(true)
      .catch((error: unknown) => log.debug('closing a retired Kafka client failed', { error }))
    retiredClientsClosing.add(closed)
    void closed.finally(() => retiredClientsClosing.delete(closed))
  }

  function retire(retiring: Client, reason: string): void {
    if (retiring.retired) return
    if (client === retiring) client = undefined
    log.warn('restarting the Kafka client', { reason })
    closeProducer(retiring)
  }

  /**
   * Runs `operation` against the delivery timeout; never rejects. It also ends, as `refused`, when the client
   * retries a security failure (authentication, TLS, a listener of another protocol): the client would retry
   * those until the deadline, and they never heal. `explainFirstFailure` lets connect() probe the listener on
   * the first retried error, which is how a protocol mismatch that looks like a closed connection is told apart
   * from a broker that is down.
   */
  async function withDeadline<T>(operation: Promise<T>, explainFirstFailure = false): Promise<Settled<T>> {
    const settled = operation.then(
      (value): Settled<T> => ({ kind: 'done', value }),
      (error: unknown): Settled<T> => ({ kind: 'failed', error }),
    )
    let timer: ReturnType<typeof setTimeout> | undefined
    let listener: ((error: unknown) => void) | undefined
    const refused = new Promise<Settled<T>>((resolve) => {
      let firstFailure = explainFirstFailure
      listener = (error) => {
        const classified = classifyPlatformaticError(error)
        if (firstFailure) {
          firstFailure = false
          void explain(classified).then((explained) => {
            if (isSecurityFailure(explained)) resolve({ kind: 'refused', error: explained })
          })
        } else if (isSecurityFailure(classified)) resolve({ kind: 'refused', error: classified })
      }
      retriedErrorListeners.add(listener)
    })
    const racers = [settled, refused]
    // librdkafka's convention for delivery.timeout.ms: 0 means no limit.
    if (config.deliveryTimeoutMs > 0) {
      racers.push(new Promise<Settled<T>>((resolve) => {
        timer = setTimeout(() => resolve({ kind: 'timedOut' }), config.deliveryTimeoutMs)
      }))
    }
    try {
      return await Promise.race(racers)
    } finally {
      clearTimeout(timer)
      if (listener !== undefined) retriedErrorListeners.delete(listener)
    }
  }

  /**
   * A failure the listener probe explains better: a protocol mismatch replaces what the client saw (a reset, a
   * closed connection, a SASL handshake that found no mechanism). Otherwise the failure stands as it is.
   */
  async function explain(failure: KafkaSendError): Promise<KafkaSendError> {
    const probe = async (broker: Broker) => {
      const plaintext = await probeListener(broker.host, broker.port, listenerProbeTimeoutMs)
      if (plaintext.kind !== 'tls' || plan.options.tls === undefined) return plaintext
      return probeListener(broker.host, broker.port, listenerProbeTimeoutMs, plan.options.tls as tls.ConnectionOptions)
    }
    const observations = await Promise.all(config.bootstrapServers.map(parseBootstrapServer).map(probe))
    for (const observation of observations) {
      const mismatch = describeSecurityMismatch(config.securityProtocol, observation)
      if (mismatch === undefined) continue
      return new KafkaSendError({ code: 'SECURITY_PROTOCOL_MISMATCH', transient: false, message: mismatch, cause: failure })
    }
    return failure
  }

  /** The error to report when the delivery timeout passed: the client's latest retried error if it is ours to report. */
  function timeoutError(attemptClient: Client | undefined, startedAt: number, what: string): KafkaSendError {
    const last = attemptClient?.retries.last
    const prefix = `${what} not confirmed within deliveryTimeoutMs (${config.deliveryTimeoutMs} ms)`
    if (last === undefined || last.at < startedAt) {
      return new KafkaSendError({ code: 'DELIVERY_TIMED_OUT', transient: true, message: prefix })
    }
    const reason = classifyPlatformaticError(last.error)
    // A fatal error the client kept retrying (e.g. an unknown topic during metadata, which Kafka calls
    // retriable) stays fatal: the pipeline must not retry it forever.
    return new KafkaSendError({
      code: reason.code,
      transient: reason.transient,
      kafkaName: reason.kafkaName,
      message: `${prefix}; last error: ${reason.message}`,
      cause: last.error,
    })
  }

  async function sendBatch(topic: string, messages: readonly KafkaMessage[]): Promise<readonly MessageOutcome[]> {
    const startedAt = Date.now()
    const partitions = new Int32Array(messages.length)
    let attemptClient: Client | undefined
    let partitionsAssigned = false

    const attempt = (async (): Promise<ProduceResult> => {
      attemptClient = await currentClient()
      const producer = attemptClient.producer
      const metadata = await producer.metadata({ topics: [topic] })
      const partitionCount = partitionCountOf(metadata, topic)
      partitioner.assign(topic, messages, partitionCount, partitions)
      partitionsAssigned = true
      const toSend: EngineMessage[] = new Array(messages.length)
      for (let index = 0; index < messages.length; index++) {
        const message = messages[index]!
        const headers = message.headers
        toSend[index] =
          headerBlocks && headers instanceof EncodedHeaders
            ? // Already in the wire's form: the patched client copies the block into the record as it is.
              ({ topic, key: message.key ?? undefined, value: message.value, headerBlock: headers.encoded, partition: partitions[index]!, timestamp: message.timestamp } as EngineMessage)
            : {
                topic,
                key: message.key ?? undefined,
                value: message.value,
                headers: headers.size === 0 ? undefined : asMap(headers),
                partition: partitions[index]!,
                timestamp: message.timestamp,
              }
      }
      return producer.send({ messages: toSend })
    })()

    const settled = await withDeadline(attempt)
    if (settled.kind === 'done') return new Array<MessageOutcome>(messages.length).fill(delivered)

    let error: KafkaSendError
    let deliveredPartitions: ReadonlySet<number> | undefined
    if (settled.kind === 'timedOut') {
      error = timeoutError(attemptClient, startedAt, `${messages.length} message(s) to ${topic}`)
      if (attemptClient !== undefined) retire(attemptClient, error.message)
    } else if (settled.kind === 'refused') {
      error = settled.error
      // Its retry loop would go on in the background: this client can never succeed with these settings.
      if (attemptClient !== undefined) retire(attemptClient, error.message)
    } else {
      error = classifyPlatformaticError(settled.error)
      if (partitionsAssigned) deliveredPartitions = partitionsConfirmedDespite(settled.error, topic)
    }
    const failed: MessageOutcome = { delivered: false, error }
    const outcomes = new Array<MessageOutcome>(messages.length)
    for (let index = 0; index < messages.length; index++) {
      outcomes[index] = deliveredPartitions?.has(partitions[index]!) === true ? delivered : failed
    }
    return outcomes
  }

  return {
    async connect() {
      if (state !== 'open') throw closedError()
      if (plan.refusal !== undefined) throw new KafkaSendError({ code: 'UNSUPPORTED_BY_ENGINE', transient: false, message: plan.refusal })
      const startedAt = Date.now()
      let attemptClient: Client | undefined
      const attempt = (async () => {
        attemptClient = await currentClient()
        await attemptClient.producer.metadata({ topics: [] })
        // Fetching the producer id here surfaces authorization and producer-id problems before the first event.
        if (plan.idempotent) await attemptClient.producer.initIdempotentProducer({})
      })()
      const settled = await withDeadline(attempt, true)
      if (settled.kind === 'done') return
      if (settled.kind === 'refused') {
        if (attemptClient !== undefined) retire(attemptClient, settled.error.message)
        throw settled.error
      }
      if (settled.kind === 'failed') {
        const failure = classifyPlatformaticError(settled.error)
        throw await explain(failure)
      }
      const error = timeoutError(attemptClient, startedAt, 'connection to Kafka')
      if (attemptClient !== undefined) retire(attemptClient, error.message)
      throw error
    },

    lastRetriedError() {
      const last = client?.retries.last
      return last === undefined ? undefined : { error: classifyPlatformaticError(last.error), at: last.at }
    },

    send(topic, messages) {
      if (state !== 'open') return Promise.reject(new Error('KafkaPort.send called after close()'))
      if (messages.length === 0) return Promise.resolve([])
      if (plan.refusal !== undefined) {
        const error = new KafkaSendError({ code: 'UNSUPPORTED_BY_ENGINE', transient: false, message: plan.refusal })
        return Promise.resolve(messages.map(() => ({ delivered: false as const, error })))
      }
      const sending = sendBatch(topic, messages)
      sendsInFlight.add(sending)
      void sending.finally(() => sendsInFlight.delete(sending)).catch(() => undefined)
      return sending
    },

    close({ flush }) {
      closing ??= (async () => {
        state = 'flushing'
        if (!flush) {
          // Closing the client ends its in-flight requests and retry loops: those sends settle as CLIENT_CLOSED.
          state = 'closed'
          if (client !== undefined) retire(client, 'closed without flush')
        }
        await Promise.allSettled([...sendsInFlight])
        state = 'closed'
        if (client !== undefined) closeProducer(client)
        client = undefined
        await settledOrTimeout(Promise.allSettled([...retiredClientsClosing]), retiredClientCloseTimeoutMs)
      })()
      return closing
    },
  }
}

async function settledOrTimeout(promise: Promise<unknown>, timeoutMs: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs)
  })
  try {
    await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** The client treats any Map as headers; a ReadonlyMap that is not a Map would be read as a plain object. */
function asMap(headers: ReadonlyMap<string, Buffer>): Map<string, Buffer> {
  return headers instanceof Map ? (headers as Map<string, Buffer>) : new Map(headers)
}
