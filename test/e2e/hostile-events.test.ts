/**
 * Events that try to break the sink: bytes that are not UTF-8, empty data, metadata that is not JSON or not an
 * object, 500 metadata keys, unicode and emoji stream names and event types; and an event larger than the broker
 * accepts (message.max.bytes, enforced by the security front since the mock cluster enforces none). Kafka's content
 * is read back with kcat, never with the code under test.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { BACKWARDS, binaryEvent, END, jsonEvent, StreamNotFoundError } from '@kurrent/kurrentdb-client'
import { randomBytes, randomUUID } from 'node:crypto'
import { startKafkaSecurityFront, type KafkaSecurityFront } from '../support/kafka-security-front.ts'
import { baseSettings, startRig, type Rig } from '../support/rig.ts'

let rig: Rig
let sink: Awaited<ReturnType<Rig['startSink']>>
let front: KafkaSecurityFront<'saslPlaintext'>
const frontUser = 'sink-user'
const frontPassword = 'sink-password'
const maxMessageBytes = 64 * 1024

beforeAll(async () => {
  rig = await startRig({ brokers: 1 })
  sink = await rig.startSink({ env: { KAFKA_SINK_DATA_PROTECTION_TOKEN: 'hostile-events-token' } })
  front = await startKafkaSecurityFront({ broker: rig.broker, protocol: 'saslPlaintext', users: { [frontUser]: frontPassword }, maxMessageBytes })
}, 60_000)
afterAll(async () => {
  await front?.close()
  await rig?.close()
})

const unique = (prefix: string) => `${prefix}${randomUUID().slice(0, 8)}`

async function createAndStart(settings: Record<string, unknown>): Promise<string> {
  const connectorId = unique('hostile-')
  const created = await sink.api.request('POST', `/connectors/${connectorId}`, { settings })
  expect(created.status, created.text).toBe(200)
  expect((await sink.api.request('POST', `/connectors/${connectorId}/start`)).status).toBe(200)
  await sink.api.waitForState(connectorId, 'CONNECTOR_STATE_RUNNING')
  return connectorId
}

async function lastCheckpoint(connectorId: string): Promise<bigint | undefined> {
  try {
    for await (const resolved of rig.client.readStream(`$kafka-sink/${connectorId}/checkpoints`, { direction: BACKWARDS, fromRevision: END, maxCount: 1 })) {
      const data = resolved.event?.data as { commitPosition?: string } | undefined
      return data?.commitPosition === undefined ? undefined : BigInt(data.commitPosition)
    }
  } catch (error) {
    if (!(error instanceof StreamNotFoundError)) throw error
  }
  return undefined
}

const header = (record: { headers: readonly (readonly [string, string])[] }, name: string) => record.headers.find(([key]) => key === name)?.[1]

describe('hostile events', () => {
  test('invalid UTF-8, empty data, non-JSON or array metadata, 500 metadata keys, emoji names: all delivered as stored, in order', async () => {
    const topic = await rig.createTopic({ partitions: 1, replicationFactor: 1 })
    const stream = unique('Hostile-🦄-ünï-')
    const manyKeys = Object.fromEntries(Array.from({ length: 500 }, (_, index) => [`key-${index}`, `value-${index}`]))
    const invalidUtf8 = new Uint8Array([0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xf0, 0x28, 0x8c, 0xbc, 0x00])
    await rig.client.appendToStream(stream, [
      binaryEvent({ type: 'Binary💥', data: invalidUtf8, metadata: new Uint8Array(Buffer.from('not json {')) }),
      binaryEvent({ type: 'Empty', data: new Uint8Array(0) }),
      jsonEvent({ type: 'JsonArray', data: [1, 'two', { three: 3 }] as unknown as Record<string, unknown>, metadata: [1, 2, 3] as unknown as Record<string, unknown> }),
      jsonEvent({ type: 'ManyKeys', data: { ok: true }, metadata: manyKeys }),
      binaryEvent({ type: 'MetadataNotUtf8', data: new Uint8Array(Buffer.from('{}')), metadata: invalidUtf8 }),
      jsonEvent({ type: 'Ünïcödé-タイプ-🚀', data: { text: '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \u0000 \u202e' } }),
      // The marker: once it is in Kafka, everything before it was handled.
      jsonEvent({ type: 'Marker', data: { marker: true } }),
    ])
    const connectorId = await createAndStart(baseSettings(topic, rig.broker.bootstrapServers, {
      'subscription:filter:scope': 'stream',
      'subscription:filter:filterType': 'streamId',
      'subscription:filter:expression': stream,
    }))
    const records = await rig.readTopic(topic, 7)
    expect(records.map((record) => header(record, 'esdb-record-schema-subject'))).toEqual(['Binary💥', 'Empty', 'JsonArray', 'ManyKeys', 'MetadataNotUtf8', 'Ünïcödé-タイプ-🚀', 'Marker'])
    expect(records[0]!.valueBytes!.equals(Buffer.from(invalidUtf8))).toBe(true)
    expect(records[1]!.valueBytes?.length ?? 0).toBe(0)
    expect(JSON.parse(records[2]!.value)).toEqual([1, 'two', { three: 3 }])
    expect(records[3]!.headers.filter(([name]) => name.startsWith('esdb-record-headers-key-'))).toHaveLength(500)
    expect(header(records[3]!, 'esdb-record-headers-key-499')).toBe('value-499')
    // Metadata that is not a JSON object gives no metadata headers, and does not stop the connector.
    for (const index of [0, 2, 4]) expect(records[index]!.headers.filter(([name]) => name.startsWith('esdb-record-headers-'))).toEqual([])
    expect(records.every((record) => header(record, 'esdb-record-stream-id') === stream)).toBe(true)
    expect(records[0]!.key).toBe(stream)
    const listed = await sink.api.request('GET', `/connectors?connectorId=${connectorId}`)
    expect((JSON.parse(listed.text) as { items: Array<{ state: string }> }).items[0]?.state).toBe('CONNECTOR_STATE_RUNNING')
    expect((await fetch(`${sink.baseUrl}/health/live`)).status).toBe(200)
  }, 120_000)

  test('an event larger than the broker accepts stops the connector with MESSAGE_TOO_LARGE; nothing after it is delivered, the checkpoint stays before it, a restart stops at the same event', async () => {
    const topic = await rig.createTopic({ partitions: 1, replicationFactor: 1 })
    const stream = unique('TooLarge-')
    await rig.appendEvents(stream, 5)
    const connectorId = await createAndStart(baseSettings(topic, front.bootstrapServers, {
      'authentication:securityProtocol': 'SaslPlaintext',
      'authentication:saslMechanism': 'Plain',
      'authentication:username': frontUser,
      'authentication:password': frontPassword,
      'subscription:filter:scope': 'stream',
      'subscription:filter:filterType': 'streamId',
      'subscription:filter:expression': stream,
      'autocommit:interval': '100',
    }))
    const delivered = await rig.readTopic(topic, 5)
    const lastDelivered = BigInt(header(delivered.at(-1)!, 'esdb-record-log-position')!)
    let checkpoint: bigint | undefined
    for (let attempt = 0; attempt < 100 && checkpoint !== lastDelivered; attempt++) {
      checkpoint = await lastCheckpoint(connectorId)
      if (checkpoint !== lastDelivered) await Bun.sleep(100)
    }
    expect(checkpoint).toBe(lastDelivered)

    await rig.client.appendToStream(stream, [
      jsonEvent({ type: 'TestEvent', data: { seq: 5, stream, padding: randomBytes(maxMessageBytes * 2).toString('base64') } }),
      jsonEvent({ type: 'TestEvent', data: { seq: 6, stream } }),
      jsonEvent({ type: 'TestEvent', data: { seq: 7, stream } }),
    ])
    const stopped = await sink.api.waitForState(connectorId, 'CONNECTOR_STATE_STOPPED', 60_000)
    expect((stopped.errorDetails as { code: string }).code).toBe('MESSAGE_TOO_LARGE')
    expect(front.problems().some((problem) => problem.includes('MESSAGE_TOO_LARGE'))).toBe(true)
    // The connector has stopped (the positive marker): kcat reads the topic to its end.
    const afterStop = await rig.readTopic(topic)
    expect(afterStop.map((record) => (JSON.parse(record.value) as { seq: number }).seq)).toEqual([0, 1, 2, 3, 4])
    expect(await lastCheckpoint(connectorId)).toBe(lastDelivered)
    expect(stopped.position).toBe(lastDelivered.toString())

    // A restart reads from the checkpoint and stops at the same event again: it is neither skipped nor half-sent.
    const problemsBefore = front.problems().filter((problem) => problem.includes('MESSAGE_TOO_LARGE')).length
    expect((await sink.api.request('POST', `/connectors/${connectorId}/start`)).status).toBe(200)
    let again: Record<string, unknown> | undefined
    for (let attempt = 0; attempt < 300; attempt++) {
      const listed = JSON.parse((await sink.api.request('GET', `/connectors?connectorId=${connectorId}`)).text) as { items: Array<Record<string, unknown>> }
      const item = listed.items[0]!
      if (item.state === 'CONNECTOR_STATE_STOPPED' && front.problems().filter((problem) => problem.includes('MESSAGE_TOO_LARGE')).length > problemsBefore) {
        again = item
        break
      }
      await Bun.sleep(100)
    }
    expect(again, 'the restarted connector did not stop again at the oversized event').toBeDefined()
    expect((again!.errorDetails as { code: string }).code).toBe('MESSAGE_TOO_LARGE')
    expect((await rig.readTopic(topic)).map((record) => (JSON.parse(record.value) as { seq: number }).seq)).toEqual([0, 1, 2, 3, 4])
    expect(await lastCheckpoint(connectorId)).toBe(lastDelivered)
  }, 180_000)
})
