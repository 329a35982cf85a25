/**
 * The KurrentDB emulator as its own process (spawnKurrentDbEmulator), as end-to-end tests use it to make
 * KurrentDB go away and come back: `down` must look like a server outage to the client, and `up` must
 * bring back the same data on the same port.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { jsonEvent, KurrentDBClient, START, UnavailableError, type ResolvedEvent } from '@kurrent/kurrentdb-client'
import { spawnKurrentDbEmulator, type KurrentDbEmulatorProcess } from '../../support/kurrentdb-emulator-process.ts'

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = []
  for await (const item of iterable) items.push(item)
  return items
}

const grpcUnavailable = 14

function typesOf(events: ResolvedEvent[]): string[] {
  return events.map((resolved) => resolved.event!.type)
}

describe('the emulator process', () => {
  let emulator: KurrentDbEmulatorProcess
  const clients: KurrentDBClient[] = []
  const connect = (): KurrentDBClient => {
    const client = KurrentDBClient.connectionString(emulator.connectionString)
    clients.push(client)
    return client
  }

  beforeAll(async () => {
    emulator = await spawnKurrentDbEmulator({ positionBase: 2n ** 60n })
  })
  afterAll(async () => {
    for (const client of clients) await client.dispose()
    await emulator?.stop()
  })

  test('serves the client and reports counts', async () => {
    expect(emulator.connectionString).toBe(`kurrentdb://127.0.0.1:${emulator.port}?tls=false&discoveryInterval=10`)
    const client = connect()
    await client.appendToStream('process-stream', [jsonEvent({ type: 'a', data: {} }), jsonEvent({ type: 'b', data: {} })])
    const [first] = await collect(client.readStream('process-stream'))
    expect(first!.event!.position!.commit).toBe(2n ** 60n)
    expect(await emulator.stats()).toMatch(/^events=2 streams=1 bytes=\d+ last-position=\d+ open-calls=\d+ serving=true$/)
  })

  test('seed appends a synthetic backlog the client reads back in order, spread over the streams', async () => {
    const client = connect()
    const last = await emulator.seed({ events: 250, streams: 3, prefix: 'seeded', dataBytes: 150 })
    const events = (await collect(client.readAll({ fromPosition: START }))).filter((resolved) => resolved.event?.streamId.startsWith('seeded-'))
    expect(events).toHaveLength(250)
    expect(events.at(-1)!.event!.position!.commit).toBe(last!)
    const first = events[0]!.event!
    expect(first.type).toBe('BenchmarkEvent')
    expect(JSON.stringify(first.data).length).toBeGreaterThanOrEqual(140)
    expect(new Set(events.map((resolved) => resolved.event!.streamId))).toEqual(new Set(['seeded-0', 'seeded-1', 'seeded-2']))
    const stream1 = events.filter((resolved) => resolved.event!.streamId === 'seeded-1').map((resolved) => (resolved.event!.data as { seq: number }).seq)
    expect(stream1).toEqual(Array.from({ length: stream1.length }, (_, seq) => seq))
  })

  test('down fails an open subscription with UNAVAILABLE; up serves the same data on the same port', async () => {
    const client = connect()
    const subscription = client.subscribeToAll({ fromPosition: START })
    const failed = new Promise<Error>((resolve) => subscription.once('error', resolve))
    const caughtUp = new Promise<void>((resolve) => subscription.once('caughtUp', () => resolve()))
    subscription.on('data', () => {})
    await caughtUp

    await emulator.down()
    expect(await failed).toBeInstanceOf(UnavailableError)
    expect(await emulator.stats()).toMatch(/serving=false$/)
    const whileDown = KurrentDBClient.connectionString(emulator.connectionString)
    try {
      const error = await whileDown.appendToStream('process-stream', jsonEvent({ type: 'lost', data: {} })).catch((caught: unknown) => caught)
      // The client's first call is its capability probe, whose failure it rethrows as the raw gRPC error.
      expect(error).toMatchObject({ code: grpcUnavailable })
    } finally {
      await whileDown.dispose()
    }

    await emulator.up()
    const after = connect()
    expect(typesOf(await collect(after.readStream('process-stream')))).toEqual(['a', 'b'])
    await after.appendToStream('process-stream', jsonEvent({ type: 'c', data: {} }), { streamState: 1n })
    expect(typesOf(await collect(after.readStream('process-stream')))).toEqual(['a', 'b', 'c'])
  })

  test('stop ends the process', async () => {
    const other = await spawnKurrentDbEmulator()
    await other.stop()
    expect(() => process.kill(other.pid, 0)).toThrow()
  })
})
