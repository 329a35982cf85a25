/**
 * Failures that used to be silent: checkpoint commits that keep failing, state changes that could not be written,
 * and a connector with events to deliver that makes no progress. Each must show in GET /connectors, /metrics and
 * /health/ready, against the binary and the rig (KurrentDB taken down through the emulator process, Kafka through
 * the mock broker's fault injection).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { randomUUID } from 'node:crypto'
import { baseSettings, payloadOf, startRig, type Rig } from '../support/rig.ts'

let rig: Rig

beforeAll(async () => {
  rig = await startRig({ brokers: 1 })
})
afterAll(async () => {
  await rig?.close()
})

type Sink = Awaited<ReturnType<Rig['startSink']>>

const unique = (prefix: string) => `${prefix}${randomUUID().slice(0, 8)}`

async function createAndStart(sink: Sink, settings: Record<string, unknown>): Promise<string> {
  const connectorId = unique('visible-')
  expect((await sink.api.request('POST', `/connectors/${connectorId}`, { settings })).status).toBe(200)
  expect((await sink.api.request('POST', `/connectors/${connectorId}/start`)).status).toBe(200)
  await sink.api.waitForState(connectorId, 'CONNECTOR_STATE_RUNNING')
  return connectorId
}

async function metricValue(sink: Sink, name: string, connectorId: string): Promise<number | undefined> {
  const text = (await sink.api.request('GET', '/metrics')).text
  const line = text.split('\n').find((each) => each.startsWith(`${name}{connector_id="${connectorId}"} `))
  return line === undefined ? undefined : Number(line.split(' ').at(-1))
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: T | undefined
  while (Date.now() < deadline) {
    last = await probe().catch(() => undefined)
    if (last !== undefined) return last
    await Bun.sleep(100)
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms`)
}

async function readiness(sink: Sink): Promise<{ status: number; message: string }> {
  const response = await sink.api.request('GET', '/health/ready')
  return { status: response.status, message: (response.body as { message?: string }).message ?? '' }
}

describe('checkpoint commits that keep failing', () => {
  test('are counted, stop the connector with the reason after the limit, and the failure is written once KurrentDB is back', async () => {
    const sink = await rig.startSink({ args: ['--commit-failure-limit', '2s'] })
    const topic = await rig.createTopic({ partitions: 1, replicationFactor: 1 })
    const stream = unique('CommitFails-')
    const connectorId = await createAndStart(sink, baseSettings(topic, rig.broker.bootstrapServers, {
      'subscription:filter:scope': 'stream',
      'subscription:filter:filterType': 'streamId',
      'subscription:filter:expression': stream,
      // Commit as soon as anything is confirmed: the commit then falls in the KurrentDB outage below.
      'autocommit:recordsThreshold': '1',
    }))

    // Events read while Kafka is down stay unconfirmed; KurrentDB goes down before Kafka comes back and confirms them.
    await rig.broker.setAllBrokersDown()
    await rig.appendEvents(stream, 5)
    await waitFor('reading the 5 events', async () => ((await metricValue(sink, 'messaging_kurrent_consumer_message_count', connectorId)) ?? 0) >= 5 || undefined)
    await rig.emulator.down()
    try {
      await rig.broker.setAllBrokersUp()
      expect((await rig.readTopic(topic, 5, 60_000)).map((record) => payloadOf(record).seq)).toEqual([0, 1, 2, 3, 4])
      await waitFor('a counted commit failure', async () => ((await metricValue(sink, 'kafka_sink_checkpoint_commit_failures_total', connectorId)) ?? 0) >= 1 || undefined)
      // The run has failed; its `failed` state cannot be written while KurrentDB is down, and readiness says so.
      await waitFor('readiness naming the unwritten state', async () => {
        const ready = await readiness(sink)
        return ready.status === 503 && ready.message.includes(`state changes not yet written to KurrentDB for connectors ${connectorId}`) ? ready : undefined
      })
      // Longer than the ten attempts (about 36 s) after which a state change used to be dropped.
      await Bun.sleep(40_000)
    } finally {
      await rig.emulator.up()
    }
    const stopped = await sink.api.waitForState(connectorId, 'CONNECTOR_STATE_STOPPED', 30_000)
    const errorDetails = stopped.errorDetails as { code: string; message: string } | undefined
    expect(errorDetails?.code).toBe('CHECKPOINT_COMMIT_FAILED')
    expect(errorDetails?.message).toContain('checkpoint commits to KurrentDB have failed')
    await waitFor('readiness once the state is written', async () => ((await readiness(sink)).status === 200 ? true : undefined))
    // Nothing was skipped: a start replays from the last checkpoint written, so the 5 arrive (again, at least once).
    expect((await sink.api.request('POST', `/connectors/${connectorId}/start`)).status).toBe(200)
    const records = await rig.readTopic(topic, 10, 60_000)
    expect(records.map((record) => payloadOf(record).seq)).toEqual([0, 1, 2, 3, 4, 0, 1, 2, 3, 4])
    await sink.stop()
  }, 240_000)
})

describe('a connector that has events to deliver and makes no progress', () => {
  test('shows `stalled` in GET /connectors, the stalled gauge, and fails readiness with --ready-fails-on-stall', async () => {
    const sink = await rig.startSink({ args: ['--stall-after', '2s', '--ready-fails-on-stall'] })
    const topic = await rig.createTopic({ partitions: 1, replicationFactor: 1 })
    const stream = unique('Stall-')
    const connectorId = await createAndStart(sink, baseSettings(topic, rig.broker.bootstrapServers, {
      'subscription:filter:scope': 'stream',
      'subscription:filter:filterType': 'streamId',
      'subscription:filter:expression': stream,
    }))
    expect(await metricValue(sink, 'kafka_sink_connector_stalled', connectorId)).toBe(0)
    expect((await sink.api.connector(connectorId))?.stalled).toBeUndefined()

    await rig.broker.setAllBrokersDown()
    try {
      const appendedAt = Date.now()
      await rig.appendEvents(stream, 3)
      const stalled = await waitFor('the stalled field', async () => (await sink.api.connector(connectorId))?.stalled as { since: string; lastError?: string } | undefined)
      expect(Date.parse(stalled.since)).toBeGreaterThanOrEqual(appendedAt - 1_000)
      // Why: the brokers refuse connections, as the client's retried error says.
      const explained = await waitFor('the stall to carry the last error', async () => {
        const current = (await sink.api.connector(connectorId))?.stalled as { lastError?: string } | undefined
        return current?.lastError
      })
      expect(explained).toMatch(/BROKERS_UNAVAILABLE|ECONNREFUSED/)
      expect((await sink.api.connector(connectorId))?.state).toBe('CONNECTOR_STATE_RUNNING')
      expect(await metricValue(sink, 'kafka_sink_connector_stalled', connectorId)).toBe(1)
      const ready = await readiness(sink)
      expect(ready.status).toBe(503)
      expect(ready.message).toContain(`stalled connectors: ${connectorId}`)
    } finally {
      await rig.broker.setAllBrokersUp()
    }

    expect((await rig.readTopic(topic, 3, 60_000)).map((record) => payloadOf(record).seq)).toEqual([0, 1, 2])
    await waitFor('the stall to clear', async () => ((await sink.api.connector(connectorId))?.stalled === undefined ? true : undefined))
    expect(await metricValue(sink, 'kafka_sink_connector_stalled', connectorId)).toBe(0)
    await waitFor('readiness again', async () => ((await readiness(sink)).status === 200 ? true : undefined))
    await sink.stop()
  }, 120_000)

  test('without --ready-fails-on-stall a stall shows, and readiness stays 200', async () => {
    const sink = await rig.startSink({ args: ['--stall-after', '1s'] })
    const topic = await rig.createTopic({ partitions: 1, replicationFactor: 1 })
    const stream = unique('StallReady-')
    const connectorId = await createAndStart(sink, baseSettings(topic, rig.broker.bootstrapServers, {
      'subscription:filter:scope': 'stream',
      'subscription:filter:filterType': 'streamId',
      'subscription:filter:expression': stream,
    }))
    await rig.broker.setAllBrokersDown()
    try {
      await rig.appendEvents(stream, 1)
      await waitFor('the stalled field', async () => (await sink.api.connector(connectorId))?.stalled)
      expect((await readiness(sink)).status).toBe(200)
    } finally {
      await rig.broker.setAllBrokersUp()
    }
    expect((await rig.readTopic(topic, 1, 60_000)).map((record) => payloadOf(record).seq)).toEqual([0])
    await sink.stop()
  }, 120_000)
})
