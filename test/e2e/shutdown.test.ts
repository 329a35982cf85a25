/**
 * SIGTERM against the binary: a delivery in flight is finished within the grace period (not abandoned), its position
 * committed, and the restart sends nothing again.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { randomUUID } from 'node:crypto'
import { baseSettings, payloadOf, startRig, type Rig } from '../support/rig.ts'

let rig: Rig

beforeAll(async () => {
  rig = await startRig({ brokers: 1 })
})
afterAll(async () => {
  await rig?.close()
})

test('SIGTERM while a delivery is in flight: it is delivered and committed, nothing is abandoned, the restart re-sends nothing', async () => {
  const first = await rig.startSink()
  const topic = await rig.createTopic({ partitions: 1, replicationFactor: 1 })
  const stream = `Shutdown-${randomUUID().slice(0, 8)}`
  const connectorId = `shutdown-${randomUUID().slice(0, 8)}`
  const settings = baseSettings(topic, rig.broker.bootstrapServers, { 'subscription:filter:scope': 'stream', 'subscription:filter:filterType': 'streamId', 'subscription:filter:expression': stream })
  expect((await first.api.request('POST', `/connectors/${connectorId}`, { settings })).status).toBe(200)
  expect((await first.api.request('POST', `/connectors/${connectorId}/start`)).status).toBe(200)
  await rig.appendEvents(stream, 5)
  await rig.readTopic(topic, 5)
  // A slow broker keeps the next batch in flight while the signal arrives.
  await rig.broker.setRoundTripTime(1, 2_000)
  await rig.appendEvents(stream, 5, { firstSeq: 5 })
  await Bun.sleep(300)
  expect(await first.stop('SIGTERM')).toBe(0)
  await rig.broker.setRoundTripTime(1, 0)
  expect(first.lines().filter((line) => line.includes('closed without flush') || line.includes('abandoning'))).toEqual([])

  const second = await rig.startSink()
  await second.api.waitForState(connectorId, 'CONNECTOR_STATE_RUNNING')
  await rig.appendEvents(stream, 1, { firstSeq: 100 })
  const seqs = (await rig.readTopic(topic, 11)).map((record) => payloadOf(record).seq)
  expect(seqs).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 100])
  await second.stop()
}, 120_000)
