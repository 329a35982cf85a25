/**
 * At-least-once under failure, checked with kcat: brokers going away, errors injected into Produce, the sink killed
 * with -9, and a fatal error that must stop the connector without the checkpoint passing the failed record.
 * Duplicates are allowed; a missing event or a key out of order is a failure. The KurrentDB outage and the crash
 * run against the mock cluster and a real Kafka (where Java is there); the injected faults need the mock.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { BACKWARDS, END, StreamNotFoundError } from '@kurrent/kurrentdb-client'
import { randomUUID } from 'node:crypto'
import { expectNoGaps, expectPerKeyOrder, type KcatRecord } from '../support/kcat.ts'
import { baseSettings, payloadOf, rigKafkas, startRig, type Rig } from '../support/rig.ts'
import { testKafkaEngine } from '../support/sink-process.ts'

let rig: Rig

const unique = (prefix: string) => `${prefix}${randomUUID().slice(0, 8)}`
const idOf = (record: KcatRecord) => `${payloadOf(record).stream}/${payloadOf(record).seq}`
const expectedIds = (streams: readonly string[], perStream: number) => streams.flatMap((stream) => Array.from({ length: perStream }, (_, seq) => `${stream}/${seq}`))

async function createAndStart(api: Awaited<ReturnType<Rig['startSink']>>['api'], settings: Record<string, unknown>): Promise<string> {
  const connectorId = unique('resilience-')
  expect((await api.request('POST', `/connectors/${connectorId}`, { settings })).status).toBe(200)
  expect((await api.request('POST', `/connectors/${connectorId}/start`)).status).toBe(200)
  await api.waitForState(connectorId, 'CONNECTOR_STATE_RUNNING')
  return connectorId
}

async function lastCheckpoint(connectorId: string): Promise<bigint | undefined> {
  try {
    for await (const resolved of rig.client.readStream(`$kafka-sink/${connectorId}/checkpoints`, { direction: BACKWARDS, fromRevision: END, maxCount: 1 })) {
      const data = resolved.event?.data as { commitPosition?: string } | undefined
      return data?.commitPosition === undefined ? undefined : BigInt(data.commitPosition)
    }
  } catch (error) {
    if (!(error instanceof StreamNotFoundError)) throw error
  }
  return undefined
}

/** Appends `perStream` events to each stream in rounds, so an outage falls in the middle of the flow. */
async function appendInRounds(streams: readonly string[], perStream: number, rounds: number, betweenRounds: (round: number) => Promise<void>) {
  const perRound = perStream / rounds
  for (let round = 0; round < rounds; round++) {
    await Promise.all(streams.map((stream) => rig.appendEvents(stream, perRound, { firstSeq: round * perRound })))
    await betweenRounds(round)
  }
}

describe.each(rigKafkas())('%s Kafka', (kafka) => {
  beforeAll(async () => {
    rig = await startRig({ kafka })
  }, 120_000) // a real Kafka's JVM takes seconds to start on a busy machine
  afterAll(async () => {
    await rig?.close()
  })

  if (kafka === 'mock') describe('transient Kafka failures', () => {
    test('all brokers down for 10 s mid-stream: every event arrives afterwards, per-key order kept', async () => {
      const sink = await rig.startSink()
      const topic = await rig.createTopic()
      const prefix = unique('Outage-')
      const streams = Array.from({ length: 5 }, (_, index) => `${prefix}-${index}`)
      await createAndStart(sink.api, baseSettings(topic, rig.bootstrapServers, { 'subscription:filter:scope': 'stream', 'subscription:filter:filterType': 'prefix', 'subscription:filter:expression': prefix }))
      await appendInRounds(streams, 600, 3, async (round) => {
        if (round !== 0) return
        await rig.readTopic(topic, 1)
        await rig.broker.setAllBrokersDown()
        await Bun.sleep(10_000)
        await rig.broker.setAllBrokersUp()
      })
      const records = await rig.readTopic(topic, 3_000, 90_000, idOf)
      expectNoGaps(records, expectedIds(streams, 600), idOf)
      expectPerKeyOrder(records, (record) => payloadOf(record).seq)
      await sink.stop()
    }, 180_000)

    test('UNKNOWN_PRODUCER_ID and OUT_OF_ORDER_SEQUENCE_NUMBER on Produce are retried; nothing is lost', async () => {
      const sink = await rig.startSink()
      const topic = await rig.createTopic()
      const prefix = unique('Injected-')
      const streams = Array.from({ length: 4 }, (_, index) => `${prefix}-${index}`)
      await createAndStart(sink.api, baseSettings(topic, rig.bootstrapServers, { 'subscription:filter:scope': 'stream', 'subscription:filter:filterType': 'prefix', 'subscription:filter:expression': prefix }))
      // A client may get over one producer-state error per request by itself (a new producer id, then one resend),
      // and with waitForBrokerAck one batch at a time reaches at most the 3 brokers: four errors in a row are more
      // than its first attempts can absorb, so at least one reaches the sink's own retry and its error counter.
      // Each set is pushed once the previous round has arrived, so the errors of one round do not pile up behind
      // the next round's retries (their backoff would grow to many seconds).
      // The librdkafka engine sends several requests per partition at once. The mock does not check an idempotent
      // producer's sequence numbers, so when the first of them gets an injected error the next one lands anyway, and
      // librdkafka rightly counts the first as written (a broker keeps a partition's batches in sequence order): a
      // record missing that no Kafka broker could lose (it refuses a new epoch's batch that does not start at
      // sequence 0). So its rounds are one event per stream, at most one request per partition.
      const plan = testKafkaEngine === 'librdkafka' ? { perStream: 8, rounds: 8 } : { perStream: 400, rounds: 4 }
      const errors = ['UNKNOWN_PRODUCER_ID', 'OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'OUT_OF_ORDER_SEQUENCE_NUMBER'] as const
      const perRound = (plan.perStream / plan.rounds) * streams.length
      let records: KcatRecord[]
      try {
        await appendInRounds(streams, plan.perStream, plan.rounds, async (round) => {
          if (round === plan.rounds - 1) return
          await rig.readTopic(topic, (round + 1) * perRound, 30_000, idOf)
          await rig.broker.pushRequestErrors('Produce', errors)
        })
        records = await rig.readTopic(topic, plan.perStream * streams.length, 60_000, idOf)
      } finally {
        // Errors left queued would fail the next test's requests.
        await rig.broker.clearRequestErrors('Produce')
      }
      expectNoGaps(records, expectedIds(streams, plan.perStream), idOf)
      expectPerKeyOrder(records, (record) => payloadOf(record).seq)
      const metrics = await sink.api.request('GET', '/metrics')
      expect(metrics.text).toMatch(/kurrent_sink_errors_total\{connector_id="[^"]+"\} [1-9]/)
      await sink.stop()
    }, 120_000)
  })

  describe('KurrentDB outages', () => {
    test('KurrentDB down for a few seconds mid-stream: the subscription reconnects after the last event read, no gaps', async () => {
      const sink = await rig.startSink()
      const topic = await rig.createTopic()
      const prefix = unique('KurrentDbOutage-')
      const streams = Array.from({ length: 3 }, (_, index) => `${prefix}-${index}`)
      const connectorId = await createAndStart(sink.api, baseSettings(topic, rig.bootstrapServers, { 'subscription:filter:scope': 'stream', 'subscription:filter:filterType': 'prefix', 'subscription:filter:expression': prefix }))
      await Promise.all(streams.map((stream) => rig.appendEvents(stream, 300)))
      await rig.readTopic(topic, 300)
      await rig.emulator.down()
      await Bun.sleep(3_000)
      await rig.emulator.up()
      await Promise.all(streams.map((stream) => rig.appendEvents(stream, 300, { firstSeq: 300 })))
      const records = await rig.readTopic(topic, 1_800, 60_000, idOf)
      expectNoGaps(records, expectedIds(streams, 600), idOf)
      expectPerKeyOrder(records, (record) => payloadOf(record).seq)
      expect((await sink.api.connector(connectorId))?.state).toBe('CONNECTOR_STATE_RUNNING')
      expect(sink.lines().some((line) => line.includes('KurrentDB subscription interrupted; reconnecting'))).toBe(true)
      // The lag gauge is sampled every 5 s; commit latency is observed on every checkpoint.
      await Bun.sleep(5_500)
      const metrics = (await sink.api.request('GET', '/metrics')).text
      expect(metrics).toMatch(new RegExp(`messaging_kurrent_consumer_lag\\{connector_id="${connectorId}"\\} \\d+`))
      expect(metrics).toMatch(new RegExp(`messaging_kurrent_consumer_commit_latency_s_count\\{connector_id="${connectorId}"\\} [1-9]`))
      await sink.stop()
    }, 120_000)
  })

  describe('crashes', () => {
    test('kill -9 mid-stream, restart: nothing lost, duplicates only after the last checkpoint', async () => {
      const first = await rig.startSink()
      const topic = await rig.createTopic()
      const prefix = unique('Crash-')
      const streams = Array.from({ length: 4 }, (_, index) => `${prefix}-${index}`)
      const connectorId = await createAndStart(first.api, baseSettings(topic, rig.bootstrapServers, {
        'subscription:filter:scope': 'stream',
        'subscription:filter:filterType': 'prefix',
        'subscription:filter:expression': prefix,
        'autocommit:recordsThreshold': '200',
      }))
      await Promise.all(streams.map((stream) => rig.appendEvents(stream, 2_500)))
      await rig.readTopic(topic, 2_000, 60_000)
      expect(await first.stop('SIGKILL')).toBeNull()
      const checkpoint = await lastCheckpoint(connectorId)
      expect(checkpoint).toBeDefined()
      // Appended after the kill, so the restart has work whatever the killed run had delivered: the test cannot pass
      // vacuously because everything arrived before the kill.
      await Promise.all(streams.map((stream) => rig.appendEvents(stream, 500, { firstSeq: 2_500 })))

      const second = await rig.startSink()
      await second.api.waitForState(connectorId, 'CONNECTOR_STATE_RUNNING')
      const records = await rig.readTopic(topic, 12_000, 120_000, idOf)
      const { duplicates } = expectNoGaps(records, expectedIds(streams, 3_000), idOf)
      expectPerKeyOrder(records, (record) => payloadOf(record).seq)
      // Only what the checkpoint did not cover may come twice.
      const positionOf = (record: KcatRecord) => BigInt(record.headers.find(([name]) => name === 'esdb-record-log-position')![1])
      const counts = new Map<string, number>()
      for (const record of records) counts.set(idOf(record), (counts.get(idOf(record)) ?? 0) + 1)
      const duplicated = records.filter((record) => counts.get(idOf(record))! > 1)
      expect(duplicated.every((record) => positionOf(record) > checkpoint!)).toBe(true)
      expect(duplicates).toBe(duplicated.length / 2)
      await second.stop()
    }, 180_000)
  })

  describe('shutdown', () => {
    test('SIGTERM while Kafka cannot be reached: the sink exits well within the 30 s a container runtime grants', async () => {
      const sink = await rig.startSink()
      const connectorId = `unreachable-${randomUUID()}`
      // Nothing listens on loopback port 9 (discard): every connection to that "broker" is refused.
      expect((await sink.api.request('POST', `/connectors/${connectorId}`, { settings: baseSettings(`unreachable-${randomUUID()}`, '127.0.0.1:9') })).status).toBe(200)
      expect((await sink.api.request('POST', `/connectors/${connectorId}/start`)).status).toBe(200)
      await sink.waitForLine((line) => line.includes('"connector starting"') && line.includes(connectorId))
      // Kubernetes, Docker and systemd wait 30 s (by default) before SIGKILL; a shutdown that needs most of it is one
      // a slow node turns into a kill.
      const exit = await Promise.race([sink.stop(), Bun.sleep(20_000).then(() => 'still running 20 s after SIGTERM')])
      expect(exit).toBe(0)
    })
  })

  if (kafka === 'mock') describe('fatal errors', () => {
    test('MESSAGE_TOO_LARGE stops the connector with the error visible; the checkpoint stays before the failed record', async () => {
      const sink = await rig.startSink()
      const topic = await rig.createTopic({ partitions: 1, replicationFactor: 1 })
      const stream = unique('Fatal-')
      await rig.appendEvents(stream, 20)
      const connectorId = await createAndStart(sink.api, baseSettings(topic, rig.bootstrapServers, {
        'subscription:filter:scope': 'stream',
        'subscription:filter:filterType': 'streamId',
        'subscription:filter:expression': stream,
        'autocommit:interval': '100',
      }))
      await rig.readTopic(topic, 20)
      let checkpoint: bigint | undefined
      for (let attempt = 0; attempt < 50 && checkpoint === undefined; attempt++) {
        checkpoint = await lastCheckpoint(connectorId)
        if (checkpoint === undefined) await Bun.sleep(100)
      }
      await rig.broker.pushRequestErrors('Produce', ['MESSAGE_TOO_LARGE'])
      await rig.appendEvents(stream, 1, { firstSeq: 20 })

      const stopped = await sink.api.waitForState(connectorId, 'CONNECTOR_STATE_STOPPED')
      const errorDetails = stopped.errorDetails as { code: string; message: string }
      expect(errorDetails.code).toBe('MESSAGE_TOO_LARGE')
      expect(errorDetails.message.length).toBeGreaterThan(0)
      const records = await rig.readTopic(topic)
      expect(records.map((record) => payloadOf(record).seq)).toEqual(Array.from({ length: 20 }, (_, seq) => seq))
      const lastDelivered = BigInt(records.at(-1)!.headers.find(([name]) => name === 'esdb-record-log-position')![1])
      expect(await lastCheckpoint(connectorId)).toBe(lastDelivered)
      expect(stopped.position).toBe(lastDelivered.toString())

      // Nothing was skipped: once the cause is gone, a plain start delivers the record that failed.
      expect((await sink.api.request('POST', `/connectors/${connectorId}/start`)).status).toBe(200)
      const after = await rig.readTopic(topic, 21)
      expect(after.map((record) => payloadOf(record).seq)).toEqual(Array.from({ length: 21 }, (_, seq) => seq))
      await sink.stop()
    }, 120_000)
  })
})
