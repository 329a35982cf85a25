/**
 * The Kafka engine on @confluentinc/kafka-javascript: librdkafka, the C client most Kafka users run, through its
 * node-rdkafka style API (per-message delivery reports). It is a NAN addon, so it runs only under Node (see
 * kafka-engines.ts for why Bun and Deno cannot load it). librdkafka does its own batching, retries, idempotence,
 * partitioning (murmur2_random, Kafka's default) and compression; this file maps the port's configuration to its
 * properties and its delivery reports to per-message outcomes.
 */
import { createRequire } from 'node:module'
import type { Logger } from '../../observability/logger.ts'
import { KafkaSendError } from './errors.ts'
import { classifyConnectionFailureLog, classifyLibrdkafkaError } from './librdkafka-errors.ts'
import { type LibrdkafkaProperties, planLibrdkafkaProducer } from './librdkafka-plan.ts'
import type { KafkaMessage, KafkaPort, KafkaProducerConfig, MessageOutcome } from './port.ts'

// Boundary with the client: its node-rdkafka style Producer, typed by the package, is used through these members.
interface RdProducer {
  connect(options: { timeout: number }, callback: (error: unknown) => void): void
  produce(topic: string, partition: number | null, value: Buffer, key: Buffer | null, timestamp: number, opaque: unknown, headers: Record<string, Buffer>[] | undefined): unknown
  setPollInterval(intervalMs: number): void
  isConnected(): boolean
  disconnect(timeoutMs: number, callback: (error: unknown) => void): void
  on(event: 'ready', listener: () => void): void
  on(event: 'delivery-report', listener: (error: unknown, report: { opaque?: unknown }) => void): void
  on(event: 'event.error', listener: (error: unknown) => void): void
  on(event: 'event.log', listener: (entry: { severity: number; fac: string; message: string }) => void): void
}
interface LibrdkafkaModule {
  readonly Producer: new (properties: LibrdkafkaProperties, topicProperties: LibrdkafkaProperties) => RdProducer
  readonly librdkafkaVersion: string
}

/** Loads the client; throws with the loader's message when the native part is missing or cannot load. */
export function loadLibrdkafka(): LibrdkafkaModule {
  return createRequire(import.meta.url)('@confluentinc/kafka-javascript') as LibrdkafkaModule
}

interface PendingBatch {
  readonly owner: Client
  readonly outcomes: (MessageOutcome | undefined)[]
  remaining: number
  readonly resolve: (outcomes: readonly MessageOutcome[]) => void
  readonly startedAt: number
  timer: ReturnType<typeof setTimeout> | undefined
  /** Resolves once every message of the batch has its outcome. */
  done: Promise<unknown>
}
interface MessageTicket {
  readonly batch: PendingBatch
  readonly index: number
}

interface Client {
  readonly producer: RdProducer
  readonly connected: Promise<void>
  readonly pending: Set<PendingBatch>
  /** The latest error librdkafka reported and kept retrying past: the explanation when a delivery times out. */
  lastError: { readonly error: KafkaSendError; readonly at: number } | undefined
  retired: boolean
}

const delivered: MessageOutcome = { delivered: true }
/**
 * Delivery reports are polled. Every poll is one cheap native call, and each batch waits for its last report, so
 * the interval is part of every round trip (measured with 100-message batches: ~20 ms per batch at 5 ms).
 * The client's background polling would avoid the timer, but enabled before the connection it crashed the process
 * (segfault, measured).
 */
const pollIntervalMs = 2
/**
 * The longest one connection attempt waits for the brokers' metadata. The client runs that wait on a worker thread
 * that the process cannot leave while it lasts: with the delivery timeout here (30 s), a sink stopped while Kafka
 * was unreachable logged "stopped" and then took the rest of the 30 s to exit. A failed attempt is retried with a new
 * client, as before.
 */
const connectAttemptTimeoutMs = 5_000
/** librdkafka reports every message by message.timeout.ms; past this margin the port settles it itself. */
const reportMarginMs = 10_000
const disconnectTimeoutMs = 5_000

/**
 * Disconnects without waiting for deliveries: the port settles its messages itself before it disconnects. The
 * client's disconnect flushes first (time 0 here) and throws "Producer not connected" on a client that never
 * connected, which has nothing to disconnect.
 */
function disconnect(producer: RdProducer): Promise<void> {
  if (!producer.isConnected()) return Promise.resolve()
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, disconnectTimeoutMs)
    try {
      producer.disconnect(0, () => {
        clearTimeout(timer)
        resolve()
      })
    } catch {
      clearTimeout(timer)
      resolve()
    }
  })
}

export function createLibrdkafkaPort(config: KafkaProducerConfig, logger: Logger): KafkaPort {
  const log = logger.child({ component: 'kafka-engine', engine: 'librdkafka' })
  const plan = planLibrdkafkaProducer(config)
  for (const warning of plan.warnings) log.warn(warning)
  const librdkafka = loadLibrdkafka()

  let client: Client | undefined
  let state: 'open' | 'closed' = 'open'
  let closing: Promise<void> | undefined
  const sendsInFlight = new Set<Promise<unknown>>()
  const closedError = () => new KafkaSendError({ code: 'CLIENT_CLOSED', transient: true, message: 'the Kafka port was closed before Kafka confirmed the message' })

  const settle = (batch: PendingBatch, index: number, outcome: MessageOutcome) => {
    if (batch.outcomes[index] !== undefined) return
    batch.outcomes[index] = outcome
    if (--batch.remaining > 0) return
    if (batch.timer !== undefined) clearTimeout(batch.timer)
    batch.owner.pending.delete(batch)
    batch.resolve(batch.outcomes as MessageOutcome[])
  }
  const settleAll = (owner: Client, error: KafkaSendError) => {
    for (const batch of [...owner.pending]) {
      for (let index = 0; index < batch.outcomes.length; index++) settle(batch, index, { delivered: false, error })
    }
  }

  function createClient(): Client {
    const producer = new librdkafka.Producer(plan.properties, plan.topicProperties)
    const pending = new Set<PendingBatch>()
    let rejectConnect: ((error: unknown) => void) | undefined
    const connected = new Promise<void>((resolve, reject) => {
      rejectConnect = reject
      producer.connect({ timeout: Math.min(connectAttemptTimeoutMs, config.deliveryTimeoutMs > 0 ? config.deliveryTimeoutMs : connectAttemptTimeoutMs) }, (error) => (error ? reject(classifyLibrdkafkaError(error)) : resolve()))
    })
    connected.catch(() => undefined)
    producer.setPollInterval(pollIntervalMs)
    const created: Client = { producer, connected, pending, lastError: undefined, retired: false }
    producer.on('delivery-report', (error, report) => {
      const ticket = report?.opaque as MessageTicket | undefined
      if (ticket === undefined) return
      if (!error) {
        settle(ticket.batch, ticket.index, delivered)
        return
      }
      const classified = deliveryError(created, ticket.batch, classifyLibrdkafkaError(error))
      settle(ticket.batch, ticket.index, { delivered: false, error: classified })
      // The report can come before the fatal error event: the next send must already get a new producer.
      if (classified.code === 'PRODUCER_STATE_LOST') retire(created, classified)
    })
    // A client retired while its connection was still being made is disconnected once it is made.
    producer.on('ready', () => {
      if (created.retired) void disconnect(producer)
    })
    producer.on('event.error', (error) => {
      const classified = classifyLibrdkafkaError(error)
      // Error events are reports: librdkafka goes on retrying. Only ones we can name explain a later timeout.
      if (classified.code !== 'UNKNOWN') created.lastError = { error: classified, at: Date.now() }
      // Authentication and TLS failures come only as error events; without this, connect() would wait out its
      // timeout and report a timeout instead of the reason.
      if (classified.code === 'AUTHENTICATION_FAILED' || classified.code === 'TLS_FAILED') rejectConnect?.(classified)
      if (classified.code === 'PRODUCER_STATE_LOST') retire(created, classified)
      else log.debug('librdkafka error', { error: classified.message })
    })
    producer.on('event.log', (entry) => {
      log.debug('librdkafka', { facility: entry.fac, message: entry.message })
      if (entry.fac !== 'FAIL') return
      const failure = classifyConnectionFailureLog(entry.message)
      if (failure === undefined) return
      created.lastError = { error: failure, at: Date.now() }
      rejectConnect?.(failure)
    })
    log.debug('Kafka client created', { librdkafka: librdkafka.librdkafkaVersion, bootstrapServers: config.bootstrapServers })
    return created
  }

  /**
   * A message that timed out (or a connect that did) is explained by what librdkafka kept retrying meanwhile:
   * brokers down, or a failure that will not heal (authentication, TLS), which then stays fatal so the pipeline
   * does not retry it forever.
   */
  function deliveryError(owner: Client, batch: { readonly startedAt: number }, error: KafkaSendError): KafkaSendError {
    if (error.code !== 'DELIVERY_TIMED_OUT' && error.code !== 'REQUEST_TIMED_OUT') return error
    const last = owner.lastError
    if (last === undefined || last.at < batch.startedAt) return error
    return new KafkaSendError({
      code: last.error.code,
      transient: last.error.transient,
      kafkaName: last.error.kafkaName,
      message: `${error.message}; last error: ${last.error.message}`,
      cause: last.error,
    })
  }

  function currentClient(): Client {
    if (client === undefined || client.retired) client = createClient()
    return client
  }

  /** A client librdkafka declared unusable (idempotence fatal error): its sends fail transient, the next gets a new one. */
  function retire(retiring: Client, reason: KafkaSendError): void {
    if (retiring.retired) return
    retiring.retired = true
    if (client === retiring) client = undefined
    log.warn('restarting the Kafka client', { reason: reason.message })
    settleAll(retiring, reason)
    void disconnect(retiring.producer)
  }

  /**
   * Waits for the client's connection; its failure, classified. A client whose first connection failed is replaced:
   * the next attempt starts from a clean state.
   */
  async function connectionOf(owner: ReturnType<typeof currentClient>, startedAt: number): Promise<KafkaSendError | undefined> {
    try {
      await owner.connected
      return undefined
    } catch (error) {
      const classified = deliveryError(owner, { startedAt }, classifyLibrdkafkaError(error))
      retire(owner, classified)
      return classified
    }
  }

  async function sendBatch(topic: string, messages: readonly KafkaMessage[]): Promise<readonly MessageOutcome[]> {
    const owner = currentClient()
    const startedAt = Date.now()
    // produce() throws "Producer not connected" before the first connect completes; a send may come first.
    const connectFailure = await connectionOf(owner, startedAt)
    if (connectFailure !== undefined) return messages.map(() => ({ delivered: false as const, error: connectFailure }))
    // Closed without flush (or replaced) while this send waited for the connection.
    if (owner.retired) return messages.map(() => ({ delivered: false as const, error: closedError() }))
    let resolve!: PendingBatch['resolve']
    const done = new Promise<readonly MessageOutcome[]>((resolvePromise) => {
      resolve = resolvePromise
    })
    const batch: PendingBatch = { owner, outcomes: new Array(messages.length).fill(undefined), remaining: messages.length, resolve, startedAt, timer: undefined, done }
    owner.pending.add(batch)
    if (config.deliveryTimeoutMs > 0) {
      batch.timer = setTimeout(() => {
        const error = deliveryError(owner, batch, new KafkaSendError({
          code: 'DELIVERY_TIMED_OUT',
          transient: true,
          message: `${messages.length} message(s) to ${topic} got no delivery report within deliveryTimeoutMs (${config.deliveryTimeoutMs} ms)`,
        }))
        for (let index = 0; index < messages.length; index++) settle(batch, index, { delivered: false, error })
      }, Math.max(0, config.deliveryTimeoutMs + reportMarginMs - (Date.now() - startedAt)))
    }
    for (let index = 0; index < messages.length; index++) {
      const message = messages[index]!
      const headers = message.headers.size === 0 ? undefined : [...message.headers].map(([name, value]) => ({ [name]: value }))
      try {
        // Partition null: librdkafka's partitioner picks it (murmur2_random, as Kafka's Java client does).
        owner.producer.produce(topic, null, message.value, message.key, Number(message.timestamp), { batch, index } satisfies MessageTicket, headers)
      } catch (error) {
        settle(batch, index, { delivered: false, error: classifyLibrdkafkaError(error) })
      }
    }
    return done
  }

  return {
    async connect() {
      if (state !== 'open') throw new KafkaSendError({ code: 'CLIENT_CLOSED', transient: true, message: 'the Kafka port is closed' })
      const connectFailure = await connectionOf(currentClient(), Date.now())
      if (connectFailure !== undefined) throw connectFailure
    },

    send(topic, messages) {
      if (state !== 'open') return Promise.reject(new Error('KafkaPort.send called after close()'))
      if (messages.length === 0) return Promise.resolve([])
      const sending = sendBatch(topic, messages)
      sendsInFlight.add(sending)
      void sending.finally(() => sendsInFlight.delete(sending))
      return sending
    },

    close({ flush }) {
      closing ??= (async () => {
        state = 'closed'
        const owner = client
        client = undefined
        if (owner === undefined) return
        if (flush) {
          // Every message handed to librdkafka gets a delivery report (or the port's own timeout): wait for them,
          // and for sends still waiting on the connection.
          await Promise.allSettled([...sendsInFlight])
        } else {
          owner.retired = true
          settleAll(owner, closedError())
        }
        owner.retired = true
        await disconnect(owner.producer)
      })()
      return closing
    },
  }
}

