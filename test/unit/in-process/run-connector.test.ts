// runConnector in this process: the KurrentDB emulator as the source and a Kafka port the test answers, so every
// interleaving the at-least-once promise depends on (batches confirmed out of order, a middle batch failing,
// brokers down, a stop during an outage) is produced on purpose and checked through the public contract:
// what reached Kafka, what was committed, and the signals the run emits.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { randomUUID } from 'node:crypto'
import { jsonEvent } from '@kurrent/kurrentdb-client'
import { Subject, type Subscription } from 'rxjs'
import { createLogger } from '../../../src/observability/logger.ts'
import { runConnector, type ConnectorSignal, type PipelineTuning } from '../../../src/pipeline/run-connector.ts'
import type { ResumePoint } from '../../../src/pipeline/work-item.ts'
import type { KafkaSinkSettings } from '../../../src/settings/kafka-sink-settings.ts'
import type { StartPoint } from '../../../src/source/positions.ts'
import { connectToKurrentDb, type KurrentDbConnection } from '../../../src/source/kurrentdb-connection.ts'
import { startKurrentDbEmulator, type KurrentDbEmulator } from '../../support/kurrentdb-emulator.ts'
import { appendSequence, brokersDown, eventually, headerText, recordingMetrics, revisionOf, scriptedKafka, sinkSettings, streamSettings, type ScriptedKafka } from './scripted-kafka.ts'
import { CheckpointCommitFailedError } from '../../../src/pipeline/run-connector.ts'
import { KafkaSendError } from '../../../src/sink/kafka/errors.ts'

let emulator: KurrentDbEmulator
let connection: KurrentDbConnection
beforeAll(async () => {
  emulator = await startKurrentDbEmulator()
  connection = connectToKurrentDb(emulator.connectionString)
})
afterAll(async () => {
  await connection?.dispose()
  await emulator?.close()
})

const uniqueStream = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`

interface StartedRun {
  /** Log lines as objects. */
  readonly logs: Array<Record<string, unknown>>
  readonly commits: ResumePoint[]
  readonly signals: ConnectorSignal[]
  readonly metrics: ReturnType<typeof recordingMetrics>
  readonly stop: () => void
  /** Settles when the run completes (resolves) or fails (rejects). */
  readonly ended: Promise<void>
  readonly subscription: Subscription
}

function start(
  kafka: ScriptedKafka,
  settings: KafkaSinkSettings,
  options: { start?: StartPoint; tuning?: Partial<PipelineTuning>; commitCheckpoint?: (resume: ResumePoint) => Promise<void>; connection?: KurrentDbConnection } = {},
): StartedRun {
  const commits: ResumePoint[] = []
  const signals: ConnectorSignal[] = []
  const logs: Array<Record<string, unknown>> = []
  const logger = createLogger({ level: 'debug', write: (line) => void logs.push(JSON.parse(line)) })
  const metrics = recordingMetrics()
  const stop$ = new Subject<void>()
  let subscription!: Subscription
  const ended = new Promise<void>((resolve, reject) => {
    subscription = runConnector(
      { connection: options.connection ?? connection, openKafka: kafka.open, commitCheckpoint: options.commitCheckpoint ?? (async (resume) => void commits.push(resume)), logger, metrics },
      { connectorId: 'in-process', settings, start: options.start ?? { kind: 'start' }, stop$, tuning: { stopGraceMs: 2_000, ...options.tuning } },
    ).subscribe({ next: (signal) => void signals.push(signal), error: reject, complete: resolve })
  })
  return { logs, commits, signals, metrics, stop: () => stop$.next(), ended, subscription }
}

const committedRevisions = (run: StartedRun) => run.commits.map((resume) => Number(resume.revision))

describe('the checkpoint with batches confirmed out of order', () => {
  test('never passes a failed middle batch, and catches up once it is delivered', async () => {
    const stream = uniqueStream('ooo')
    await appendSequence(connection.client, stream, 30)
    const kafka = scriptedKafka()
    // Three batches of ten in flight at once; a long linger so batches close on size only.
    const run = start(kafka, streamSettings(stream, { waitForBrokerAck: 'false', 'autocommit:recordsThreshold': '1' }), {
      tuning: { maxBatchMessages: 10, lingerMs: 60_000, pipelinedBatches: 5 },
    })
    const [first, middle, last] = await Promise.all([kafka.nthSend(1), kafka.nthSend(2), kafka.nthSend(3)])
    expect([first.revisions, middle.revisions, last.revisions]).toEqual([range(0, 10), range(10, 20), range(20, 30)])

    last.answer('deliverAll')
    middle.answer('failAll')
    first.answer('deliverAll')
    // The failed middle batch is sent again (only its messages): hold that retry.
    const retry = await kafka.nthSend(4)
    expect(retry.revisions).toEqual(range(10, 20))
    await eventually('the commit of the first batch', () => committedRevisions(run).includes(9))
    expect(Math.max(...committedRevisions(run))).toBe(9)

    retry.answer('deliverAll')
    await eventually('the commit of the last batch', () => committedRevisions(run).includes(29))
    const revisions = committedRevisions(run)
    expect(revisions).toEqual([...revisions].sort((left, right) => left - right))
    expect(revisions.every((revision) => revision === 9 || revision === 29)).toBe(true)
    run.stop()
    await run.ended
  })

  test('three batches confirmed in reverse order: the checkpoint moves only once the first is confirmed', async () => {
    const stream = uniqueStream('reverse')
    await appendSequence(connection.client, stream, 40)
    const kafka = scriptedKafka()
    const run = start(kafka, streamSettings(stream, { waitForBrokerAck: 'false', 'autocommit:recordsThreshold': '1' }), {
      tuning: { maxBatchMessages: 10, lingerMs: 60_000, pipelinedBatches: 5 },
    })
    const sends = await Promise.all([1, 2, 3, 4].map((n) => kafka.nthSend(n)))
    // Confirmed 4, 2, 3 (two ranges waiting, in an order that needs sorting), then 1.
    for (const index of [3, 1, 2]) sends[index]!.answer('deliverAll')
    // A positive marker that the three answers were handled: the port saw them delivered.
    await kafka.deliveredUntil((delivered) => delivered.length === 30)
    await Bun.sleep(0)
    expect(run.commits).toEqual([])
    sends[0]!.answer('deliverAll')
    await eventually('the commit of everything', () => committedRevisions(run).includes(39))
    expect(Math.max(...committedRevisions(run))).toBe(39)
    run.stop()
    await run.ended
  })
})

describe('backpressure', () => {
  test('brokers down while 20k events are appended: what is read but unconfirmed stays within the cap; then no gaps', async () => {
    const stream = uniqueStream('pressure')
    const cap = 1_000
    const kafka = scriptedKafka()
    kafka.behaviour = (send) => send.answer('failAll')
    const run = start(kafka, streamSettings(stream, { 'resilience:transientErrorDelay': '00:00:00.010', 'resilience:reconnectBackoffMaxMs': '10' }), {
      tuning: { maxInFlightItems: cap, maxBatchMessages: 100, lingerMs: 1 },
    })
    await eventually('running', () => run.signals.some((signal) => signal.kind === 'running'))
    await appendSequence(connection.client, stream, 20_000)
    // Many failed attempts later (each one a chance for the source to read on), the reads are still bounded.
    const failedBefore = kafka.sends.length
    for (const after of [20, 40, 80]) {
      await kafka.nthSend(failedBefore + after)
      expect(run.metrics.consumed()).toBeLessThanOrEqual(cap)
      expect(run.metrics.consumed()).toBeGreaterThan(0)
    }
    kafka.behaviour = (send) => send.answer('deliverAll')
    await kafka.deliveredUntil((delivered) => new Set(delivered.map(revisionOf)).size === 20_000)
    for (const length of run.metrics.queueLengths) expect(length).toBeLessThanOrEqual(cap)
    // No gaps, and in order: every revision's first delivery comes after the previous revision's.
    const firstSeen = new Map<number, number>()
    kafka.delivered.forEach((message, index) => {
      if (!firstSeen.has(revisionOf(message))) firstSeen.set(revisionOf(message), index)
    })
    expect([...firstSeen.keys()]).toEqual(range(0, 20_000))
    run.stop()
    await run.ended
  }, 60_000)
})

describe('Kafka unreachable', () => {
  test('down when the connector starts: it still runs, retries, and delivers once Kafka is back', async () => {
    const stream = uniqueStream('down-at-start')
    await appendSequence(connection.client, stream, 5)
    const kafka = scriptedKafka()
    kafka.connect = async () => {
      throw brokersDown()
    }
    kafka.behaviour = (send) => send.answer('failAll')
    const run = start(kafka, streamSettings(stream, { 'resilience:transientErrorDelay': '00:00:00.010' }))
    await kafka.nthSend(3)
    expect(run.signals.some((signal) => signal.kind === 'running')).toBe(true)
    expect(run.commits).toEqual([])
    const notReachable = run.logs.find((line) => line.message === 'Kafka is not reachable yet; records will be retried until it is')
    expect(notReachable).toMatchObject({ level: 'warn' })
    expect(JSON.stringify(notReachable!.error)).toContain('ECONNREFUSED')
    const retried = run.logs.find((line) => line.message === 'Kafka delivery failed; retrying')
    expect(retried).toMatchObject({ level: 'warn', attempt: 1 })
    expect(retried!.delayMs).toBeGreaterThanOrEqual(10)
    expect(JSON.stringify(retried!.error)).toContain('ECONNREFUSED')
    kafka.behaviour = (send) => send.answer('deliverAll')
    await kafka.deliveredUntil((delivered) => delivered.length >= 5)
    expect(kafka.delivered.map(revisionOf).slice(0, 5)).toEqual(range(0, 5))
    run.stop()
    await run.ended
    expect(Math.max(...committedRevisions(run))).toBe(4)
  })

  test('a stop during the outage ends the run, commits nothing unconfirmed, and closes the client', async () => {
    const stream = uniqueStream('stop-in-outage')
    await appendSequence(connection.client, stream, 3)
    const kafka = scriptedKafka()
    kafka.behaviour = (send) => send.answer('failAll')
    const run = start(kafka, streamSettings(stream, { 'resilience:transientErrorDelay': '00:00:00.020' }), { tuning: { stopGraceMs: 100 } })
    await kafka.nthSend(2)
    run.stop()
    await run.ended
    expect(kafka.delivered).toEqual([])
    expect(run.commits).toEqual([])
    expect(kafka.closed()).toBeGreaterThan(0)
  })

  test('a stop while connecting hangs ends the run without reading', async () => {
    const stream = uniqueStream('stop-connecting')
    await appendSequence(connection.client, stream, 3)
    const kafka = scriptedKafka()
    let connectCalled!: () => void
    const connecting = new Promise<void>((resolve) => (connectCalled = resolve))
    kafka.connect = () => {
      connectCalled()
      return new Promise<void>(() => {})
    }
    const run = start(kafka, streamSettings(stream))
    await connecting
    run.stop()
    await run.ended
    expect(kafka.sends).toEqual([])
    expect(run.metrics.consumed()).toBe(0)
  })

  test('a refusal at connect (not transient) fails the run with that error', async () => {
    const kafka = scriptedKafka()
    kafka.connect = async () => {
      throw Object.assign(brokersDown(), { transient: false, code: 'AUTHENTICATION_FAILED' })
    }
    const run = start(kafka, streamSettings(uniqueStream('refused')))
    await expect(run.ended).rejects.toMatchObject({ code: 'AUTHENTICATION_FAILED' })
  })
})

describe('waitForBrokerAck=false under failures', () => {
  test('messages failing at random across pipelined batches: every event arrives, the checkpoint only covers delivered ones', async () => {
    const stream = uniqueStream('no-ack')
    const count = 600
    await appendSequence(connection.client, stream, count)
    const kafka = scriptedKafka()
    let seed = 7
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31)
    const commitsCoverDelivered: boolean[] = []
    const deliveredRevisions = new Set<number>()
    kafka.behaviour = (send) => {
      // Answer later and out of call order, failing about a third of the messages.
      setTimeout(() => {
        const outcomes = send.messages.map(() => (random() < 0.33 ? { delivered: false as const, error: brokersDown() } : { delivered: true as const }))
        outcomes.forEach((outcome, index) => outcome.delivered && deliveredRevisions.add(send.revisions[index]!))
        send.answer(outcomes)
      }, Math.floor(random() * 5))
    }
    const run = start(kafka, streamSettings(stream, { waitForBrokerAck: 'false', 'autocommit:recordsThreshold': '1', 'resilience:transientErrorDelay': '00:00:00.001', 'resilience:reconnectBackoffMaxMs': '2' }), {
      tuning: { maxBatchMessages: 25, lingerMs: 1, pipelinedBatches: 5 },
    })
    const checkCommits = setInterval(() => {
      const newest = Math.max(-1, ...committedRevisions(run))
      commitsCoverDelivered.push(range(0, newest + 1).every((revision) => deliveredRevisions.has(revision)))
    }, 1)
    await kafka.deliveredUntil(() => deliveredRevisions.size === count)
    await eventually('the final commit', () => committedRevisions(run).includes(count - 1))
    clearInterval(checkCommits)
    expect(commitsCoverDelivered.every(Boolean)).toBe(true)
    run.stop()
    await run.ended
  }, 30_000)
})

describe('records as the mapper builds them over one stream', () => {
  test('headers:ignoreSystem=false keeps $-prefixed metadata as headers; the default drops them', async () => {
    const stream = uniqueStream('system-headers')
    await connection.client.appendToStream(stream, [jsonEvent({ type: 'T', data: {}, metadata: { $correlationId: 'c-1', $causationId: 'k-1', tenant: 'a' } })])
    for (const [ignoreSystem, expected] of [
      ['false', { $correlationId: 'c-1', $causationId: 'k-1', tenant: 'a' }],
      ['true', { $correlationId: undefined, $causationId: undefined, tenant: 'a' }],
    ] as const) {
      const kafka = scriptedKafka()
      kafka.behaviour = (send) => send.answer('deliverAll')
      const run = start(kafka, streamSettings(stream, { 'headers:ignoreSystem': ignoreSystem }))
      await kafka.deliveredUntil((delivered) => delivered.length === 1)
      const message = kafka.delivered[0]!
      expect({
        $correlationId: headerText(message, 'esdb-record-headers-$correlationId'),
        $causationId: headerText(message, 'esdb-record-headers-$causationId'),
        tenant: headerText(message, 'esdb-record-headers-tenant'),
      }).toEqual(expected)
      run.stop()
      await run.ended
    }
  })

  test('changing metadata and created times: each record has its own header key, timestamp and headers', async () => {
    const stream = uniqueStream('changing')
    const metadatas = [{ region: 'eu', zone: '1' }, { region: 'us', zone: '2' }, { region: 'eu', zone: '3' }, { region: 'ap' }]
    for (const metadata of metadatas) {
      await connection.client.appendToStream(stream, [jsonEvent({ type: 'T', data: { zone: metadata.zone ?? null }, metadata })])
      // Created times one millisecond apart at least, so a frozen timestamp shows.
      await Bun.sleep(3)
    }
    const stored: { created: Date }[] = []
    for await (const resolved of connection.client.subscribeToStream(stream, { fromRevision: 'start' })) {
      stored.push(resolved.event!)
      if (stored.length === metadatas.length) break
    }
    const kafka = scriptedKafka()
    kafka.behaviour = (send) => send.answer('deliverAll')
    const run = start(
      kafka,
      streamSettings(stream, { 'partitionKeyExtraction:enabled': 'true', 'partitionKeyExtraction:source': 'headers', 'partitionKeyExtraction:expression': 'region,zone' }),
    )
    await kafka.deliveredUntil((delivered) => delivered.length === metadatas.length)
    // The documentation: header values joined with `-` (a missing header leaves its part out).
    expect(kafka.delivered.map((message) => message.key?.toString('utf8'))).toEqual(['eu-1', 'us-2', 'eu-3', 'ap'])
    expect(kafka.delivered.map((message) => message.timestamp)).toEqual(stored.map((event) => BigInt(event.created.getTime())))
    expect(kafka.delivered.map((message) => headerText(message, 'esdb-record-timestamp')?.slice(0, 23))).toEqual(stored.map((event) => event.created.toISOString().slice(0, 23)))
    expect(kafka.delivered.map((message) => headerText(message, 'esdb-record-headers-zone'))).toEqual(['1', '2', '3', undefined])
    run.stop()
    await run.ended
  })
})

describe('what the run reports', () => {
  test('running first, then caught up, then a commit of the last delivered event; metrics count what happened', async () => {
    const stream = uniqueStream('signals')
    await appendSequence(connection.client, stream, 4)
    const kafka = scriptedKafka()
    kafka.behaviour = (send) => send.answer('deliverAll')
    const run = start(kafka, streamSettings(stream))
    await eventually('a commit of revision 3', () => committedRevisions(run).includes(3))
    const kinds = run.signals.map((signal) => signal.kind)
    expect(kinds[0]).toBe('running')
    expect(kinds.indexOf('caughtUp')).toBeGreaterThan(0)
    expect(kinds.indexOf('committed')).toBeGreaterThan(kinds.indexOf('caughtUp'))
    expect(kinds.filter((kind) => kind === 'caughtUp')).toHaveLength(1)
    expect(run.signals.find((signal) => signal.kind === 'committed')).toEqual({ kind: 'committed', resume: run.commits[0]! })
    expect({ consumed: run.metrics.consumed(), produced: run.metrics.produced(), written: run.metrics.written() }).toEqual({ consumed: 4, produced: 4, written: 4 })
    expect(run.metrics.queueLengths.at(-1)).toBe(0)
    expect(run.metrics.writeLatencies).toHaveLength(4)
    // In seconds (events appended a moment ago, in this process): not milliseconds, never negative.
    for (const latency of [...run.metrics.writeLatencies, ...run.metrics.commitLatencies, ...run.metrics.produceDurations]) {
      expect(latency).toBeGreaterThanOrEqual(0)
      expect(latency).toBeLessThan(60)
    }
    expect(run.metrics.commitLatencies.length).toBeGreaterThan(0)
    expect(run.metrics.produceDurations.length).toBeGreaterThan(0)
    expect(run.metrics.stalledValues).toEqual([false])
    run.stop()
    await run.ended
    expect(run.metrics.counts).toEqual({ sinkErrors: 0, processorErrors: 0, commitFailures: 0 })
    // The stop finds the last position committed already: it is not committed twice.
    expect(committedRevisions(run)).toEqual([3])
  })

  test('a dropped subscription made again: running is reported once, and delivery goes on', async () => {
    const stream = uniqueStream('resubscribed')
    await appendSequence(connection.client, stream, 1)
    const kafka = scriptedKafka()
    kafka.behaviour = (send) => send.answer('deliverAll')
    const run = start(kafka, streamSettings(stream))
    await kafka.deliveredUntil((delivered) => delivered.length === 1)
    expect(emulator.dropReads()).toBeGreaterThan(0)
    await appendSequence(connection.client, stream, 1, 1)
    await eventually('the event appended after the drop', () => kafka.delivered.some((message) => revisionOf(message) === 1))
    expect(run.signals.filter((signal) => signal.kind === 'running')).toHaveLength(1)
    run.stop()
    await run.ended
  })

  test('an empty stream: running, then caught up; a stop commits nothing', async () => {
    const kafka = scriptedKafka()
    const run = start(kafka, streamSettings(uniqueStream('empty')))
    await eventually('caught up', () => run.signals.some((signal) => signal.kind === 'caughtUp'))
    expect(run.signals).toEqual([{ kind: 'running' }, { kind: 'caughtUp' }])
    run.stop()
    await run.ended
    expect(run.commits).toEqual([])
  })

  test('without a threshold or interval due, the checkpoint waits for catching up', async () => {
    const stream = uniqueStream('wait-catch-up')
    await appendSequence(connection.client, stream, 30)
    const kafka = scriptedKafka()
    // Batches of ten close on size; the caught-up marker after them closes its own batch after the linger.
    const run = start(kafka, streamSettings(stream, { waitForBrokerAck: 'false', 'autocommit:interval': '60000', 'autocommit:recordsThreshold': '1000' }), {
      tuning: { maxBatchMessages: 10, lingerMs: 20, pipelinedBatches: 5 },
    })
    const sends = await Promise.all([1, 2, 3].map((n) => kafka.nthSend(n)))
    sends[0]!.answer('deliverAll')
    await kafka.deliveredUntil((delivered) => delivered.length === 10)
    sends[1]!.answer('deliverAll')
    sends[2]!.answer('deliverAll')
    await eventually('the commit on catching up', () => run.commits.length > 0, 5_000)
    expect(committedRevisions(run)).toEqual([29])
    run.stop()
    await run.ended
  })

  test('autocommit disabled: nothing is committed until the stop, which commits what was delivered', async () => {
    const stream = uniqueStream('no-autocommit')
    await appendSequence(connection.client, stream, 3)
    const kafka = scriptedKafka()
    kafka.behaviour = (send) => send.answer('deliverAll')
    const run = start(kafka, streamSettings(stream, { 'autocommit:enabled': 'false' }))
    await kafka.deliveredUntil((delivered) => delivered.length === 3)
    await eventually('caught up', () => run.signals.some((signal) => signal.kind === 'caughtUp'))
    expect(run.commits).toEqual([])
    run.stop()
    await run.ended
    expect(committedRevisions(run)).toEqual([2])
  })

  test('a stall is reported with the latest retried error, and cleared once deliveries go through', async () => {
    const stream = uniqueStream('stall')
    await appendSequence(connection.client, stream, 2)
    const kafka = scriptedKafka()
    kafka.behaviour = (send) => send.answer('failAll')
    const run = start(kafka, streamSettings(stream, { 'resilience:transientErrorDelay': '00:00:00.020', 'resilience:reconnectBackoffMaxMs': '20' }), { tuning: { stallAfterMs: 200 } })
    await eventually('a stall', () => run.signals.some((signal) => signal.kind === 'stalled' && signal.stall !== undefined))
    const stalled = run.signals.find((signal) => signal.kind === 'stalled' && signal.stall !== undefined) as { stall: { since: Date; lastError: string | undefined } }
    expect(stalled.stall.lastError).toBe('connect ECONNREFUSED 127.0.0.1:9092')
    expect(stalled.stall.since.getTime()).toBeLessThanOrEqual(Date.now() - 150)
    expect(run.metrics.stalledValues).toContain(true)
    expect(run.metrics.counts.sinkErrors).toBeGreaterThan(0)
    kafka.behaviour = (send) => send.answer('deliverAll')
    await eventually('the stall cleared', () => run.signals.some((signal) => signal.kind === 'stalled' && signal.stall === undefined))
    expect(run.metrics.stalledValues.at(-1)).toBe(false)
    run.stop()
    await run.ended
  })

  test("while the engine retries inside a send, the stall names the engine's latest retried error", async () => {
    const stream = uniqueStream('engine-retry')
    await appendSequence(connection.client, stream, 1)
    const kafka = scriptedKafka()
    kafka.lastRetried = { error: new KafkaSendError({ code: 'RETRIABLE_BROKER_ERROR', transient: true, message: 'NOT_LEADER_OR_FOLLOWER from broker 1' }), at: Date.now() + 60_000 }
    const run = start(kafka, streamSettings(stream), { tuning: { stallAfterMs: 150, stopGraceMs: 50 } })
    await kafka.nthSend(1) // held: the send is still in progress
    await eventually('a stall', () => run.signals.some((signal) => signal.kind === 'stalled' && signal.stall !== undefined))
    const stalled = run.signals.find((signal) => signal.kind === 'stalled' && signal.stall !== undefined) as { stall: { lastError: string | undefined } }
    expect(stalled.stall.lastError).toBe('NOT_LEADER_OR_FOLLOWER from broker 1')
    run.stop()
    await run.ended
    expect(run.commits).toEqual([])
  })

  test('checkpoint commits failing past the limit end the run with CheckpointCommitFailedError, after retrying', async () => {
    const stream = uniqueStream('commit-fails')
    await appendSequence(connection.client, stream, 2)
    const kafka = scriptedKafka()
    kafka.behaviour = (send) => send.answer('deliverAll')
    let attempts = 0
    const run = start(kafka, streamSettings(stream, { 'autocommit:interval': '20' }), {
      tuning: { commitFailureLimitMs: 300 },
      commitCheckpoint: async () => {
        attempts++
        throw new Error('KurrentDB is read-only')
      },
    })
    const error = await run.ended.then(() => undefined, (caught: unknown) => caught)
    expect(error).toBeInstanceOf(CheckpointCommitFailedError)
    // Failing for the 300 ms limit (and a little more): 0 or 1 whole seconds.
    expect((error as Error).message).toMatch(/^checkpoint commits to KurrentDB have failed for [01] s; the last error: KurrentDB is read-only$/)
    expect((error as Error).cause).toBeInstanceOf(Error)
    expect((error as Error).name).toBe('CheckpointCommitFailedError')
    expect(attempts).toBeGreaterThan(2)
    expect(run.metrics.counts.commitFailures).toBe(attempts)
    const warned = run.logs.filter((line) => line.message === 'checkpoint commit failed; will retry')
    expect(warned.length).toBe(attempts)
    expect(warned[0]).toMatchObject({ level: 'warn', limitMs: 300 })
    expect(JSON.stringify(warned[0]!.error)).toContain('KurrentDB is read-only')
    expect(run.metrics.counts.processorErrors).toBe(1)
  })

  test('a commit failure that is not an Error is still named in the failure', async () => {
    const stream = uniqueStream('commit-string')
    await appendSequence(connection.client, stream, 1)
    const kafka = scriptedKafka()
    kafka.behaviour = (send) => send.answer('deliverAll')
    const run = start(kafka, streamSettings(stream, { 'autocommit:interval': '20' }), {
      tuning: { commitFailureLimitMs: 100 },
      commitCheckpoint: () => Promise.reject('the store said no'),
    })
    const error = await run.ended.then(() => undefined, (caught: unknown) => caught)
    expect((error as Error).message).toEndWith('; the last error: the store said no')
  })

  test('a commit that fails once is retried, and the run goes on', async () => {
    const stream = uniqueStream('commit-once')
    await appendSequence(connection.client, stream, 2)
    const kafka = scriptedKafka()
    kafka.behaviour = (send) => send.answer('deliverAll')
    const commits: ResumePoint[] = []
    let failures = 0
    const run = start(kafka, streamSettings(stream, { 'autocommit:interval': '20' }), {
      tuning: { commitFailureLimitMs: 60_000 },
      commitCheckpoint: async (resume) => {
        if (failures++ === 0) throw new Error('not yet')
        commits.push(resume)
      },
    })
    await eventually('a commit after the failure', () => commits.length > 0)
    expect(Number(commits.at(-1)!.revision)).toBe(1)
    run.stop()
    await run.ended
    expect(run.metrics.counts.commitFailures).toBe(1)
  })

  test('a stop while a send hangs: after the grace period the run ends, closes the client, and commits nothing unconfirmed', async () => {
    const stream = uniqueStream('grace')
    await appendSequence(connection.client, stream, 2)
    const kafka = scriptedKafka()
    const run = start(kafka, streamSettings(stream, { 'resilience:transientErrorDelay': '00:00:00.010', 'resilience:reconnectBackoffMaxMs': '10' }), { tuning: { stopGraceMs: 100 } })
    const held = await kafka.nthSend(1)
    run.stop()
    // Closing the client settles the send in flight (the port's contract), so the run can end.
    await run.ended
    expect(kafka.closeOptions[0]).toEqual({ flush: false })
    expect(run.logs.find((line) => line.message === 'stop grace period over; abandoning undelivered records (they will be re-read on restart)')).toMatchObject({ level: 'warn', graceMs: 100 })
    expect(held.messages).toHaveLength(2)
    expect(run.commits).toEqual([])
    expect(kafka.delivered).toEqual([])
  })

  test('a fatal Kafka error ends the run with it, after committing what was delivered before it', async () => {
    const stream = uniqueStream('fatal')
    await appendSequence(connection.client, stream, 3)
    const kafka = scriptedKafka()
    const tooLarge = new KafkaSendError({ code: 'MESSAGE_TOO_LARGE', transient: false, kafkaName: 'MESSAGE_TOO_LARGE', message: 'too large' })
    kafka.behaviour = (send) => send.answer(send.revisions.map((revision) => (revision === 2 ? { delivered: false, error: tooLarge } : { delivered: true })))
    const run = start(kafka, streamSettings(stream), { tuning: { maxBatchMessages: 2 } })
    const error = await run.ended.then(() => undefined, (caught: unknown) => caught)
    expect((error as { kafkaError?: unknown }).kafkaError).toBe(tooLarge)
    expect(committedRevisions(run).at(-1)).toBe(1)
    expect(run.metrics.counts.processorErrors).toBe(1)
  })
})

describe('the consumer lag', () => {
  test('sampled as log positions between the end of $all and the last event read: 0 before any read', async () => {
    const stream = uniqueStream('lag')
    const kafka = scriptedKafka()
    kafka.behaviour = (send) => send.answer('deliverAll')
    const run = start(kafka, streamSettings(stream), { tuning: { lagSampleIntervalMs: 20 } })
    await eventually('running', () => run.signals.some((signal) => signal.kind === 'running'))
    // Nothing of the stream read yet (other streams fill $all): no lag is claimed.
    await eventually('two lag samples', () => run.metrics.lags.length >= 2, 5_000)
    expect(new Set(run.metrics.lags)).toEqual(new Set([0]))
    const appended = await connection.client.appendToStream(stream, [jsonEvent({ type: 'T', data: {} })])
    await kafka.deliveredUntil((delivered) => delivered.length === 1)
    // Another stream moves the end of $all past the last event this run read.
    const head = await connection.client.appendToStream(uniqueStream('lag-other'), [jsonEvent({ type: 'T', data: {} })])
    const expected = Number(head.position!.commit - appended.position!.commit)
    expect(expected).toBeGreaterThan(0)
    const sampled = run.metrics.lags.length
    await eventually('two samples after the append', () => run.metrics.lags.length >= sampled + 2, 5_000)
    expect(run.metrics.lags.at(-1)).toBe(expected)
    run.stop()
    await run.ended
  })
})

describe('unsubscribing instead of stopping', () => {
  test('a lag sample that answers after the unsubscribe is not reported', async () => {
    let answer!: () => void
    const heldRead = new Promise<void>((resolve) => (answer = resolve))
    let asked!: () => void
    const readAsked = new Promise<void>((resolve) => (asked = resolve))
    const holding: KurrentDbConnection = {
      ...connection,
      readHeadPosition: async () => {
        asked()
        await heldRead
        return connection.readHeadPosition()
      },
    }
    const kafka = scriptedKafka()
    const run = start(kafka, streamSettings(uniqueStream('late-lag')), { tuning: { lagSampleIntervalMs: 20 }, connection: holding })
    await readAsked
    run.subscription.unsubscribe()
    answer()
    // The run's own continuation of the read was queued before this one.
    await heldRead
    await connection.readHeadPosition()
    expect(run.metrics.lags).toEqual([])
  })

  test('closes the client at once; nothing more is sent, committed, sampled or reported afterwards', async () => {
    const stream = uniqueStream('unsubscribed')
    await appendSequence(connection.client, stream, 5)
    const kafka = scriptedKafka()
    const settings = streamSettings(stream, { 'autocommit:interval': '100', 'resilience:transientErrorDelay': '00:00:00.010', 'resilience:reconnectBackoffMaxMs': '10' })
    const tuning = { maxBatchMessages: 2, lingerMs: 1, stallAfterMs: 200, lagSampleIntervalMs: 20, stopGraceMs: 20 }
    let headReads = 0
    const counting: KurrentDbConnection = { ...connection, readHeadPosition: () => (headReads++, connection.readHeadPosition()) }
    const run = start(kafka, settings, { tuning, connection: counting })
    const first = await kafka.nthSend(1)
    first.answer('deliverAll')
    // The second batch is held: work in flight, the first batch confirmed but (not due yet) uncommitted.
    await kafka.nthSend(2)
    run.subscription.unsubscribe()
    expect(kafka.closeOptions).toEqual([{ flush: false }])
    const before = { sends: kafka.sends.length, commits: run.commits.length, headReads, lags: run.metrics.lags.length, stalled: run.metrics.stalledValues.length, signals: run.signals.length, logs: run.logs.length }
    // A stop that comes after the unsubscribe finds nothing left to stop.
    run.stop()

    // The positive marker: a run with the same settings commits on its interval and reports its stall, so the timers
    // of the unsubscribed run would have fired by then.
    const markerStream = uniqueStream('unsubscribed-marker')
    await appendSequence(connection.client, markerStream, 5)
    const markerKafka = scriptedKafka()
    const marker = start(markerKafka, streamSettings(markerStream, { 'autocommit:interval': '100' }), { tuning })
    ;(await markerKafka.nthSend(1)).answer('deliverAll')
    await markerKafka.nthSend(2)
    await eventually('the marker run commits and stalls', () => marker.commits.length > 0 && marker.signals.some((signal) => signal.kind === 'stalled' && signal.stall !== undefined))
    await eventually('the marker run samples the lag', () => marker.metrics.lags.length >= 2)

    expect({ sends: kafka.sends.length, commits: run.commits.length, headReads, lags: run.metrics.lags.length, stalled: run.metrics.stalledValues.length, signals: run.signals.length, logs: run.logs.length }).toEqual(before)
    expect(kafka.closed()).toBe(1)
    marker.subscription.unsubscribe()
  })
})

const stalls = (run: StartedRun) => run.signals.filter((signal) => signal.kind === 'stalled')
const stallReported = (run: StartedRun) => run.signals.some((signal) => signal.kind === 'stalled' && signal.stall !== undefined)
/** Waits for `count` more lag samples: a clock made of the run's own timer, for a bound on a negative check. */
const samplesLater = async (run: StartedRun, count: number) => {
  const from = run.metrics.lags.length
  await eventually(`${count} more lag samples`, () => run.metrics.lags.length >= from + count, 5_000)
}

describe('the metrics of confirmed deliveries', () => {
  test('write latency is the time since the event was created, commit latency the time since it was read, both in seconds', async () => {
    const stream = uniqueStream('latency')
    // The events are created (by the emulator, on this clock) between these two instants.
    const appendedFrom = Date.now()
    await appendSequence(connection.client, stream, 2)
    const appendedUntil = Date.now()
    // The events are older than the run by this much at least, so a latency of 0 would show.
    await Bun.sleep(30)
    const startedAt = Date.now()
    const startedMonotonic = performance.now()
    const kafka = scriptedKafka()
    kafka.behaviour = (send) => send.answer('deliverAll')
    const run = start(kafka, streamSettings(stream))
    await eventually('the commit of revision 1', () => committedRevisions(run).includes(1))
    const spanSeconds = (performance.now() - startedMonotonic) / 1000
    const endedAt = Date.now()
    expect(run.metrics.writeLatencies).toHaveLength(2)
    for (const latency of run.metrics.writeLatencies) {
      expect(latency * 1000).toBeGreaterThanOrEqual(startedAt - appendedUntil - 1)
      expect(latency * 1000).toBeLessThanOrEqual(endedAt - appendedFrom + 1)
    }
    expect(run.metrics.commitLatencies.length).toBeGreaterThan(0)
    for (const latency of [...run.metrics.commitLatencies, ...run.metrics.produceDurations]) {
      expect(latency).toBeGreaterThanOrEqual(0)
      expect(latency).toBeLessThanOrEqual(spanSeconds)
    }
    run.stop()
    await run.ended
  })
})

describe('stalls', () => {
  test('reported even while new events keep arriving', async () => {
    const stream = uniqueStream('stall-reading')
    await appendSequence(connection.client, stream, 1)
    const kafka = scriptedKafka()
    kafka.behaviour = (send) => send.answer('failAll')
    const run = start(kafka, streamSettings(stream, { 'resilience:transientErrorDelay': '00:00:00.020', 'resilience:reconnectBackoffMaxMs': '20' }), {
      tuning: { stallAfterMs: 150, stopGraceMs: 50 },
    })
    let appending = true
    const appender = (async () => {
      for (let first = 1; appending; first++) {
        await appendSequence(connection.client, stream, 1, first)
        await Bun.sleep(10)
      }
    })()
    await eventually('a stall', () => stallReported(run), 5_000).finally(() => (appending = false))
    await appender
    expect(run.metrics.consumed()).toBeGreaterThan(1)
    run.stop()
    await run.ended
  })

  test('counted from when work arrived at an idle run, not from the progress before it', async () => {
    const stream = uniqueStream('stall-idle')
    await appendSequence(connection.client, stream, 1)
    const kafka = scriptedKafka()
    kafka.behaviour = (send) => kafka.sends.length === 1 && send.answer('deliverAll')
    const run = start(kafka, streamSettings(stream), { tuning: { stallAfterMs: 100, stopGraceMs: 50 } })
    await kafka.deliveredUntil((delivered) => delivered.length === 1)
    const idleFrom = Date.now()
    // Idle (nothing to deliver) for longer than the stall time: that is no stall, and no stall time used up.
    await Bun.sleep(250)
    await appendSequence(connection.client, stream, 1, 1)
    await kafka.nthSend(2)
    await eventually('a stall', () => stallReported(run), 5_000)
    const stall = stalls(run).find((signal) => signal.stall !== undefined)!.stall!
    expect(stall.since.getTime()).toBeGreaterThan(idleFrom + 100)
    run.stop()
    await run.ended
  })

  test("reported once while it lasts and again when its last error changes; an engine error from before it is no explanation; cleared when the run ends", async () => {
    const stream = uniqueStream('stall-refresh')
    await appendSequence(connection.client, stream, 1)
    const kafka = scriptedKafka()
    kafka.lastRetried = { error: new KafkaSendError({ code: 'REQUEST_TIMED_OUT', transient: true, message: 'an old timeout' }), at: Date.now() - 60_000 }
    const run = start(kafka, streamSettings(stream), { tuning: { stallAfterMs: 100, stopGraceMs: 50, lagSampleIntervalMs: 20 } })
    await kafka.nthSend(1) // held
    await eventually('a stall', () => stallReported(run), 5_000)
    expect(stalls(run)[0]).toMatchObject({ stall: { lastError: undefined } })
    // Several stall checks later (one every 50 ms here), the same stall is not reported again.
    await samplesLater(run, 12)
    expect(stalls(run)).toHaveLength(1)
    kafka.lastRetried = { error: new KafkaSendError({ code: 'RETRIABLE_BROKER_ERROR', transient: true, message: 'leader moved' }), at: Date.now() }
    await eventually('the stall reported again', () => stalls(run).length === 2, 5_000)
    expect(stalls(run)[1]).toMatchObject({ stall: { lastError: 'leader moved' } })
    expect(run.metrics.stalledValues.at(-1)).toBe(true)
    run.stop()
    await run.ended
    expect(run.signals.at(-1)).toEqual({ kind: 'stalled', stall: undefined })
    expect(run.metrics.stalledValues.at(-1)).toBe(false)
  })

  test('a run that keeps up reports none, however short the stall time', async () => {
    const stream = uniqueStream('no-stall')
    await appendSequence(connection.client, stream, 3)
    const kafka = scriptedKafka()
    kafka.behaviour = (send) => send.answer('deliverAll')
    const run = start(kafka, streamSettings(stream), { tuning: { stallAfterMs: 100, lagSampleIntervalMs: 20 } })
    await eventually('the commit of revision 2', () => committedRevisions(run).includes(2))
    // Idle for more than twice the stall time.
    await samplesLater(run, 12)
    expect(stalls(run)).toEqual([])
    expect(run.metrics.stalledValues).toEqual([false])
    run.stop()
    await run.ended
  })
})

describe('checkpoint commits', () => {
  test('never overlap, the final one at the stop included', async () => {
    const stream = uniqueStream('commit-overlap')
    await appendSequence(connection.client, stream, 3)
    const kafka = scriptedKafka()
    kafka.behaviour = (send) => send.answer('deliverAll')
    const committed: ResumePoint[] = []
    const held: Array<() => void> = []
    let inFlight = 0
    let most = 0
    const run = start(kafka, streamSettings(stream, { 'autocommit:interval': '20', 'autocommit:recordsThreshold': '1' }), {
      tuning: { lagSampleIntervalMs: 20 },
      commitCheckpoint: async (resume) => {
        most = Math.max(most, ++inFlight)
        await new Promise<void>((resolve) => held.push(resolve))
        inFlight--
        committed.push(resume)
      },
    })
    await eventually('a commit in progress', () => held.length === 1)
    await appendSequence(connection.client, stream, 2, 3)
    await kafka.deliveredUntil((delivered) => delivered.length === 5)
    // Commit triggers (the 20 ms timer, each confirmed batch) meanwhile find the first commit still in progress.
    await samplesLater(run, 5)
    expect(held).toHaveLength(1)
    run.stop()
    let ended = false
    void run.ended.finally(() => (ended = true))
    while (!ended) {
      held.shift()?.()
      await Bun.sleep(5)
    }
    expect(most).toBe(1)
    expect(Number(committed.at(-1)!.revision)).toBe(4)
  })

  test('the failure limit counts one streak of failures: a commit that succeeds starts it again', async () => {
    const stream = uniqueStream('commit-streak')
    await appendSequence(connection.client, stream, 1)
    const kafka = scriptedKafka()
    kafka.behaviour = (send) => send.answer('deliverAll')
    const committed: ResumePoint[] = []
    let failNext = 1
    const run = start(kafka, streamSettings(stream, { 'autocommit:interval': '20' }), {
      tuning: { commitFailureLimitMs: 200 },
      commitCheckpoint: async (resume) => {
        if (failNext > 0) {
          failNext--
          throw new Error('not now')
        }
        committed.push(resume)
      },
    })
    let failed: unknown
    run.ended.catch((error: unknown) => (failed = error))
    await eventually('a commit after the first failure', () => committed.length === 1)
    // Longer than the limit since that first failure.
    await Bun.sleep(300)
    failNext = 1
    await appendSequence(connection.client, stream, 1, 1)
    await eventually('a commit after the second failure, or the run failing', () => failed !== undefined || committed.some((resume) => resume.revision === 1n))
    expect(failed).toBeUndefined()
    expect(run.metrics.counts.commitFailures).toBe(2)
    run.stop()
    await run.ended
  })
})

describe('closing the Kafka client', () => {
  test('a clean stop closes it with a flush, a failed run without', async () => {
    const stream = uniqueStream('close-flush')
    await appendSequence(connection.client, stream, 1)
    const clean = scriptedKafka()
    clean.behaviour = (send) => send.answer('deliverAll')
    const stopped = start(clean, streamSettings(stream))
    await clean.deliveredUntil((delivered) => delivered.length === 1)
    stopped.stop()
    await stopped.ended
    expect(clean.closeOptions).toEqual([{ flush: true }])
    // Nothing was in flight: the stop did not wait for the grace period to abandon anything.
    expect(stopped.logs.some((line) => String(line.message).startsWith('stop grace period over'))).toBe(false)

    const failing = scriptedKafka()
    const rejected = new KafkaSendError({ code: 'AUTHORIZATION_FAILED', transient: false, message: 'not allowed' })
    failing.behaviour = (send) => send.answer(send.messages.map(() => ({ delivered: false, error: rejected })))
    const failed = start(failing, streamSettings(stream))
    await expect(failed.ended).rejects.toMatchObject({ kafkaError: rejected })
    expect(failing.closeOptions).toEqual([{ flush: false }])
  })

  test('a close that fails is logged, and the run still ends as it would have', async () => {
    const stream = uniqueStream('close-fails')
    await appendSequence(connection.client, stream, 1)
    const kafka = scriptedKafka()
    kafka.behaviour = (send) => send.answer('deliverAll')
    kafka.closeFailure = new Error('socket hang up')
    const run = start(kafka, streamSettings(stream))
    await kafka.deliveredUntil((delivered) => delivered.length === 1)
    run.stop()
    await run.ended
    const warned = run.logs.find((line) => line.message === 'closing the Kafka client failed')
    expect(warned).toMatchObject({ level: 'warn' })
    expect(JSON.stringify(warned!.error)).toContain('socket hang up')
    expect(committedRevisions(run)).toEqual([0])
  })
})

describe('after the run ended by itself', () => {
  test('a stop and the run\'s timers do nothing more', async () => {
    const tuning = { stallAfterMs: 100, lagSampleIntervalMs: 20, stopGraceMs: 20 }
    const stream = uniqueStream('ended-fatal')
    await appendSequence(connection.client, stream, 2)
    const kafka = scriptedKafka()
    const tooLarge = new KafkaSendError({ code: 'MESSAGE_TOO_LARGE', transient: false, message: 'too large' })
    // Revision 0 delivered, revision 1 refused: the run ends with records in flight.
    kafka.behaviour = (send) => send.answer(send.revisions.map((revision) => (revision === 1 ? { delivered: false, error: tooLarge } : { delivered: true })))
    const run = start(kafka, streamSettings(stream), { tuning })
    await run.ended.catch(() => undefined)
    const snapshot = () => ({ closed: kafka.closed(), lags: run.metrics.lags.length, stalled: run.metrics.stalledValues.length, signals: run.signals.length, logs: run.logs.length, commits: run.commits.length })
    const before = snapshot()
    run.stop()

    // The positive marker: a run with the same timers stalls and samples the lag.
    const markerStream = uniqueStream('ended-marker')
    await appendSequence(connection.client, markerStream, 1)
    const markerKafka = scriptedKafka()
    const marker = start(markerKafka, streamSettings(markerStream), { tuning })
    await markerKafka.nthSend(1)
    await eventually('the marker run stalls', () => stallReported(marker), 5_000)
    await samplesLater(marker, 3)
    expect(snapshot()).toEqual(before)
    marker.subscription.unsubscribe()
  })

  test('a checkpoint still uncommitted when the run ended is not tried again', async () => {
    const stream = uniqueStream('ended-uncommitted')
    await appendSequence(connection.client, stream, 1)
    const kafka = scriptedKafka()
    kafka.behaviour = (send) => send.answer('deliverAll')
    let attempts = 0
    const run = start(kafka, streamSettings(stream, { 'autocommit:interval': '20' }), {
      tuning: { lagSampleIntervalMs: 20 },
      commitCheckpoint: async () => {
        attempts++
        throw new Error('KurrentDB is read-only')
      },
    })
    await eventually('a failed commit', () => attempts > 0)
    run.stop()
    await run.ended
    const after = attempts
    // Several commit intervals later (a marker run's lag samples, 20 ms apart).
    const marker = start(scriptedKafka(), streamSettings(uniqueStream('uncommitted-marker')), { tuning: { lagSampleIntervalMs: 20 } })
    await samplesLater(marker, 5)
    expect(attempts).toBe(after)
    marker.subscription.unsubscribe()
  })
})

describe('delivery settings', () => {
  test('waitForBrokerAck=true (the default): one batch in flight at a time', async () => {
    const stream = uniqueStream('one-in-flight')
    await appendSequence(connection.client, stream, 12)
    const kafka = scriptedKafka()
    let outstanding = 0
    let most = 0
    kafka.behaviour = (send) => {
      most = Math.max(most, ++outstanding)
      setTimeout(() => {
        outstanding--
        send.answer('deliverAll')
      }, 2)
    }
    const run = start(kafka, streamSettings(stream), { tuning: { maxBatchMessages: 2, lingerMs: 1 } })
    await kafka.deliveredUntil((delivered) => delivered.length === 12)
    expect(kafka.sends.length).toBeGreaterThanOrEqual(6)
    expect(most).toBe(1)
    run.stop()
    await run.ended
  })

  // Kafka's producer keeps filling a partition's batch while its requests are in flight, and sends it as soon as a
  // request can go: events that arrive during a send neither wait for more events nor go out one send each.
  test('waitForBrokerAck=true: events read while the send in flight is held go out together in the next send, as soon as it is confirmed', async () => {
    const stream = uniqueStream('fill-while-busy')
    await appendSequence(connection.client, stream, 1)
    const kafka = scriptedKafka()
    const run = start(kafka, streamSettings(stream), { tuning: { lingerMs: 1 } })
    const first = await kafka.nthSend(1)
    expect(first.revisions).toEqual([0])
    // One append at a time, each read before the next (so the 1 ms linger passes between them).
    for (let revision = 1; revision <= 5; revision++) {
      await appendSequence(connection.client, stream, 1, revision)
      await eventually(`event ${revision} read`, () => run.metrics.consumed() === revision + 1)
      // Not what the test waits for (the send made is): past the linger, so a sender handed each lingered batch at
      // once would have been given several.
      await Bun.sleep(3)
    }
    expect(kafka.sends.length).toBe(1)
    first.answer('deliverAll')
    // No event is appended after the confirmation: the waiting batch must go out on its own.
    const second = await kafka.nthSend(2)
    expect(second.revisions).toEqual([1, 2, 3, 4, 5])
    second.answer('deliverAll')
    await kafka.deliveredUntil((delivered) => delivered.length === 6)
    run.stop()
    await run.ended
  })

  test('resilience:enabled=false: the first transient failure ends the run, nothing committed', async () => {
    const stream = uniqueStream('resilience-off')
    await appendSequence(connection.client, stream, 1)
    const kafka = scriptedKafka()
    kafka.behaviour = (send) => send.answer('failAll')
    const run = start(kafka, streamSettings(stream, { 'resilience:enabled': 'false' }))
    const error = await run.ended.then(() => undefined, (caught: unknown) => caught)
    expect((error as Error).name).toBe('RetriesExhaustedError')
    expect(kafka.sends).toHaveLength(1)
    expect(run.commits).toEqual([])
  })

  test('resilience:maxRetries=2: three attempts, then the run fails', async () => {
    const stream = uniqueStream('max-retries')
    await appendSequence(connection.client, stream, 1)
    const kafka = scriptedKafka()
    kafka.behaviour = (send) => send.answer('failAll')
    const run = start(kafka, streamSettings(stream, { 'resilience:maxRetries': '2', 'resilience:transientErrorDelay': '00:00:00.001', 'resilience:reconnectBackoffMaxMs': '2' }))
    const error = await run.ended.then(() => undefined, (caught: unknown) => caught)
    expect((error as Error).name).toBe('RetriesExhaustedError')
    expect(kafka.sends).toHaveLength(3)
    expect(run.commits).toEqual([])
  })
})

describe('more of the run', () => {
  test('the in-flight window bounds what is read, by count and by bytes; everything arrives once Kafka is back', async () => {
    for (const tuning of [{ maxInFlightItems: 3 }, { maxInFlightBytes: 1 }]) {
      const stream = uniqueStream('window')
      await appendSequence(connection.client, stream, 20)
      const kafka = scriptedKafka()
      kafka.behaviour = (send) => send.answer('failAll')
      const run = start(kafka, streamSettings(stream, { 'resilience:transientErrorDelay': '00:00:00.002', 'resilience:reconnectBackoffMaxMs': '2' }), { tuning: { ...tuning, lingerMs: 1 } })
      await kafka.nthSend(10)
      // By bytes, the item that exhausts the window is the last one read (here: the first).
      expect(run.metrics.consumed()).toBe(tuning.maxInFlightItems ?? 1)
      kafka.behaviour = (send) => send.answer('deliverAll')
      await eventually('every event delivered', () => new Set(kafka.delivered.map(revisionOf)).size === 20, 5_000)
      run.stop()
      await run.ended
    }
  })

  test('a filtered $all run commits log positions only, and moves past the events its filter leaves out', async () => {
    const prefix = `allscope${randomUUID().slice(0, 8)}`
    const matching = await connection.client.appendToStream(`${prefix}-a`, [jsonEvent({ type: 'T', data: {} })])
    for (let index = 0; index < 6; index++) await connection.client.appendToStream(`other-${prefix}`, [jsonEvent({ type: 'T', data: {} })])
    const kafka = scriptedKafka()
    kafka.behaviour = (send) => send.answer('deliverAll')
    const run = start(
      kafka,
      sinkSettings({ 'subscription:filter:scope': 'stream', 'subscription:filter:filterType': 'prefix', 'subscription:filter:expression': prefix, 'autocommit:recordsThreshold': '1', 'autocommit:interval': '20' }),
    )
    await kafka.deliveredUntil((delivered) => delivered.length === 1)
    await eventually('a commit past the delivered event', () => run.commits.some((resume) => resume.position!.commit > matching.position!.commit), 5_000)
    // The event itself, once more are confirmed after it (a threshold of 1 commits it alone).
    const second = await connection.client.appendToStream(`${prefix}-b`, [jsonEvent({ type: 'T', data: {} })])
    await eventually('the commit of the second event', () => run.commits.some((resume) => resume.position!.commit === second.position!.commit), 5_000)
    expect(run.commits.every((resume) => resume.revision === undefined)).toBe(true)
    expect(run.commits.every((resume) => resume.position!.commit <= second.position!.commit)).toBe(true)
    run.stop()
    await run.ended
  })

  test('a filtered $all run commits an event it delivered as its log position, without a stream revision', async () => {
    const prefix = `allrevision${randomUUID().slice(0, 8)}`
    const appended = await connection.client.appendToStream(`${prefix}-a`, [jsonEvent({ type: 'T', data: {} }), jsonEvent({ type: 'T', data: {} })])
    const kafka = scriptedKafka()
    kafka.behaviour = (send) => send.answer('deliverAll')
    const run = start(kafka, sinkSettings({ 'subscription:filter:scope': 'stream', 'subscription:filter:filterType': 'prefix', 'subscription:filter:expression': prefix }))
    await eventually('the commit of the last event', () => run.commits.some((resume) => resume.position!.commit === appended.position!.commit), 5_000)
    expect(run.commits.at(-1)).toEqual({ position: appended.position!, revision: undefined })
    run.stop()
    await run.ended
  })

  test("a filtered $all run: a server checkpoint is committed by the threshold, not on its own", async () => {
    const prefix = `allthreshold${randomUUID().slice(0, 8)}`
    // From the end of $all: nothing to catch up with, so the first event read is the first scanned.
    const end = await connection.client.appendToStream(`other-${prefix}`, [jsonEvent({ type: 'T', data: {} })])
    const kafka = scriptedKafka()
    kafka.behaviour = (send) => send.answer('deliverAll')
    const run = start(
      kafka,
      sinkSettings({ 'subscription:filter:scope': 'stream', 'subscription:filter:filterType': 'prefix', 'subscription:filter:expression': prefix, 'autocommit:recordsThreshold': '5', 'autocommit:interval': '60000' }),
      { start: { kind: 'after', position: end.position! }, tuning: { lingerMs: 1 } },
    )
    await eventually('caught up', () => run.signals.some((signal) => signal.kind === 'caughtUp'))
    const first = await connection.client.appendToStream(`${prefix}-a`, [jsonEvent({ type: 'T', data: {} })])
    // Committed at once: the run caught up since its last commit.
    await eventually('the commit of the first event', () => run.commits.some((resume) => resume.position!.commit === first.position!.commit), 5_000)
    const committedBefore = run.commits.length
    // Nine more scanned events, a checkpoint every five: one or two checkpoints, at most three items since that commit.
    for (let index = 0; index < 8; index++) await connection.client.appendToStream(`other-${prefix}`, [jsonEvent({ type: 'T', data: {} })])
    await connection.client.appendToStream(`${prefix}-b`, [jsonEvent({ type: 'T', data: {} })])
    await eventually('the second event confirmed', () => run.metrics.produced() === 2, 5_000)
    expect(run.commits).toHaveLength(committedBefore)
    run.stop()
    await run.ended
    expect(run.commits).toHaveLength(committedBefore + 1)
  })

  test('a JSONPath filter: records it leaves out are not sent, and the checkpoint still moves past them', async () => {
    const tag = randomUUID().slice(0, 8)
    const stream = uniqueStream('json-path')
    const before = await connection.client.appendToStream(stream, [jsonEvent({ type: 'T', data: { tag: 'before' } })])
    await connection.client.appendToStream(stream, [jsonEvent({ type: 'T', data: { tag, keep: true } })])
    const skipped = await connection.client.appendToStream(stream, [jsonEvent({ type: 'T', data: { tag, keep: false } })])
    const kafka = scriptedKafka()
    kafka.behaviour = (send) => send.answer('deliverAll')
    const run = start(kafka, sinkSettings({ 'subscription:filter:filterType': 'jsonPath', 'subscription:filter:expression': `$[?@.tag == '${tag}' && @.keep == true]` }), {
      start: { kind: 'after', position: before.position! },
    })
    await eventually('a commit of the skipped record', () => run.commits.some((resume) => resume.position!.commit === skipped.position!.commit), 5_000)
    expect(kafka.delivered.map((message) => JSON.parse(message.value.toString('utf8')))).toEqual([{ tag, keep: true }])
    run.stop()
    await run.ended
  })

  test('a port that cannot tell its retried errors: the stall is still reported', async () => {
    const stream = uniqueStream('no-last-retried')
    await appendSequence(connection.client, stream, 1)
    const kafka = scriptedKafka()
    const withoutRetries: ScriptedKafka = {
      ...kafka,
      open: () => {
        const { connect, send, close } = kafka.open()
        return { connect, send, close }
      },
    }
    const run = start(withoutRetries, streamSettings(stream), { tuning: { stallAfterMs: 100, stopGraceMs: 20 } })
    await kafka.nthSend(1)
    await eventually('a stall', () => stallReported(run), 5_000)
    expect(stalls(run)[0]).toMatchObject({ stall: { lastError: undefined } })
    run.stop()
    await run.ended
  })

  test('a fatal error while stopping still fails the run', async () => {
    const stream = uniqueStream('fatal-in-stop')
    await appendSequence(connection.client, stream, 1)
    const kafka = scriptedKafka()
    const run = start(kafka, streamSettings(stream), { tuning: { stopGraceMs: 60_000 } })
    const held = await kafka.nthSend(1)
    run.stop()
    const rejected = new KafkaSendError({ code: 'AUTHORIZATION_FAILED', transient: false, message: 'not allowed' })
    held.answer([{ delivered: false, error: rejected }])
    const error = await run.ended.then(() => undefined, (caught: unknown) => caught)
    expect((error as { kafkaError?: unknown }).kafkaError).toBe(rejected)
    expect(run.metrics.counts.processorErrors).toBe(1)
  })
})

// Last in the file on purpose: the second test needs this process to have run for a few seconds (see there).
describe('when a commit is due', () => {
  test('reaching the records threshold commits with that confirmation, before the next batch is sent', async () => {
    const stream = uniqueStream('threshold-at-confirm')
    await appendSequence(connection.client, stream, 20)
    const kafka = scriptedKafka()
    const run = start(kafka, streamSettings(stream, { 'autocommit:interval': '60000', 'autocommit:recordsThreshold': '10' }), { tuning: { maxBatchMessages: 10 } })
    ;(await kafka.nthSend(1)).answer('deliverAll')
    // With broker acks one send is in flight, so the second starts only once the first is confirmed.
    const second = await kafka.nthSend(2)
    expect(committedRevisions(run)).toEqual([9])
    second.answer('deliverAll')
    await eventually('the commit on catching up', () => committedRevisions(run).includes(19))
    run.stop()
    await run.ended
  })

  test('the interval counts from the last commit (the run start at first), not from when the clock began', async () => {
    // The monotonic clock starts with the process; an interval shorter than its reading but longer than this test
    // separates "time since the last commit" from anything that adds the clock's reading instead.
    const intervalMs = Math.max(5_000, Math.round(performance.now() * 0.75))
    const stream = uniqueStream('interval-from-commit')
    await appendSequence(connection.client, stream, 20)
    const kafka = scriptedKafka()
    const run = start(kafka, streamSettings(stream, { 'autocommit:interval': String(intervalMs), 'autocommit:recordsThreshold': '1000' }), { tuning: { maxBatchMessages: 10 } })
    ;(await kafka.nthSend(1)).answer('deliverAll')
    const second = await kafka.nthSend(2)
    // Neither the threshold nor the interval is due yet, and the run has not caught up: no commit.
    expect(run.commits).toEqual([])
    second.answer('deliverAll')
    await eventually('the commit on catching up', () => committedRevisions(run).includes(19))
    expect(committedRevisions(run)).toEqual([19])
    run.stop()
    await run.ended
  })
})

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, index) => from + index)
}
