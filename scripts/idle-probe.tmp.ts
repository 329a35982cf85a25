import { startKafkaTestBroker, uniqueTopicName } from '../test/support/kafka-test-broker.ts'
import { spawnKurrentDbEmulator } from '../test/support/kurrentdb-emulator-process.ts'
import { sinkApi, startSinkProcess } from '../test/support/sink-process.ts'
import { startCpuMeter } from './benchmark/measure.ts'
const emulator = await spawnKurrentDbEmulator()
const broker = await startKafkaTestBroker({ brokers: 3 })
for (const binary of process.argv.slice(2)) {
  const sink = await startSinkProcess({ kurrentdb: emulator.connectionString, command: [binary] })
  const topic = uniqueTopicName('idle'); await broker.createTopic(topic, { partitions: 6, replicationFactor: 3 })
  const api = sinkApi(sink.baseUrl)
  const n = Number(process.env.CONNECTORS ?? 1)
  for (let i = 0; i < n; i++) {
    const id = `idle-${i}-${Math.random().toString(36).slice(2)}`
    await api.request('POST', `/connectors/${id}`, { settings: { instanceTypeName: 'kafka-sink', topic, bootstrapServers: broker.bootstrapServers, 'subscription:filter:scope': 'stream', 'subscription:filter:filterType': 'prefix', 'subscription:filter:expression': 'nothing-' } }).then(async (r) => { if (r.status !== 200) throw new Error(r.text) })
    await api.request('POST', `/connectors/${id}/start`)
    await api.waitForState(id, 'CONNECTOR_STATE_RUNNING')
  }
  await Bun.sleep(5000)
  const cpu = await startCpuMeter(sink.pid)
  await Bun.sleep(10_000)
  const { cores } = await cpu.stop(1)
  console.log(`${binary} idle with ${n} connector(s): ${cores} cores`)
  await sink.stop()
}
await emulator.stop(); await broker.stop()
