/**
 * What reaches Kafka, as an independent client (kcat) reads it back, for each example of the user documentation:
 * record shape, partition keys, broker acks on and off, compression types, default headers and filters.
 * Every test runs against the mock cluster and against a real Kafka (where Java is there); one binary and one
 * cluster of each serve every connector of this file; each test has its own topic and streams.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { binaryEvent, jsonEvent, START, type ResolvedEvent } from '@kurrent/kurrentdb-client'
import { randomUUID } from 'node:crypto'
import { expectNoGaps, type KcatRecord } from '../support/kcat.ts'
import { baseSettings, payloadOf, rigKafkas, startRig, type Rig } from '../support/rig.ts'

let rig: Rig
let sink: Awaited<ReturnType<Rig['startSink']>>


const unique = (prefix: string) => `${prefix}${randomUUID().slice(0, 8)}`

async function runConnector(settings: Record<string, unknown>): Promise<string> {
  const connectorId = unique('conn-')
  const created = await sink.api.request('POST', `/connectors/${connectorId}`, { settings })
  expect(created.status, created.text).toBe(200)
  expect((await sink.api.request('POST', `/connectors/${connectorId}/start`)).status).toBe(200)
  await sink.api.waitForState(connectorId, 'CONNECTOR_STATE_RUNNING')
  return connectorId
}

/**
 * The stored events as the client's subscription returns them: unlike its bridge-based readStream (which rounds
 * `created` to the second), the subscription converts the stored ticks, so timestamps compare to the millisecond.
 */
async function storedEvents(stream: string, count: number) {
  const events: Array<NonNullable<ResolvedEvent['event']>> = []
  const subscription = rig.client.subscribeToStream(stream, { fromRevision: START })
  for await (const resolved of subscription) {
    events.push(resolved.event!)
    if (events.length === count) break
  }
  await subscription.unsubscribe()
  return events
}

function header(record: { headers: readonly (readonly [string, string])[] }, name: string): string | undefined {
  return record.headers.find(([key]) => key === name)?.[1]
}

describe.each(rigKafkas())('%s Kafka', (kafka) => {
  beforeAll(async () => {
    rig = await startRig({ kafka })
    sink = await rig.startSink({ args: ['--data-protection-token', 'e2e-token'] })
  }, 120_000) // a real Kafka's JVM takes seconds to start on a busy machine
  afterAll(async () => {
    await rig?.close()
  })

  describe('the Kafka record', () => {
    test('value is the stored bytes unchanged; key, timestamp and esdb-* headers describe the event', async () => {
      const topic = await rig.createTopic()
      const stream = unique('Shape-')
      // Every byte value, invalid UTF-8 included: the value must be the stored bytes, not a decoded/re-encoded copy.
      const data = new Uint8Array(Array.from({ length: 256 }, (_, index) => index))
      const metadata = new Uint8Array(Buffer.from('{"key1":"value1","$correlationId":"c-1"}'))
      await rig.client.appendToStream(stream, [
        binaryEvent({ type: 'LoanRequested', data, metadata }),
        jsonEvent({ type: 'LoanApproved', data: { amount: 1.5, text: 'café' } }),
      ])
      const connectorId = await runConnector(baseSettings(topic, rig.bootstrapServers, { 'subscription:filter:scope': 'stream', 'subscription:filter:filterType': 'prefix', 'subscription:filter:expression': stream }))
      const records = await rig.readTopic(topic, 2)
      expect(records).toHaveLength(2)
      const [first, second] = records as [KcatRecord, KcatRecord]
      const stored = await storedEvents(stream, 2)

      expect(first.valueBytes!.equals(Buffer.from(data))).toBe(true)
      expect(second.valueBytes!.toString('utf8')).toBe(JSON.stringify({ amount: 1.5, text: 'café' }))
      expect(first.key).toBe(stream)
      expect(first.timestamp).toBe(stored[0]!.created.getTime())
      expect(header(first, 'esdb-connector-id')).toBe(connectorId)
      expect(header(first, 'esdb-record-id')).toBe(stored[0]!.id)
      expect(header(first, 'esdb-record-stream-id')).toBe(stream)
      expect(header(first, 'esdb-record-stream-revision')).toBe('0')
      expect(header(first, 'esdb-record-log-position')).toBe(stored[0]!.position!.commit.toString())
      expect(header(first, 'esdb-record-schema-subject')).toBe('LoanRequested')
      expect(header(first, 'esdb-record-schema-type')).toBe('Bytes')
      expect(header(second, 'esdb-record-schema-type')).toBe('Json')
      expect(header(first, 'esdb-record-redacted')).toBe('false')
      expect(header(first, 'esdb-record-timestamp')).toStartWith(stored[0]!.created.toISOString().slice(0, 23))
      expect(header(first, 'esdb-record-headers-key1')).toBe('value1')
      expect(header(first, 'esdb-record-headers-$correlationId')).toBeUndefined()
      expect(header(first, 'esdb-request-id')).toMatch(/^[0-9a-f-]{36}$/)
      expect(header(second, 'esdb-record-schema-subject')).toBe('LoanApproved')
    })

    test('partition key examples: stream regex, streamSuffix and headers', async () => {
      const suffix = randomUUID().slice(0, 6)
      const cases = [
        { settings: { 'partitionKeyExtraction:enabled': 'true', 'partitionKeyExtraction:source': 'stream', 'partitionKeyExtraction:expression': '^(.*)_data$' }, stream: `customer${suffix}_data`, expectedKey: `customer${suffix}` },
        { settings: { 'partitionKeyExtraction:enabled': 'true', 'partitionKeyExtraction:source': 'streamSuffix' }, stream: `user${suffix}-123`, expectedKey: '123' },
        { settings: { 'partitionKeyExtraction:enabled': 'true', 'partitionKeyExtraction:source': 'streamSuffix' }, stream: `order${suffix}-3f2a-77c1`, expectedKey: '3f2a-77c1' },
        { settings: { 'partitionKeyExtraction:enabled': 'true', 'partitionKeyExtraction:source': 'headers', 'partitionKeyExtraction:expression': 'key1,key2' }, stream: `headers${suffix}-1`, expectedKey: 'value1-value2', metadata: { key1: 'value1', key2: 'value2' } },
      ]
      for (const example of cases) {
        const topic = await rig.createTopic()
        await rig.appendEvents(example.stream, 3, example.metadata ? { metadata: example.metadata } : {})
        await runConnector(baseSettings(topic, rig.bootstrapServers, { 'subscription:filter:scope': 'stream', 'subscription:filter:filterType': 'streamId', 'subscription:filter:expression': example.stream, ...example.settings }))
        const records = await rig.readTopic(topic, 3)
        expect(records.map((record) => record.key)).toEqual([example.expectedKey, example.expectedKey, example.expectedKey])
        // One key, one partition: the three events stay in order.
        expect(new Set(records.map((record) => record.partition)).size).toBe(1)
        expect(records.map((record) => payloadOf(record).seq)).toEqual([0, 1, 2])
      }
    })

    test('default headers are added to every message, after the esdb-* ones', async () => {
      const topic = await rig.createTopic()
      const stream = unique('Headers-')
      await rig.appendEvents(stream, 2)
      await runConnector(baseSettings(topic, rig.bootstrapServers, {
        'subscription:filter:scope': 'stream',
        'subscription:filter:filterType': 'streamId',
        'subscription:filter:expression': stream,
        'defaultHeaders:X-API-Key': 'k',
        'defaultHeaders:X-Tenant-ID': 'production-tenant',
      }))
      const records = await rig.readTopic(topic, 2)
      for (const record of records) {
        expect(header(record, 'X-API-Key')).toBe('k')
        expect(header(record, 'X-Tenant-ID')).toBe('production-tenant')
        expect(record.headers.at(-1)![0]).toBe('X-Tenant-ID')
      }
    })
  })

  describe('delivery settings', () => {
    for (const waitForBrokerAck of ['true', 'false']) {
      test(`waitForBrokerAck=${waitForBrokerAck}: every event arrives, in order per stream`, async () => {
        const topic = await rig.createTopic()
        const prefix = unique('Ack-')
        const streams = [`${prefix}-a`, `${prefix}-b`, `${prefix}-c`]
        await Promise.all(streams.map((stream) => rig.appendEvents(stream, 400)))
        await runConnector(baseSettings(topic, rig.bootstrapServers, { waitForBrokerAck, 'subscription:filter:scope': 'stream', 'subscription:filter:filterType': 'prefix', 'subscription:filter:expression': prefix }))
        const records = await rig.readTopic(topic, 1_200)
        const expectedIds = streams.flatMap((stream) => Array.from({ length: 400 }, (_, seq) => `${stream}/${seq}`))
        expectNoGaps(records, expectedIds, (record) => `${payloadOf(record).stream}/${payloadOf(record).seq}`)
        for (const stream of streams) {
          const sequence = records.filter((record) => payloadOf(record).stream === stream).map((record) => payloadOf(record).seq)
          expect(sequence).toEqual([...sequence].sort((left, right) => left - right))
        }
      })
    }

    const compressions = [
      ...['None', 'Gzip', 'Snappy', 'Lz4', 'Zstd'].map((type) => ({ type, level: undefined })),
      // The ends of each codec's documented level range.
      ...[['Gzip', '1'], ['Gzip', '9'], ['Lz4', '12'], ['Zstd', '1'], ['Zstd', '12'], ['Zstd', '-1']].map(([type, level]) => ({ type: type!, level })),
    ]
    for (const { type: compression, level } of compressions) {
      test(`compression:type=${compression}${level === undefined ? '' : `, compression:level=${level}`} is readable by an independent client`, async () => {
        const topic = await rig.createTopic({ partitions: 1, replicationFactor: 1 })
        const stream = unique(`Compression${compression}-`)
        await rig.appendEvents(stream, 50)
        await runConnector(baseSettings(topic, rig.bootstrapServers, { 'compression:type': compression, ...(level === undefined ? {} : { 'compression:level': level }), 'subscription:filter:scope': 'stream', 'subscription:filter:filterType': 'streamId', 'subscription:filter:expression': stream }))
        const records = await rig.readTopic(topic, 50)
        expect(records.map((record) => payloadOf(record).seq)).toEqual(Array.from({ length: 50 }, (_, seq) => seq))
      })
    }
  })

  describe('logging', () => {
    test('logging:enabled=false silences the connector\'s own lines; another connector keeps logging', async () => {
      const topic = await rig.createTopic()
      const stream = unique('Quiet-')
      await rig.appendEvents(stream, 3)
      const settings = (logging: string) => baseSettings(topic, rig.bootstrapServers, { 'logging:enabled': logging, 'subscription:filter:scope': 'stream', 'subscription:filter:filterType': 'streamId', 'subscription:filter:expression': stream })
      const quiet = await runConnector(settings('false'))
      const chatty = await runConnector(settings('true'))
      await rig.readTopic(topic, 6)
      // The connector's own lines; the management API's record of commands (`connector created`) is not the connector's.
      const runtimeMessages = ['"connector starting"', '"connector running"', '"connector caught up; now live"']
      const runtimeLinesOf = (connectorId: string) =>
        sink.lines().filter((line) => line.includes(`"connectorId":"${connectorId}"`) && runtimeMessages.some((message) => line.includes(message)))
      expect(runtimeLinesOf(chatty)).toHaveLength(runtimeMessages.length)
      expect(runtimeLinesOf(quiet)).toEqual([])
    })
  })

  describe('filters', () => {
    test('record scope: an event-type prefix forwards only matching types', async () => {
      const topic = await rig.createTopic({ partitions: 1, replicationFactor: 1 })
      const stream = unique('Types-')
      const type = unique('Matching')
      await rig.appendEvents(stream, 3, { type })
      await rig.appendEvents(stream, 3, { type: 'OtherType', firstSeq: 3 })
      // A later matching event: once it has arrived, the other types before it had their chance to arrive.
      await rig.appendEvents(stream, 1, { type, firstSeq: 6 })
      await runConnector(baseSettings(topic, rig.bootstrapServers, { 'subscription:filter:scope': 'record', 'subscription:filter:filterType': 'prefix', 'subscription:filter:expression': type }))
      const records = await rig.readTopic(topic, 4)
      expect(records.map((record) => payloadOf(record).seq)).toEqual([0, 1, 2, 6])
    })

    test('record scope: a JSONPath forwards the events it selects', async () => {
      const topic = await rig.createTopic()
      const stream = unique('JsonPath-')
      await rig.appendEvents(stream, 10)
      await runConnector(baseSettings(topic, rig.bootstrapServers, {
        'subscription:filter:scope': 'record',
        'subscription:filter:filterType': 'jsonPath',
        'subscription:filter:expression': `$[?@.seq >= 7 && @.stream == '${stream}']`,
      }))
      const records = await rig.readTopic(topic, 3)
      expect(records.map((record) => payloadOf(record).seq)).toEqual([7, 8, 9])
    })

    test('with no filter at all, system events and the sink\'s own streams are never forwarded', async () => {
      const topic = await rig.createTopic()
      const stream = unique('Everything-')
      await rig.appendEvents(stream, 2)
      await runConnector({ instanceTypeName: 'kafka-sink', topic, bootstrapServers: rig.bootstrapServers, 'subscription:initialPosition': 'earliest' })
      // Every other test's events come first (this connector reads all of $all): wait until ours are through.
      let all = await rig.readTopic(topic, 1)
      for (let attempt = 0; attempt < 60 && all.filter((record) => header(record, 'esdb-record-stream-id') === stream).length < 2; attempt++) {
        await Bun.sleep(500)
        all = await rig.readTopic(topic)
      }
      expect(all.filter((record) => header(record, 'esdb-record-stream-id') === stream)).toHaveLength(2)
      for (const record of all) {
        expect(header(record, 'esdb-record-stream-id')!.startsWith('$')).toBe(false)
        expect(header(record, 'esdb-record-schema-subject')!.startsWith('$')).toBe(false)
      }
    })
  })
})
