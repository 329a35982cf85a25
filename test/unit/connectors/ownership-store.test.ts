// The lease and member streams against the KurrentDB emulator: expected-revision claims, and what a starting
// instance learns of the others from the member stream alone.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createOwnershipStore, type OwnershipStore } from '../../../src/connectors/ownership-store.ts'
import { connectToKurrentDb, type KurrentDbConnection } from '../../../src/source/kurrentdb-connection.ts'
import { startKurrentDbEmulator, type KurrentDbEmulator } from '../../support/kurrentdb-emulator.ts'

let emulator: KurrentDbEmulator
let connection: KurrentDbConnection
let store: OwnershipStore

beforeAll(async () => {
  emulator = await startKurrentDbEmulator()
  connection = connectToKurrentDb(emulator.connectionString)
  store = createOwnershipStore(connection)
})
afterAll(async () => {
  await connection?.dispose()
  await emulator?.close()
})

describe('leases', () => {
  test('of two claims at the same expected revision exactly one is written', async () => {
    const claim = (owner: string) => ({ owner, term: 1, durationMs: 15_000, released: false })
    const outcomes = await Promise.all([store.appendLease('race', claim('a'), undefined), store.appendLease('race', claim('b'), undefined)])
    expect(outcomes.filter((outcome) => outcome.written)).toHaveLength(1)
    const current = await store.readLease('race')
    const winner = outcomes[0]!.written ? 'a' : 'b'
    expect(current).toEqual({ claim: claim(winner), revision: 0n })
    expect((await store.appendLease('race', { ...claim(winner), term: 1 }, 0n)).written).toBe(true)
    expect((await store.appendLease('race', claim('c'), 0n)).written).toBe(false)
  })

  test('a lease never claimed reads as no claim', async () => {
    expect(await store.readLease('never-claimed')).toEqual({ claim: undefined, revision: undefined })
  })
})

describe('recent members', () => {
  test('those that beat within their duration of the newest heartbeat, not those that left', async () => {
    // The client's stream reads give `created` to the second, so the gap is well over a second.
    await store.appendHeartbeat({ instanceId: 'gone', durationMs: 1_000, leaving: false })
    await Bun.sleep(2_100)
    await store.appendHeartbeat({ instanceId: 'leaving', durationMs: 60_000, leaving: false })
    await store.appendHeartbeat({ instanceId: 'alive', durationMs: 60_000, leaving: false })
    await store.appendHeartbeat({ instanceId: 'leaving', durationMs: 60_000, leaving: true })
    const members = await store.readRecentMembers()
    expect(members.map((member) => member.instanceId).sort()).toEqual(['alive'])
  })
})
