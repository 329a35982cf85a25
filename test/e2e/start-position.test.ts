/**
 * Where a connector starts, against the binary: `subscription:initialPosition: latest` means the end of the log *at
 * the first start*, so whatever is appended after the connector reported RUNNING is delivered, even when it was
 * stopped, killed or lost its subscription before its first event. Nothing appended before the first start is sent.
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

const unique = (prefix: string) => `${prefix}${randomUUID().slice(0, 8)}`

/** Both read paths: a filtered `$all` subscription (prefix) and a single-stream subscription (streamId). */
const readPaths = [
  { name: 'a prefix filter ($all)', filter: (stream: string) => ({ 'subscription:filter:filterType': 'prefix', 'subscription:filter:expression': stream }) },
  { name: 'a streamId filter (one stream)', filter: (stream: string) => ({ 'subscription:filter:filterType': 'streamId', 'subscription:filter:expression': stream }) },
]

function latestSettings(topic: string, filter: Record<string, string>): Record<string, unknown> {
  return baseSettings(topic, rig.broker.bootstrapServers, { 'subscription:initialPosition': 'latest', 'subscription:filter:scope': 'stream', ...filter })
}

/** The seqs in the topic once `count` records are there (readTopic waits for them). */
async function seqsIn(topic: string, count: number): Promise<number[]> {
  return (await rig.readTopic(topic, count, 30_000)).map((record) => payloadOf(record).seq)
}

describe('initialPosition latest remembers where the first start was', () => {
  for (const path of readPaths) {
    test(`${path.name}: start, RUNNING, stop, append 3, start: the 3 arrive, nothing from before`, async () => {
      const sink = await rig.startSink()
      const topic = await rig.createTopic({ partitions: 1, replicationFactor: 1 })
      const stream = unique('Latest-')
      await rig.appendEvents(stream, 2, { firstSeq: 0 })
      const connectorId = unique('latest-stop-')
      expect((await sink.api.request('POST', `/connectors/${connectorId}`, { settings: latestSettings(topic, path.filter(stream)) })).status).toBe(200)
      expect((await sink.api.request('POST', `/connectors/${connectorId}/start`)).status).toBe(200)
      await sink.api.waitForState(connectorId, 'CONNECTOR_STATE_RUNNING')
      expect((await sink.api.request('POST', `/connectors/${connectorId}/stop`)).status).toBe(200)
      await sink.api.waitForState(connectorId, 'CONNECTOR_STATE_STOPPED')

      await rig.appendEvents(stream, 3, { firstSeq: 100 })
      expect((await sink.api.request('POST', `/connectors/${connectorId}/start`)).status).toBe(200)
      expect(await seqsIn(topic, 3)).toEqual([100, 101, 102])
      await sink.stop()
    }, 120_000)

    test(`${path.name}: start, RUNNING, kill -9, append 3, restart: the 3 arrive`, async () => {
      const first = await rig.startSink()
      const topic = await rig.createTopic({ partitions: 1, replicationFactor: 1 })
      const stream = unique('LatestKill-')
      await rig.appendEvents(stream, 2, { firstSeq: 0 })
      const connectorId = unique('latest-kill-')
      expect((await first.api.request('POST', `/connectors/${connectorId}`, { settings: latestSettings(topic, path.filter(stream)) })).status).toBe(200)
      expect((await first.api.request('POST', `/connectors/${connectorId}/start`)).status).toBe(200)
      await first.api.waitForState(connectorId, 'CONNECTOR_STATE_RUNNING')
      expect(await first.stop('SIGKILL')).toBeNull()

      await rig.appendEvents(stream, 3, { firstSeq: 100 })
      const second = await rig.startSink()
      expect(await seqsIn(topic, 3)).toEqual([100, 101, 102])
      await second.stop()
    }, 120_000)

    test(`${path.name}: the subscription drops before its first event; what was appended meanwhile arrives`, async () => {
      const sink = await rig.startSink()
      const topic = await rig.createTopic({ partitions: 1, replicationFactor: 1 })
      const stream = unique('LatestDrop-')
      await rig.appendEvents(stream, 2, { firstSeq: 0 })
      const connectorId = unique('latest-drop-')
      expect((await sink.api.request('POST', `/connectors/${connectorId}`, { settings: latestSettings(topic, path.filter(stream)) })).status).toBe(200)
      expect((await sink.api.request('POST', `/connectors/${connectorId}/start`)).status).toBe(200)
      await sink.api.waitForState(connectorId, 'CONNECTOR_STATE_RUNNING')
      // Appends go on while the read calls are down, as when a proxy or a node drops the subscription.
      expect(await rig.emulator.dropReads()).toBeGreaterThan(0)
      await rig.appendEvents(stream, 1, { firstSeq: 100 })
      await sink.waitForLine((line) => line.includes('KurrentDB subscription interrupted'))
      await rig.appendEvents(stream, 1, { firstSeq: 101 })
      expect(await seqsIn(topic, 2)).toEqual([100, 101])
      await sink.stop()
    }, 120_000)
  }
})

describe('delete, then create again with the same id', () => {
  const streamFilter = (stream: string) => ({ 'subscription:filter:scope': 'stream', 'subscription:filter:filterType': 'streamId', 'subscription:filter:expression': stream })

  test('earliest: the new incarnation delivers the stream again from its start', async () => {
    const sink = await rig.startSink()
    const topic = await rig.createTopic({ partitions: 1, replicationFactor: 1 })
    const stream = unique('Recreate-')
    const connectorId = unique('recreate-earliest-')
    const settings = baseSettings(topic, rig.broker.bootstrapServers, streamFilter(stream))
    await rig.appendEvents(stream, 5)
    expect((await sink.api.request('POST', `/connectors/${connectorId}`, { settings })).status).toBe(200)
    expect((await sink.api.request('POST', `/connectors/${connectorId}/start`)).status).toBe(200)
    expect(await seqsIn(topic, 5)).toEqual([0, 1, 2, 3, 4])
    expect((await sink.api.request('POST', `/connectors/${connectorId}/stop`)).status).toBe(200)
    await sink.api.waitForState(connectorId, 'CONNECTOR_STATE_STOPPED')
    expect((await sink.api.request('DELETE', `/connectors/${connectorId}`)).status).toBe(200)

    expect((await sink.api.request('POST', `/connectors/${connectorId}`, { settings })).status).toBe(200)
    expect((await sink.api.request('POST', `/connectors/${connectorId}/start`)).status).toBe(200)
    expect(await seqsIn(topic, 10)).toEqual([0, 1, 2, 3, 4, 0, 1, 2, 3, 4])
    await sink.stop()
  }, 120_000)

  test('latest: the new incarnation starts at the end at its own first start, not at the old checkpoint', async () => {
    const sink = await rig.startSink()
    const topic = await rig.createTopic({ partitions: 1, replicationFactor: 1 })
    const stream = unique('RecreateLatest-')
    const connectorId = unique('recreate-latest-')
    const settings = baseSettings(topic, rig.broker.bootstrapServers, { ...streamFilter(stream), 'subscription:initialPosition': 'latest' })
    expect((await sink.api.request('POST', `/connectors/${connectorId}`, { settings })).status).toBe(200)
    expect((await sink.api.request('POST', `/connectors/${connectorId}/start`)).status).toBe(200)
    await sink.api.waitForState(connectorId, 'CONNECTOR_STATE_RUNNING')
    await rig.appendEvents(stream, 5)
    expect(await seqsIn(topic, 5)).toEqual([0, 1, 2, 3, 4])
    expect((await sink.api.request('POST', `/connectors/${connectorId}/stop`)).status).toBe(200)
    await sink.api.waitForState(connectorId, 'CONNECTOR_STATE_STOPPED')
    await rig.appendEvents(stream, 2, { firstSeq: 5 })
    expect((await sink.api.request('DELETE', `/connectors/${connectorId}`)).status).toBe(200)

    expect((await sink.api.request('POST', `/connectors/${connectorId}`, { settings })).status).toBe(200)
    expect((await sink.api.request('POST', `/connectors/${connectorId}/start`)).status).toBe(200)
    await sink.api.waitForState(connectorId, 'CONNECTOR_STATE_RUNNING')
    await rig.appendEvents(stream, 1, { firstSeq: 100 })
    expect(await seqsIn(topic, 6)).toEqual([0, 1, 2, 3, 4, 100])
    await sink.stop()
  }, 120_000)
})

describe('latest does not depend on what caught_up carries', () => {
  // 25.1.0 sends caught_up with a position, 24.10.0 (the rig's default, above) without one: the same outcome.
  let modern: Rig
  beforeAll(async () => {
    modern = await startRig({ brokers: 1, serverVersion: '25.1.0' })
  })
  afterAll(async () => {
    await modern?.close()
  })

  test('25.1.0: start, RUNNING, stop, append 3, start: the 3 arrive', async () => {
    const sink = await modern.startSink()
    const topic = await modern.createTopic({ partitions: 1, replicationFactor: 1 })
    const stream = unique('LatestModern-')
    await modern.appendEvents(stream, 2)
    const connectorId = unique('latest-modern-')
    const settings = baseSettings(topic, modern.broker.bootstrapServers, { 'subscription:initialPosition': 'latest', 'subscription:filter:scope': 'stream', 'subscription:filter:filterType': 'prefix', 'subscription:filter:expression': stream })
    expect((await sink.api.request('POST', `/connectors/${connectorId}`, { settings })).status).toBe(200)
    expect((await sink.api.request('POST', `/connectors/${connectorId}/start`)).status).toBe(200)
    await sink.api.waitForState(connectorId, 'CONNECTOR_STATE_RUNNING')
    expect((await sink.api.request('POST', `/connectors/${connectorId}/stop`)).status).toBe(200)
    await sink.api.waitForState(connectorId, 'CONNECTOR_STATE_STOPPED')
    await modern.appendEvents(stream, 3, { firstSeq: 100 })
    expect((await sink.api.request('POST', `/connectors/${connectorId}/start`)).status).toBe(200)
    expect((await modern.readTopic(topic, 3, 30_000)).map((record) => payloadOf(record).seq)).toEqual([100, 101, 102])
    await sink.stop()
  }, 120_000)
})
