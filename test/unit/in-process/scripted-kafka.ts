/**
 * In-process harness for the orchestration layer: the KurrentDB emulator in this process, and a Kafka port whose
 * every send is answered by the test (deliver, fail, or hold until told). Tests drive `runConnector` and the
 * connectors service through their public contracts only, so they keep guarding a rewrite of the internals.
 */
import { jsonEvent, type KurrentDBClient } from '@kurrent/kurrentdb-client'
import { KafkaSendError } from '../../../src/sink/kafka/errors.ts'
import type { KafkaMessage, KafkaPort, MessageOutcome } from '../../../src/sink/kafka/port.ts'
import { parseSinkSettings } from '../../../src/settings/parse-sink-settings.ts'
import type { KafkaSinkSettings } from '../../../src/settings/kafka-sink-settings.ts'
import type { ConnectorMetrics } from '../../../src/observability/metrics.ts'

/** One call of `port.send`, waiting for the test's answer. */
export interface HeldSend {
  readonly messages: readonly KafkaMessage[]
  /** The stream revisions of the messages (their `esdb-record-stream-revision` header). */
  readonly revisions: readonly number[]
  answer(outcomes: readonly MessageOutcome[] | 'deliverAll' | 'failAll'): void
}

export type SendBehaviour = (send: HeldSend) => void

export interface ScriptedKafka {
  /** Pass as `openKafka`. */
  readonly open: () => KafkaPort
  /** Every message the port confirmed, in confirmation order. */
  readonly delivered: KafkaMessage[]
  /** Calls answered or waiting, in call order. */
  readonly sends: HeldSend[]
  /** How each new send is answered; by default it waits in `sends` for the test. */
  behaviour: SendBehaviour
  /** What `connect()` does; resolves by default. */
  connect: () => Promise<void>
  /** What the port's `lastRetriedError()` answers (the engine's own retries). */
  lastRetried: { readonly error: KafkaSendError; readonly at: number } | undefined
  /** Resolves with the n-th send (1-based), as soon as it has been made. */
  nthSend(n: number): Promise<HeldSend>
  /** Resolves once `predicate` holds for the delivered messages (checked after every send is answered). */
  deliveredUntil(predicate: (delivered: readonly KafkaMessage[]) => boolean): Promise<void>
  readonly closed: () => number
  /** The options of every `close` call, in call order. */
  readonly closeOptions: Array<{ readonly flush: boolean }>
  /** Makes `close` reject with this error (after settling the sends still waiting, as a close does). */
  closeFailure: Error | undefined
}

export const brokersDown = () => new KafkaSendError({ code: 'BROKERS_UNAVAILABLE', transient: true, message: 'connect ECONNREFUSED 127.0.0.1:9092' })

export function headerText(message: KafkaMessage, name: string): string | undefined {
  return message.headers.get(name)?.toString('utf8')
}

export const revisionOf = (message: KafkaMessage) => Number(headerText(message, 'esdb-record-stream-revision'))

export function scriptedKafka(): ScriptedKafka {
  const delivered: KafkaMessage[] = []
  const sends: HeldSend[] = []
  const sendWaiters: Array<{ n: number; resolve: (send: HeldSend) => void }> = []
  const deliveredWaiters: Array<{ predicate: (delivered: readonly KafkaMessage[]) => boolean; resolve: () => void }> = []
  let closes = 0
  const closeOptions: Array<{ readonly flush: boolean }> = []
  const checkDelivered = () => {
    for (const waiter of [...deliveredWaiters]) {
      if (!waiter.predicate(delivered)) continue
      deliveredWaiters.splice(deliveredWaiters.indexOf(waiter), 1)
      waiter.resolve()
    }
  }
  const harness: ScriptedKafka = {
    delivered,
    sends,
    behaviour: () => {},
    connect: async () => {},
    lastRetried: undefined,
    closed: () => closes,
    closeOptions,
    closeFailure: undefined,
    nthSend: (n) => {
      const made = sends[n - 1]
      if (made !== undefined) return Promise.resolve(made)
      return new Promise((resolve) => sendWaiters.push({ n, resolve }))
    },
    deliveredUntil: (predicate) => {
      if (predicate(delivered)) return Promise.resolve()
      return new Promise((resolve) => deliveredWaiters.push({ predicate, resolve }))
    },
    open: () => ({
      connect: () => harness.connect(),
      lastRetriedError: () => harness.lastRetried,
      send: (_topic, messages) =>
        new Promise<readonly MessageOutcome[]>((resolve) => {
          let answered = false
          const held: HeldSend = {
            messages,
            revisions: messages.map(revisionOf),
            answer: (answer) => {
              if (answered) return
              answered = true
              const outcomes: readonly MessageOutcome[] =
                answer === 'deliverAll' ? messages.map(() => ({ delivered: true })) : answer === 'failAll' ? messages.map(() => ({ delivered: false, error: brokersDown() })) : answer
              outcomes.forEach((outcome, index) => {
                if (outcome.delivered) delivered.push(messages[index]!)
              })
              resolve(outcomes)
              queueMicrotask(checkDelivered)
            },
          }
          sends.push(held)
          for (const waiter of [...sendWaiters]) {
            if (waiter.n !== sends.length) continue
            sendWaiters.splice(sendWaiters.indexOf(waiter), 1)
            waiter.resolve(held)
          }
          harness.behaviour(held)
        }),
      // As the port's contract says of closing: a send still waiting settles now, its messages unconfirmed.
      close: async (options) => {
        closes++
        closeOptions.push(options)
        for (const send of sends) send.answer(send.messages.map(() => ({ delivered: false, error: new KafkaSendError({ code: 'CLIENT_CLOSED', transient: true, message: 'the client was closed' }) })))
        if (harness.closeFailure !== undefined) throw harness.closeFailure
      },
    }),
  }
  return harness
}

/** Settings parsed the way a stored connector's are; `overrides` are the user's flat keys. */
export function sinkSettings(overrides: Record<string, string>): KafkaSinkSettings {
  const parsed = parseSinkSettings({ instanceTypeName: 'kafka-sink', topic: 'orders', bootstrapServers: 'localhost:9092', ...overrides })
  if (!parsed.ok) throw new Error(`invalid test settings: ${JSON.stringify(parsed.violations)}`)
  return parsed.settings
}

export const streamSettings = (stream: string, overrides: Record<string, string> = {}) =>
  sinkSettings({ 'subscription:filter:scope': 'stream', 'subscription:filter:filterType': 'streamId', 'subscription:filter:expression': stream, ...overrides })

/** Appends `count` JSON events `{ seq }` to `stream`, in appends of at most 1000. */
export async function appendSequence(client: KurrentDBClient, stream: string, count: number, first = 0, extra: Partial<Parameters<typeof jsonEvent>[0]> = {}): Promise<void> {
  for (let offset = 0; offset < count; offset += 1_000) {
    const events = []
    for (let seq = first + offset; seq < first + Math.min(count, offset + 1_000); seq++) events.push(jsonEvent({ type: 'Seq', data: { seq }, ...extra }))
    await client.appendToStream(stream, events)
  }
}

/** Connector metrics that remember what they were told. */
export interface RecordingMetrics extends ConnectorMetrics {
  readonly consumed: () => number
  readonly produced: () => number
  readonly written: () => number
  readonly counts: { sinkErrors: number; processorErrors: number; commitFailures: number }
  readonly queueLengths: number[]
  readonly stalledValues: boolean[]
  readonly writeLatencies: number[]
  readonly commitLatencies: number[]
  readonly produceDurations: number[]
  /** Every consumer-lag sample, in log positions. */
  readonly lags: number[]
}

export function recordingMetrics(): RecordingMetrics {
  let consumed = 0
  let produced = 0
  let written = 0
  const counts = { sinkErrors: 0, processorErrors: 0, commitFailures: 0 }
  const queueLengths: number[] = []
  const stalledValues: boolean[] = []
  const writeLatencies: number[] = []
  const commitLatencies: number[] = []
  const produceDurations: number[] = []
  const lags: number[] = []
  return {
    consumed: () => consumed,
    produced: () => produced,
    written: () => written,
    counts,
    queueLengths,
    stalledValues,
    writeLatencies,
    commitLatencies,
    produceDurations,
    lags,
    recordsWritten: (count) => void (written += count),
    writeLatency: (seconds) => void writeLatencies.push(seconds),
    sinkError: () => void counts.sinkErrors++,
    messagesConsumed: (count) => void (consumed += count),
    commitLatency: (seconds) => void commitLatencies.push(seconds),
    consumerLag: (positions) => void lags.push(positions),
    producerQueueLength: (records) => void queueLengths.push(records),
    messagesProduced: (count) => void (produced += count),
    produceDuration: (seconds) => void produceDurations.push(seconds),
    processorError: () => void counts.processorErrors++,
    checkpointCommitFailed: () => void counts.commitFailures++,
    stalled: (isStalled) => void stalledValues.push(isStalled),
  }
}

/** Resolves when `condition` holds, polling; rejects with `what` after `timeoutMs`. */
export async function eventually(what: string, condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(5)
  }
}
