// The connectors service shutting down (what SIGTERM does) while a start command is still being applied: a run
// activated after the shutdown began must not go on running after it, and the shutdown waits for what it started.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { startKafkaTestBroker, uniqueTopicName, type KafkaTestBroker } from '../../support/kafka-test-broker.ts'
import { startApiRig, validSettings, waitForState, type ApiRig } from './api-rig.ts'

let rig: ApiRig
let broker: KafkaTestBroker

beforeAll(async () => {
  broker = await startKafkaTestBroker({ brokers: 1 })
  rig = await startApiRig()
})
afterAll(async () => {
  await rig?.close()
  await broker?.stop()
}, 30_000)

test('a run activated after the shutdown began is stopped, not left running', async () => {
  const topic = uniqueTopicName('shutdown-late')
  await broker.createTopic(topic, { partitions: 1, replicationFactor: 1 })
  const settings = validSettings({ topic, bootstrapServers: broker.bootstrapServers })
  for (const connectorId of ['shutdown-early', 'shutdown-late']) expect((await rig.request('POST', `/connectors/${connectorId}`, { body: { settings } })).status).toBe(200)
  expect((await rig.request('POST', '/connectors/shutdown-early/start')).status).toBe(200)
  await waitForState(rig, 'shutdown-early', 'CONNECTOR_STATE_RUNNING')

  const shuttingDown = rig.service.shutdown()
  await rig.service.start('shutdown-late')
  await shuttingDown

  // Once the shutdown has returned nothing runs: the late connector never ran, and it is recorded as starting, so the
  // next process resumes it, like the connectors stopped by the shutdown.
  const lateLines = () => rig.logLines.filter((line) => line.includes('"connectorId":"shutdown-late"'))
  expect(lateLines().filter((line) => line.includes('"connector running"'))).toEqual([])
  const listed = await rig.service.list({ states: [], instanceTypeNames: [], connectorIds: ['shutdown-late'], includeSettings: false, includeConfiguration: false, showDeleted: false, page: 1, pageSize: 10 })
  expect(listed.items[0]?.state).toBe('CONNECTOR_STATE_ACTIVATING')
  expect(rig.logLines.filter((line) => line.includes('"connector stopped"') && line.includes('"connectorId":"shutdown-early"'))).toHaveLength(1)
})
