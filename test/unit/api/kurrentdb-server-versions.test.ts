// Connectors against the KurrentDB versions whose subscriptions differ (the emulator follows each, see its
// server-version.ts): on 24.2.0–24.10.4 a filtered subscription that matched nothing sends (2^64−1, 2^64−1) at the
// switch to live, which means "the end". Stored as a checkpoint, the next start would skip what was written meanwhile.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { jsonEvent, KurrentDBClient } from '@kurrent/kurrentdb-client'
import { startKafkaTestBroker, uniqueTopicName, type KafkaTestBroker } from '../../support/kafka-test-broker.ts'
import { readTopicWithKcat } from '../../support/kcat.ts'
import { startApiRig, validSettings, waitForState, type ApiRig } from './api-rig.ts'

let rig: ApiRig
let broker: KafkaTestBroker
let client: KurrentDBClient

beforeAll(async () => {
  broker = await startKafkaTestBroker({ brokers: 1 })
  rig = await startApiRig({ emulator: { serverVersion: '24.10.0' } })
  client = KurrentDBClient.connectionString(rig.emulator.connectionString)
})
afterAll(async () => {
  await client?.dispose()
  await rig?.close()
  await broker?.stop()
}, 30_000)

test('24.10.0: the (2^64-1, 2^64-1) checkpoint is never stored, and a restart delivers what was appended while stopped', async () => {
  const topic = uniqueTopicName('end-checkpoint')
  await broker.createTopic(topic, { partitions: 1, replicationFactor: 1 })
  const connectorId = 'end-checkpoint'
  const settings = validSettings({
    topic,
    bootstrapServers: broker.bootstrapServers,
    'subscription:filter:filterType': 'prefix',
    'subscription:filter:expression': 'EndCheckpoint-',
    'subscription:initialPosition': 'earliest',
    'autocommit:recordsThreshold': '1000',
  })
  expect((await rig.request('POST', `/connectors/${connectorId}`, { body: { settings } })).status).toBe(200)
  expect((await rig.request('POST', `/connectors/${connectorId}/start`)).status).toBe(200)
  await waitForState(rig, connectorId, 'CONNECTOR_STATE_RUNNING')
  // The live switch has happened (its checkpoint comes right before caught_up); then stop with the final commit.
  while (!rig.logLines.some((line) => line.includes('connector caught up') && line.includes(connectorId))) await Bun.sleep(20)
  expect((await rig.request('POST', `/connectors/${connectorId}/stop`)).status).toBe(200)
  await waitForState(rig, connectorId, 'CONNECTOR_STATE_STOPPED')

  await client.appendToStream('EndCheckpoint-1', jsonEvent({ type: 'written-while-stopped', data: { seq: 1 } }))
  expect((await rig.request('POST', `/connectors/${connectorId}/start`)).status).toBe(200)
  const records = await readTopicWithKcat({ bootstrapServers: broker.bootstrapServers, topic, expectedCount: 1, timeoutMs: 20_000 })
  expect(records.map((record) => JSON.parse(record.value))).toEqual([{ seq: 1 }])
  expect((await rig.request('POST', `/connectors/${connectorId}/stop`)).status).toBe(200)
}, 60_000)
