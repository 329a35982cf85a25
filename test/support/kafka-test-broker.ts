/**
 * The Kafka test broker: starts test/support/kafka-test-broker.c (librdkafka's mock cluster, real Kafka
 * protocol over TCP on 127.0.0.1) in its own process and drives it through its stdin line protocol.
 * One command is in flight at a time; each resolves on the broker's `ok` and rejects on `error …`.
 * Error injection takes Kafka error names as Kafka spells them, mapped to codes in `kafkaErrorCodes`.
 */
import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'

/** Kafka protocol API keys (the ones tests inject errors into or restrict). */
export const kafkaApiKeys = {
  Produce: 0,
  Fetch: 1,
  ListOffsets: 2,
  Metadata: 3,
  OffsetCommit: 8,
  OffsetFetch: 9,
  FindCoordinator: 10,
  SaslHandshake: 17,
  ApiVersions: 18,
  InitProducerId: 22,
  SaslAuthenticate: 36,
} as const
export type KafkaApiName = keyof typeof kafkaApiKeys

/**
 * Kafka error names → protocol error codes (Kafka's own list, kafka/common/protocol/Errors.java), the
 * subset a producer can meet. `DISCONNECT` is not a Kafka error: it is librdkafka's local `_TRANSPORT`
 * (-195), which makes the mock broker drop the client's connection instead of answering.
 */
export const kafkaErrorCodes = {
  DISCONNECT: -195,
  UNKNOWN_SERVER_ERROR: -1,
  NONE: 0,
  CORRUPT_MESSAGE: 2,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  LEADER_NOT_AVAILABLE: 5,
  NOT_LEADER_OR_FOLLOWER: 6,
  REQUEST_TIMED_OUT: 7,
  BROKER_NOT_AVAILABLE: 8,
  REPLICA_NOT_AVAILABLE: 9,
  MESSAGE_TOO_LARGE: 10,
  NETWORK_EXCEPTION: 13,
  COORDINATOR_LOAD_IN_PROGRESS: 14,
  COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR: 16,
  INVALID_TOPIC_EXCEPTION: 17,
  RECORD_LIST_TOO_LARGE: 18,
  NOT_ENOUGH_REPLICAS: 19,
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: 20,
  INVALID_REQUIRED_ACKS: 21,
  TOPIC_AUTHORIZATION_FAILED: 29,
  CLUSTER_AUTHORIZATION_FAILED: 31,
  INVALID_TIMESTAMP: 32,
  UNSUPPORTED_SASL_MECHANISM: 33,
  ILLEGAL_SASL_STATE: 34,
  UNSUPPORTED_VERSION: 35,
  INVALID_REQUEST: 42,
  UNSUPPORTED_FOR_MESSAGE_FORMAT: 43,
  POLICY_VIOLATION: 44,
  OUT_OF_ORDER_SEQUENCE_NUMBER: 45,
  DUPLICATE_SEQUENCE_NUMBER: 46,
  INVALID_PRODUCER_EPOCH: 47,
  INVALID_TXN_STATE: 48,
  INVALID_PRODUCER_ID_MAPPING: 49,
  CONCURRENT_TRANSACTIONS: 51,
  TRANSACTION_COORDINATOR_FENCED: 52,
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 53,
  KAFKA_STORAGE_ERROR: 56,
  SASL_AUTHENTICATION_FAILED: 58,
  UNKNOWN_PRODUCER_ID: 59,
  FENCED_LEADER_EPOCH: 74,
  UNKNOWN_LEADER_EPOCH: 75,
  UNSUPPORTED_COMPRESSION_TYPE: 76,
  INVALID_RECORD: 87,
  THROTTLING_QUOTA_EXCEEDED: 89,
  PRODUCER_FENCED: 90,
} as const
export type KafkaErrorName = keyof typeof kafkaErrorCodes

export interface KafkaTestBroker {
  /** Comma-separated host:port list, as Kafka clients take it. */
  readonly bootstrapServers: string
  /** Broker ids, 1..N. */
  readonly brokerIds: readonly number[]
  createTopic(name: string, options: { partitions: number; replicationFactor: number }): Promise<void>
  /** Drops the broker's connections and stops serving new ones (see README: connects still complete). */
  setBrokerDown(id: number): Promise<void>
  setBrokerUp(id: number): Promise<void>
  setAllBrokersDown(): Promise<void>
  setAllBrokersUp(): Promise<void>
  /** The next `errorNames.length` requests of `api`, to any broker, fail with these errors, in order. */
  pushRequestErrors(api: KafkaApiName, errorNames: readonly KafkaErrorName[]): Promise<void>
  /** Like pushRequestErrors but for one broker, each error answered after `roundTripMs` (0 for none). */
  pushBrokerRequestErrors(
    id: number,
    api: KafkaApiName,
    errors: readonly { readonly name: KafkaErrorName; readonly roundTripMs?: number }[],
  ): Promise<void>
  /** Drops the errors still queued by pushRequestErrors for `api`. */
  clearRequestErrors(api: KafkaApiName): Promise<void>
  /** Adds `ms` of latency to every response of broker `id` (-1: all brokers). */
  setRoundTripTime(id: number, ms: number): Promise<void>
  setPartitionLeader(topic: string, partition: number, brokerId: number): Promise<void>
  /** Metadata answers this error for `topic` (NONE clears it). */
  setTopicError(topic: string, errorName: KafkaErrorName): Promise<void>
  /** Restricts the versions the brokers advertise for `api` (-1, -1 disables it). */
  setApiVersion(api: KafkaApiName, minVersion: number, maxVersion: number): Promise<void>
  /** Quits the broker process (kills it if it does not exit in time). Idempotent. */
  stop(): Promise<void>
}

export function kafkaTestBrokerPath(): string {
  const toolsDir = process.env.KAFKA_SINK_TOOLS_DIR ?? resolve(import.meta.dir, '../../.tools')
  return join(toolsDir, 'kafka-test-broker')
}

/** A topic name no other test uses, so tests can share one broker. */
export function uniqueTopicName(prefix = 'test'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`
}

/** Creates a topic of the test's own (`uniqueTopicName(prefix)`), replicated on 3 brokers, on the test broker or real Kafka. */
export async function createUniqueTopic(cluster: Pick<KafkaTestBroker, 'createTopic'>, prefix: string, partitions: number): Promise<string> {
  const topic = uniqueTopicName(prefix)
  await cluster.createTopic(topic, { partitions, replicationFactor: 3 })
  return topic
}

const startTimeoutMs = 15_000
const commandTimeoutMs = 15_000
const stopTimeoutMs = 5_000

export async function startKafkaTestBroker(options: { brokers?: number } = {}): Promise<KafkaTestBroker> {
  const brokerCount = options.brokers ?? 3
  const binary = kafkaTestBrokerPath()
  if (!existsSync(binary)) {
    throw new Error(`${binary} is missing: run scripts/bootstrap (it compiles test/support/kafka-test-broker.c)`)
  }
  const child = Bun.spawn([binary, String(brokerCount)], { stdin: 'pipe', stdout: 'pipe', stderr: 'pipe' })
  const stderrTail = collectTail(child.stderr)
  const lines = readLines(child.stdout)

  const describeExit = async () =>
    `kafka-test-broker exited (code ${await child.exited}); stderr: ${(await stderrTail).trim() || '(empty)'}`

  const nextLine = async (timeoutMs: number, what: string): Promise<string> => {
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`kafka-test-broker: no answer to ${what} within ${timeoutMs} ms`)), timeoutMs)
    })
    try {
      const result = await Promise.race([lines.next(), timeout])
      if (result.done) throw new Error(await describeExit())
      return result.value
    } finally {
      clearTimeout(timer)
    }
  }

  let bootstrapServers: string
  try {
    const first = await nextLine(startTimeoutMs, 'start')
    const match = /^bootstrap (\S+)$/.exec(first)
    if (!match?.[1]) throw new Error(`kafka-test-broker: unexpected first line ${JSON.stringify(first)}`)
    bootstrapServers = match[1]
  } catch (error) {
    child.kill()
    throw error
  }

  let stopped = false
  // After a command went unanswered, a late answer would be read as the next command's: refuse further commands.
  let broken: string | undefined
  // One command in flight: the broker answers in order, so each command waits for the previous answer.
  let queue: Promise<unknown> = Promise.resolve()
  const run = (command: string): Promise<void> => {
    const result = queue.then(async () => {
      if (stopped) throw new Error(`kafka-test-broker: stopped; cannot run ${command}`)
      if (broken !== undefined) throw new Error(`kafka-test-broker: unusable since ${broken}; cannot run ${command}`)
      child.stdin.write(command + '\n')
      child.stdin.flush()
      const answer = await nextLine(commandTimeoutMs, command).catch((error: unknown) => {
        broken = error instanceof Error ? error.message : String(error)
        throw error
      })
      if (answer === 'ok') return
      throw new Error(`kafka-test-broker: ${command}: ${answer.replace(/^error /, '')}`)
    })
    queue = result.catch(() => undefined)
    return result
  }

  const code = (name: KafkaErrorName): number => {
    const value = kafkaErrorCodes[name]
    if (value === undefined) throw new Error(`unknown Kafka error name ${name}`)
    return value
  }

  const stop = async (): Promise<void> => {
    if (stopped) return
    await queue
    stopped = true
    try {
      child.stdin.write('quit\n')
      child.stdin.end()
    } catch {
      // The process is already gone; exiting below still settles.
    }
    const exited = await Promise.race([
      child.exited.then(() => true),
      Bun.sleep(stopTimeoutMs).then(() => false),
    ])
    if (!exited) {
      child.kill('SIGKILL')
      await child.exited
    }
  }

  return {
    bootstrapServers,
    brokerIds: Array.from({ length: brokerCount }, (_, index) => index + 1),
    createTopic: (name, { partitions, replicationFactor }) =>
      run(`create-topic ${name} ${partitions} ${replicationFactor}`),
    setBrokerDown: (id) => run(`broker-down ${id}`),
    setBrokerUp: (id) => run(`broker-up ${id}`),
    setAllBrokersDown: () => run('all-brokers-down'),
    setAllBrokersUp: () => run('all-brokers-up'),
    pushRequestErrors: (api, errorNames) =>
      run(`push-request-errors ${kafkaApiKeys[api]} ${errorNames.map(code).join(' ')}`),
    pushBrokerRequestErrors: (id, api, errors) =>
      run(
        `push-broker-request-errors ${id} ${kafkaApiKeys[api]} ${errors
          .map(({ name, roundTripMs }) => `${code(name)}:${roundTripMs ?? 0}`)
          .join(' ')}`,
      ),
    clearRequestErrors: (api) => run(`clear-request-errors ${kafkaApiKeys[api]}`),
    setRoundTripTime: (id, ms) => run(`broker-rtt ${id} ${ms}`),
    setPartitionLeader: (topic, partition, brokerId) => run(`partition-leader ${topic} ${partition} ${brokerId}`),
    setTopicError: (topic, errorName) => run(`topic-error ${topic} ${code(errorName)}`),
    setApiVersion: (api, minVersion, maxVersion) => run(`api-version ${kafkaApiKeys[api]} ${minVersion} ${maxVersion}`),
    stop,
  }
}

async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder()
  let buffered = ''
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true })
    let newline = buffered.indexOf('\n')
    while (newline >= 0) {
      yield buffered.slice(0, newline)
      buffered = buffered.slice(newline + 1)
      newline = buffered.indexOf('\n')
    }
  }
  if (buffered.length > 0) yield buffered
}

/** Keeps the last few KB of stderr, for error messages; reading it also keeps the pipe from filling up. */
async function collectTail(stream: ReadableStream<Uint8Array>, limit = 4096): Promise<string> {
  const decoder = new TextDecoder()
  let tail = ''
  for await (const chunk of stream) {
    tail = (tail + decoder.decode(chunk, { stream: true })).slice(-limit)
  }
  return tail
}
