// start/{position} and reset/{position} through the connectors service, with the exact set of events that must
// reach Kafka. KurrentDB's rule (kurrentdb-server-semantics.md R4, R5): a start position is exclusive, so the run
// delivers every matching event after the position and none at or before it. The single-stream target
// (filterType streamId) maps the position to a stream revision; the $all target (a prefix filter) uses it as is.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { randomUUID } from 'node:crypto'
import { createConnectorService } from '../../../src/connectors/create-connector-service.ts'
import type { RunningConnectorService } from '../../../src/connectors/connector-service.ts'
import { silentLogger } from '../../../src/observability/logger.ts'
import { createSinkMetrics } from '../../../src/observability/metrics.ts'
import type { KafkaPort, KafkaProducerConfig } from '../../../src/sink/kafka/port.ts'
import { connectToKurrentDb, type KurrentDbConnection } from '../../../src/source/kurrentdb-connection.ts'
import { startKurrentDbEmulator, type KurrentDbEmulator } from '../../support/kurrentdb-emulator.ts'
import { appendSequence, eventually, headerText, scriptedKafka, type ScriptedKafka } from './scripted-kafka.ts'

let emulator: KurrentDbEmulator
let connection: KurrentDbConnection
let service: RunningConnectorService
/** The scripted Kafka of each connector, by connector id. */
const kafkaOf = new Map<string, ScriptedKafka>()

beforeAll(async () => {
  emulator = await startKurrentDbEmulator()
  connection = connectToKurrentDb(emulator.connectionString)
  const openKafka = (config: KafkaProducerConfig): KafkaPort => {
    const connectorId = config.clientId.replace(/^kafka-sink-/, '')
    const kafka = kafkaOf.get(connectorId) ?? scriptedKafka()
    kafka.behaviour = (send) => send.answer('deliverAll')
    kafkaOf.set(connectorId, kafka)
    return kafka.open()
  }
  service = await createConnectorService({ connection, dataProtectionToken: undefined, logger: silentLogger, metrics: createSinkMetrics(), openKafka, ownership: { instanceId: 'start-positions', leaseDurationMs: 15_000 } })
})
afterAll(async () => {
  await service?.shutdown()
  await connection?.dispose()
  await emulator?.close()
})

interface StoredEvent {
  readonly id: string
  readonly stream: string
  readonly position: bigint
}

/** What KurrentDB stored, read with the client (not the code under test). */
async function storedEvents(stream: string): Promise<StoredEvent[]> {
  const events: StoredEvent[] = []
  for await (const resolved of connection.client.readStream(stream, { fromRevision: 'start', direction: 'forwards' })) {
    const event = resolved.event!
    events.push({ id: event.id, stream: event.streamId, position: event.position!.commit })
  }
  return events
}

const deliveredIds = (connectorId: string) => kafkaOf.get(connectorId)?.delivered.map((message) => headerText(message, 'esdb-record-id')!) ?? []

async function waitForState(connectorId: string, state: string) {
  const deadline = Date.now() + 15_000
  for (;;) {
    const listed = await service.list({ states: [], instanceTypeNames: [], connectorIds: [connectorId], includeSettings: false, includeConfiguration: false, showDeleted: false, page: 1, pageSize: 1 })
    const found = listed.items[0]
    if (found?.state === state) return
    if (Date.now() > deadline) throw new Error(`${connectorId} never reached ${state}; last ${found?.state}`)
    await Bun.sleep(10)
  }
}

/** Starts (or resets) at `position`, waits for the run to deliver `marker`, stops, and returns what was delivered. */
async function deliveredFrom(connectorId: string, command: 'start' | 'reset', position: bigint | undefined, markerId: string): Promise<string[]> {
  kafkaOf.delete(connectorId)
  await (command === 'start' ? service.start(connectorId, position) : service.reset(connectorId, position))
  await eventually(`delivery of ${markerId}`, () => deliveredIds(connectorId).includes(markerId))
  await service.stop(connectorId)
  await waitForState(connectorId, 'CONNECTOR_STATE_STOPPED')
  return deliveredIds(connectorId)
}

const targets = [
  { name: 'single stream (streamId)', filter: (stream: string) => ({ 'subscription:filter:scope': 'stream', 'subscription:filter:filterType': 'streamId', 'subscription:filter:expression': stream }) },
  { name: '$all (stream prefix)', filter: (stream: string) => ({ 'subscription:filter:scope': 'stream', 'subscription:filter:filterType': 'prefix', 'subscription:filter:expression': stream }) },
]

describe.each(targets)('explicit positions, $name', ({ filter }) => {
  test('start/{position of event k} delivers exactly the events after it; reset/{position} replays from there; reset from the beginning', async () => {
    const stream = `pos${randomUUID().slice(0, 8)}`
    const connectorId = `c-${stream}`
    await service.create(connectorId, { settings: { instanceTypeName: 'kafka-sink', topic: 'orders', bootstrapServers: 'localhost:9092', ...filter(stream) } })
    // Interleaved with another stream's events, so positions of the target stream are not contiguous.
    for (let round = 0; round < 5; round++) {
      await appendSequence(connection.client, stream, 2, round * 2)
      await appendSequence(connection.client, `other-${stream}`, 1, round)
    }
    const events = await storedEvents(stream)
    expect(events).toHaveLength(10)
    const idsAfter = (position: bigint) => events.filter((event) => event.position > position).map((event) => event.id)
    const last = events.at(-1)!.id

    // A position equal to an event's: that event is not delivered again.
    const atFourth = events[3]!.position
    expect(await deliveredFrom(connectorId, 'start', atFourth, last)).toEqual(idsAfter(atFourth))
    expect(idsAfter(atFourth)).toHaveLength(6)

    // A position between two events of the stream (one of the other stream's positions).
    const [between] = (await storedEvents(`other-${stream}`)).filter((event) => event.position > events[7]!.position && event.position < events[8]!.position)
    expect(between).toBeDefined()
    expect(await deliveredFrom(connectorId, 'reset', between!.position, last)).toEqual(idsAfter(between!.position))

    // Reset without a position: the beginning, whatever the checkpoint says.
    expect(await deliveredFrom(connectorId, 'reset', undefined, last)).toEqual(events.map((event) => event.id))

    // A plain start after that resumes from the checkpoint: only what was appended since.
    await appendSequence(connection.client, stream, 2, 10)
    const newest = (await storedEvents(stream)).slice(10).map((event) => event.id)
    expect(await deliveredFrom(connectorId, 'start', undefined, newest.at(-1)!)).toEqual(newest)
  })
})

describe('explicit positions at the edges, single stream', () => {
  const settingsFor = (stream: string) => ({ instanceTypeName: 'kafka-sink', topic: 'orders', 'subscription:filter:scope': 'stream', 'subscription:filter:filterType': 'streamId', 'subscription:filter:expression': stream })

  test('a position before the first event of the stream delivers all of it; one past its last delivers only what comes later', async () => {
    const stream = `edge${randomUUID().slice(0, 8)}`
    const connectorId = `c-${stream}`
    await appendSequence(connection.client, `before-${stream}`, 1)
    const [before] = await storedEvents(`before-${stream}`)
    await appendSequence(connection.client, stream, 3)
    await service.create(connectorId, { settings: settingsFor(stream) })
    const events = await storedEvents(stream)
    expect(await deliveredFrom(connectorId, 'start', before!.position, events.at(-1)!.id)).toEqual(events.map((event) => event.id))

    // Past the stream's last event (a later event of another stream): nothing of the 3, then the next one.
    await appendSequence(connection.client, `after-${stream}`, 1)
    const [after] = await storedEvents(`after-${stream}`)
    kafkaOf.delete(connectorId)
    await service.start(connectorId, after!.position)
    await eventually('the run to open Kafka', () => kafkaOf.has(connectorId))
    await appendSequence(connection.client, stream, 1, 3)
    const next = (await storedEvents(stream))[3]!.id
    await eventually('the next event', () => deliveredIds(connectorId).includes(next))
    expect(deliveredIds(connectorId)).toEqual([next])
    await service.stop(connectorId)
    await waitForState(connectorId, 'CONNECTOR_STATE_STOPPED')
  })

  test('a stream that does not exist yet: a start at a position delivers it from its first event', async () => {
    const stream = `absent${randomUUID().slice(0, 8)}`
    const connectorId = `c-${stream}`
    await appendSequence(connection.client, `other-${stream}`, 1)
    const [other] = await storedEvents(`other-${stream}`)
    await service.create(connectorId, { settings: settingsFor(stream) })
    kafkaOf.delete(connectorId)
    await service.start(connectorId, other!.position)
    await eventually('the run to open Kafka', () => kafkaOf.has(connectorId))
    await appendSequence(connection.client, stream, 2)
    const ids = (await storedEvents(stream)).map((event) => event.id)
    await eventually('both events', () => deliveredIds(connectorId).includes(ids[1]!))
    expect(deliveredIds(connectorId)).toEqual(ids)
    await service.stop(connectorId)
    await waitForState(connectorId, 'CONNECTOR_STATE_STOPPED')
  })
})
