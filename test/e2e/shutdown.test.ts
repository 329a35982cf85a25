/**
 * SIGTERM against the binary: a delivery in flight is finished within the grace period (not abandoned), its position
 * committed, and the restart sends nothing again; connectors already resumed while the rest is still loading stop
 * with their final commit too.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { randomUUID } from 'node:crypto'
import { rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
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

test('SIGTERM while connectors are still loading: the runs already resumed stop with their final commit', async () => {
  const topic = await rig.createTopic({ partitions: 1, replicationFactor: 1 })
  const stream = `Loading-${randomUUID().slice(0, 8)}`
  const resumed = `loading-resumed-${randomUUID().slice(0, 8)}`
  const declared = `loading-declared-${randomUUID().slice(0, 8)}`
  // No commit but the final one that every stop makes.
  const settings = baseSettings(topic, rig.broker.bootstrapServers, {
    'subscription:filter:scope': 'stream',
    'subscription:filter:filterType': 'streamId',
    'subscription:filter:expression': stream,
    'autocommit:enabled': 'false',
  })
  const first = await rig.startSink()
  expect((await first.api.request('POST', `/connectors/${resumed}`, { settings })).status).toBe(200)
  expect((await first.api.request('POST', `/connectors/${resumed}/start`)).status).toBe(200)
  await first.api.waitForState(resumed, 'CONNECTOR_STATE_RUNNING')
  expect(await first.stop('SIGTERM')).toBe(0)

  // Loading goes on for a while: the connectors file's create waits on a slow append.
  const file = join(tmpdir(), `${declared}.yaml`)
  await writeFile(file, [`${declared}:`, '  state: stopped', '  settings:', '    instanceTypeName: kafka-sink', `    topic: ${topic}`, `    bootstrapServers: "${rig.broker.bootstrapServers}"`].join('\n'))
  await rig.emulator.armFault('append-delay', `$kafka-sink/${declared}`)
  const second = await rig.startSink({ args: ['--connectors', file], waitForReady: false })
  await second.waitForLine((line) => line.includes('"connector running"') && line.includes(resumed))
  await rig.appendEvents(stream, 3)
  await rig.readTopic(topic, 3)
  // Still loading: the declared connector is not created yet, and readiness says so.
  expect(second.lines().some((line) => line.includes('"connector created"') && line.includes(declared))).toBe(false)
  expect((await fetch(`${second.baseUrl}/health/ready`)).status).toBe(503)
  expect(await second.stop('SIGTERM')).toBe(0)
  await rm(file, { force: true })

  // The final commit covers the 3: a third process delivers only what comes after them.
  const third = await rig.startSink()
  await third.api.waitForState(resumed, 'CONNECTOR_STATE_RUNNING')
  await rig.appendEvents(stream, 1, { firstSeq: 100 })
  expect((await rig.readTopic(topic, 4)).map((record) => payloadOf(record).seq)).toEqual([0, 1, 2, 100])
  await third.stop()
}, 120_000)
