// Commands of the connectors service whose effect only shows later: what a delete leaves in KurrentDB, and which
// password a run hands to Kafka after a PUT that sends the secret back as `***` (the API's mask for a stored secret).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { randomUUID } from 'node:crypto'
import { StreamNotFoundError } from '@kurrent/kurrentdb-client'
import { createConnectorService } from '../../../src/connectors/create-connector-service.ts'
import type { RunningConnectorService } from '../../../src/connectors/connector-service.ts'
import { silentLogger } from '../../../src/observability/logger.ts'
import { createSinkMetrics } from '../../../src/observability/metrics.ts'
import type { KafkaPort, KafkaProducerConfig } from '../../../src/sink/kafka/port.ts'
import { connectToKurrentDb, type KurrentDbConnection } from '../../../src/source/kurrentdb-connection.ts'
import { startKurrentDbEmulator, type KurrentDbEmulator } from '../../support/kurrentdb-emulator.ts'
import { appendSequence, eventually, scriptedKafka } from './scripted-kafka.ts'

let emulator: KurrentDbEmulator
let connection: KurrentDbConnection
let service: RunningConnectorService
const configs: KafkaProducerConfig[] = []
const delivered = new Map<string, number>()

beforeAll(async () => {
  emulator = await startKurrentDbEmulator()
  connection = connectToKurrentDb(emulator.connectionString)
  const openKafka = (config: KafkaProducerConfig): KafkaPort => {
    configs.push(config)
    const kafka = scriptedKafka()
    kafka.behaviour = (send) => {
      delivered.set(config.clientId, (delivered.get(config.clientId) ?? 0) + send.messages.length)
      send.answer('deliverAll')
    }
    return kafka.open()
  }
  service = await createConnectorService({ connection, dataProtectionToken: 'service-tests-token', logger: silentLogger, metrics: createSinkMetrics(), openKafka, ownership: { instanceId: 'service-tests', leaseDurationMs: 15_000 } })
})
afterAll(async () => {
  await service?.shutdown()
  await connection?.dispose()
  await emulator?.close()
})

async function stateOf(connectorId: string): Promise<string | undefined> {
  const listed = await service.list({ states: [], instanceTypeNames: [], connectorIds: [connectorId], includeSettings: false, includeConfiguration: false, showDeleted: true, page: 1, pageSize: 1 })
  return listed.items[0]?.state
}

async function untilState(connectorId: string, state: string): Promise<void> {
  const deadline = Date.now() + 15_000
  while ((await stateOf(connectorId)) !== state) {
    if (Date.now() > deadline) throw new Error(`${connectorId} never reached ${state}`)
    await Bun.sleep(10)
  }
}

describe('the connectors service', () => {
  test('delete removes the checkpoints from KurrentDB (the spec: it soft-deletes the checkpoint stream)', async () => {
    const stream = `del${randomUUID().slice(0, 8)}`
    const connectorId = `c-${stream}`
    await appendSequence(connection.client, stream, 5)
    await service.create(connectorId, {
      settings: { instanceTypeName: 'kafka-sink', topic: 'orders', 'subscription:filter:scope': 'stream', 'subscription:filter:filterType': 'streamId', 'subscription:filter:expression': stream, 'subscription:initialPosition': 'earliest' },
    })
    await service.start(connectorId)
    await eventually('five deliveries', () => delivered.get(`kafka-sink-${connectorId}`) === 5)
    await service.stop(connectorId)
    await untilState(connectorId, 'CONNECTOR_STATE_STOPPED')
    // The sink keeps its checkpoints under its own prefix (README: `$kafka-sink/{id}/checkpoints`).
    const checkpointStream = `$kafka-sink/${connectorId}/checkpoints`
    /** Events a reader of the stream sees; a deleted stream reads as not found. */
    const readableCheckpoints = async () => {
      let count = 0
      try {
        for await (const _ of connection.client.readStream(checkpointStream, { fromRevision: 'start', direction: 'forwards' })) count++
      } catch (error) {
        if (!(error instanceof StreamNotFoundError)) throw error
      }
      return count
    }
    expect(await readableCheckpoints()).toBeGreaterThan(0)

    await service.delete(connectorId)
    expect(await readableCheckpoints()).toBe(0)
  })

  test('a PUT that sends the stored password back as *** keeps it: the next run authenticates with it', async () => {
    const connectorId = `secret-${randomUUID().slice(0, 8)}`
    const settings = {
      instanceTypeName: 'kafka-sink',
      topic: 'orders',
      'authentication:securityProtocol': 'saslSsl',
      'authentication:username': 'user',
      'authentication:password': 'the-stored-password',
      'subscription:filter:scope': 'stream',
      'subscription:filter:filterType': 'streamId',
      'subscription:filter:expression': `s-${connectorId}`,
    }
    await service.create(connectorId, { settings })
    const viewed = await service.getSettings(connectorId)
    expect(viewed.settings['authentication:password']).toBe('***')
    await service.reconfigure(connectorId, { ...settings, topic: 'orders-2', 'authentication:password': '***' })
    await service.start(connectorId)
    await eventually('the run to open Kafka', () => configs.some((config) => config.clientId === `kafka-sink-${connectorId}`))
    const config = configs.find((candidate) => candidate.clientId === `kafka-sink-${connectorId}`)!
    expect(config.sasl).toEqual({ mechanism: 'plain', username: 'user', password: 'the-stored-password' })
    await service.stop(connectorId)
  })
})
