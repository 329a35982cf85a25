/**
 * Several kafka-sink instances on one KurrentDB, as sidecars beside each node of a cluster: each connector runs on
 * exactly one of them (a lease in KurrentDB), any instance manages every connector, and an instance that dies, is
 * paused past its lease, or is restarted hands its connectors over without losing an event. What reaches Kafka is
 * read back with kcat. Leases last 3 s here (15 s by default) so that the takeovers fit in a test.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { randomUUID } from 'node:crypto'
import { baseSettings, payloadOf, startRig, type Rig } from '../support/rig.ts'

const leaseDurationMs = 3_000
type Instance = Awaited<ReturnType<Rig['startSink']>> & { readonly instanceId: string }

let rig: Rig
beforeAll(async () => {
  rig = await startRig({ brokers: 1 })
})
afterAll(async () => {
  await rig?.close()
})

const unique = (prefix: string) => `${prefix}${randomUUID().slice(0, 8)}`

async function startInstance(instanceId: string): Promise<Instance> {
  const sink = await rig.startSink({ args: ['--data-protection-token', 'e2e-token', '--instance-id', instanceId, '--lease-duration', `${leaseDurationMs}ms`] })
  return { ...sink, instanceId }
}

/** Appends `batch` events to every stream every `everyMs` until stopped; resolves with how many each stream got. */
function appendSteadily(streams: readonly string[], batch = 10, everyMs = 100) {
  const appended = new Map(streams.map((stream) => [stream, 0]))
  let stopped = false
  const done = (async () => {
    while (!stopped) {
      await Promise.all(streams.map(async (stream) => {
        const first = appended.get(stream)!
        appended.set(stream, first + batch)
        await rig.appendEvents(stream, batch, { firstSeq: first })
      }))
      await Bun.sleep(everyMs)
    }
  })()
  return {
    appended,
    stop: async () => {
      stopped = true
      await done
      return appended
    },
  }
}

interface Delivery {
  readonly lost: number
  readonly duplicates: number
  readonly outOfOrder: number
}

/** Every event of every stream, as Kafka holds them: none lost, first copies in append order, duplicates counted. */
async function deliveryOf(topic: string, appended: ReadonlyMap<string, number>): Promise<Delivery> {
  const expected = [...appended.values()].reduce((sum, count) => sum + count, 0)
  const records = await rig.readTopic(topic, expected, 60_000)
  const seen = new Map<string, number[]>()
  for (const record of records) {
    const { stream, seq } = payloadOf(record)
    if (!seen.has(stream)) seen.set(stream, [])
    seen.get(stream)!.push(seq)
  }
  let lost = 0
  let duplicates = 0
  let outOfOrder = 0
  for (const [stream, count] of appended) {
    const sequence = seen.get(stream) ?? []
    const firstCopies: number[] = []
    const distinct = new Set<number>()
    for (const seq of sequence) {
      if (distinct.has(seq)) duplicates++
      else {
        distinct.add(seq)
        firstCopies.push(seq)
      }
    }
    for (let seq = 0; seq < count; seq++) if (!distinct.has(seq)) lost++
    for (let index = 1; index < firstCopies.length; index++) if (firstCopies[index]! < firstCopies[index - 1]!) outOfOrder++
  }
  return { lost, duplicates, outOfOrder }
}

/** Connector ids are fixed (the emulator is this file's own), so how rendezvous spreads them is the same every run. */
async function createConnectors(via: Instance, prefix: string, topic: string, streams: readonly string[]): Promise<string[]> {
  const ids: string[] = []
  for (const [index, stream] of streams.entries()) {
    const connectorId = `${prefix}-${index + 1}`
    const settings = baseSettings(topic, rig.broker.bootstrapServers, { 'subscription:filter:scope': 'stream', 'subscription:filter:filterType': 'streamId', 'subscription:filter:expression': stream })
    const created = await via.api.request('POST', `/connectors/${connectorId}`, { settings })
    expect(created.status, created.text).toBe(200)
    ids.push(connectorId)
  }
  return ids
}

/** Polls one instance's view until the connector runs on an instance `accept` agrees with. */
async function waitForOwner(via: Instance, connectorId: string, accept: (owner: string | undefined) => boolean, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs
  let last: Record<string, unknown> | undefined
  while (Date.now() < deadline) {
    last = await via.api.connector(connectorId).catch(() => undefined)
    const owner = last?.ownerInstanceId as string | undefined
    if (last?.state === 'CONNECTOR_STATE_RUNNING' && owner !== undefined && accept(owner)) return owner
    await Bun.sleep(100)
  }
  throw new Error(`connector ${connectorId} was not running on an accepted owner within ${timeoutMs} ms; last seen ${JSON.stringify(last)}`)
}

async function marker(topic: string, streams: readonly string[], appended: Map<string, number>): Promise<void> {
  // One more event per stream, then wait for all of them: a positive bound for "nothing else arrives".
  for (const stream of streams) {
    await rig.appendEvents(stream, 1, { firstSeq: appended.get(stream)! })
    appended.set(stream, appended.get(stream)! + 1)
  }
  await rig.readTopic(topic, [...appended.values()].reduce((sum, count) => sum + count, 0), 60_000)
}

describe('three instances on one KurrentDB', () => {
  test('each connector runs on exactly one instance, managed through any of them, every event exactly once', async () => {
    const instances = [await startInstance('sidecar-a'), await startInstance('sidecar-b'), await startInstance('sidecar-c')]
    try {
      const topic = await rig.createTopic({ replicationFactor: 1 })
      const streams = [unique('A-'), unique('B-'), unique('C-'), unique('D-')]
      // Created through the first instance, started through the second: the owner may be the third.
      const ids = await createConnectors(instances[0]!, 'steady', topic, streams)
      for (const connectorId of ids) expect((await instances[1]!.api.request('POST', `/connectors/${connectorId}/start`)).status).toBe(200)
      const owners = await Promise.all(ids.map((connectorId) => waitForOwner(instances[2]!, connectorId, () => true)))
      // Every instance agrees on each connector's owner.
      for (const instance of instances) {
        for (const [index, connectorId] of ids.entries()) expect((await instance.api.connector(connectorId))?.ownerInstanceId).toBe(owners[index]!)
      }
      expect(new Set(owners).size).toBeGreaterThan(1)

      const load = appendSteadily(streams)
      await Bun.sleep(2_000)
      const appended = await load.stop()
      await marker(topic, streams, appended)
      expect(await deliveryOf(topic, appended)).toEqual({ lost: 0, duplicates: 0, outOfOrder: 0 })

      // Stopped through the third instance: the owner stops it, and every instance sees it stopped and unowned.
      const stopped = await instances[2]!.api.request('POST', `/connectors/${ids[0]}/stop`)
      expect(stopped.status).toBe(200)
      await instances[0]!.api.waitForState(ids[0]!, 'CONNECTOR_STATE_STOPPED')
      await instances[1]!.api.waitForState(ids[0]!, 'CONNECTOR_STATE_STOPPED')
    } finally {
      await Promise.all(instances.map((instance) => instance.stop('SIGTERM')))
    }
  }, 120_000)

  test('kill -9 of an owner mid-stream: another instance takes over from the last checkpoint, nothing lost', async () => {
    const instances = [await startInstance('kill-a'), await startInstance('kill-b'), await startInstance('kill-c')]
    try {
      const topic = await rig.createTopic({ replicationFactor: 1 })
      const streams = [unique('K1-'), unique('K2-'), unique('K3-'), unique('K4-')]
      const ids = await createConnectors(instances[0]!, 'kill', topic, streams)
      for (const connectorId of ids) await instances[0]!.api.request('POST', `/connectors/${connectorId}/start`)
      const owners = await Promise.all(ids.map((connectorId) => waitForOwner(instances[0]!, connectorId, () => true)))
      const victim = instances.find((instance) => owners.includes(instance.instanceId))!
      const survivor = instances.find((instance) => instance !== victim)!
      const victimsConnectors = ids.filter((_, index) => owners[index] === victim.instanceId)

      const load = appendSteadily(streams)
      await Bun.sleep(1_000)
      await victim.stop('SIGKILL')
      const killedAt = Date.now()
      for (const connectorId of victimsConnectors) await waitForOwner(survivor, connectorId, (owner) => owner !== victim.instanceId, leaseDurationMs + 15_000)
      const takeoverSeconds = (Date.now() - killedAt) / 1000
      await Bun.sleep(1_000)
      const appended = await load.stop()
      await marker(topic, streams, appended)
      const delivery = await deliveryOf(topic, appended)
      console.log(`kill -9 takeover: ${takeoverSeconds.toFixed(1)} s with a ${leaseDurationMs / 1000} s lease; duplicates (unconfirmed tail): ${delivery.duplicates}`)
      expect({ lost: delivery.lost, outOfOrder: delivery.outOfOrder }).toEqual({ lost: 0, outOfOrder: 0 })
    } finally {
      await Promise.all(instances.map((instance) => instance.stop('SIGTERM').catch(() => null)))
    }
  }, 120_000)

  test('an owner paused past its lease is fenced when it wakes: events appended after it resumed arrive exactly once', async () => {
    const instances = [await startInstance('pause-a'), await startInstance('pause-b')]
    try {
      const topic = await rig.createTopic({ replicationFactor: 1 })
      const streams = [unique('P1-'), unique('P2-'), unique('P3-'), unique('P4-')]
      const ids = await createConnectors(instances[0]!, 'pause', topic, streams)
      for (const connectorId of ids) await instances[0]!.api.request('POST', `/connectors/${connectorId}/start`)
      const owners = await Promise.all(ids.map((connectorId) => waitForOwner(instances[0]!, connectorId, () => true)))
      const paused = instances.find((instance) => owners.includes(instance.instanceId))!
      const other = instances.find((instance) => instance !== paused)!
      const pausedConnectors = ids.filter((_, index) => owners[index] === paused.instanceId)
      const pausedStreams = streams.filter((_, index) => owners[index] === paused.instanceId)

      const appended = new Map(streams.map((stream) => [stream, 0]))
      const append = async (count: number) => {
        for (const stream of streams) {
          await rig.appendEvents(stream, count, { firstSeq: appended.get(stream)! })
          appended.set(stream, appended.get(stream)! + count)
        }
      }
      await append(20)
      await rig.readTopic(topic, 80, 30_000)

      process.kill(paused.pid, 'SIGSTOP')
      for (const connectorId of pausedConnectors) await waitForOwner(other, connectorId, (owner) => owner !== paused.instanceId, leaseDurationMs + 15_000)
      await append(20)
      await rig.readTopic(topic, 160, 30_000)
      process.kill(paused.pid, 'SIGCONT')
      await paused.waitForLine((line) => line.includes('connector lease lost'), 15_000)
      await append(20)
      await marker(topic, streams, appended)

      const records = await rig.readTopic(topic)
      // Appended after the paused instance woke and learnt it lost its leases: seq 40–59 of every stream.
      const afterResume = records.map(payloadOf).filter((payload) => payload.seq >= 40 && payload.seq < 60)
      const copies = new Map<string, number>()
      for (const { stream, seq } of afterResume) copies.set(`${stream}/${seq}`, (copies.get(`${stream}/${seq}`) ?? 0) + 1)
      expect([...copies.values()].filter((count) => count !== 1)).toEqual([])
      expect(copies.size).toBe(20 * streams.length)
      expect((await deliveryOf(topic, appended)).lost).toBe(0)
      // The woken instance does not claim the connectors back by force: they run where the lease says.
      for (const connectorId of pausedConnectors) expect((await other.api.connector(connectorId))?.state).toBe('CONNECTOR_STATE_RUNNING')
      expect(pausedStreams.length).toBeGreaterThan(0)
    } finally {
      for (const instance of instances) process.kill(instance.pid, 'SIGCONT')
      await Promise.all(instances.map((instance) => instance.stop('SIGTERM').catch(() => null)))
    }
  }, 120_000)

  test('a rolling restart of all three, one after another, while events flow: nothing lost', async () => {
    const ids = ['roll-a', 'roll-b', 'roll-c']
    const instances = await Promise.all(ids.map((id) => startInstance(id)))
    try {
      const topic = await rig.createTopic({ replicationFactor: 1 })
      const streams = [unique('R1-'), unique('R2-'), unique('R3-'), unique('R4-')]
      const connectorIds = await createConnectors(instances[0]!, 'roll', topic, streams)
      for (const connectorId of connectorIds) await instances[0]!.api.request('POST', `/connectors/${connectorId}/start`)
      for (const connectorId of connectorIds) await waitForOwner(instances[0]!, connectorId, () => true)

      const load = appendSteadily(streams)
      for (let index = 0; index < instances.length; index++) {
        expect(await instances[index]!.stop('SIGTERM')).toBe(0)
        instances[index] = await startInstance(ids[index]!)
      }
      for (const connectorId of connectorIds) await waitForOwner(instances[0]!, connectorId, () => true)
      const appended = await load.stop()
      await marker(topic, streams, appended)
      const delivery = await deliveryOf(topic, appended)
      console.log(`rolling restart of 3 instances: duplicates ${delivery.duplicates}`)
      expect({ lost: delivery.lost, outOfOrder: delivery.outOfOrder }).toEqual({ lost: 0, outOfOrder: 0 })
    } finally {
      await Promise.all(instances.map((instance) => instance.stop('SIGTERM').catch(() => null)))
    }
  }, 180_000)
})
