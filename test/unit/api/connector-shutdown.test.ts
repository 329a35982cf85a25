// The connectors service shutting down (what SIGTERM does) while a start command is still being applied: a run
// activated after the shutdown began must not go on running after it; it is stopped as it starts, and the shutdown
// waits for it.
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

  const lateLines = () => rig.logLines.filter((line) => line.includes('"connectorId":"shutdown-late"'))
  while (!lateLines().some((line) => line.includes('"connector stopped"') || line.includes('"connector running"'))) await Bun.sleep(20)
  expect(lateLines().filter((line) => line.includes('"connector running"'))).toEqual([])
  expect(lateLines().filter((line) => line.includes('"connector stopped"'))).toHaveLength(1)
})
