/**
 * The emulator in secure mode (TLS) applies a default server's users and ACLs (authorization.ts, from KurrentDB's
 * `LegacyStreamPermissionAssertion.cs` and `SystemSettings.Default`): `$`-prefixed streams and `$all` are `$admins`
 * only, other streams are open, a stream's own `$acl` overrides the default, and bad credentials are refused.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { AccessDeniedError, jsonEvent, KurrentDBClient, START } from '@kurrent/kurrentdb-client'
import { createTestCertificates, type TestCertificates } from '../../support/kafka-security-front/certificates.ts'
import { startKurrentDbEmulator, type KurrentDbEmulator } from '../../support/kurrentdb-emulator.ts'
import { secureEmulatorConnectionString } from '../../support/kurrentdb-emulator/connection-string.ts'

let certificates: TestCertificates
let emulator: KurrentDbEmulator
const clients: KurrentDBClient[] = []

beforeAll(async () => {
  certificates = await createTestCertificates('kurrentdb emulator')
  emulator = await startKurrentDbEmulator({ tls: { certPem: certificates.serverCertPem, keyPem: certificates.serverKeyPem } })
})
afterAll(async () => {
  await Promise.allSettled(clients.map((client) => client.dispose()))
  await emulator?.close()
  await certificates?.remove()
})

function clientAs(user: string, password: string): KurrentDBClient {
  const client = KurrentDBClient.connectionString(secureEmulatorConnectionString(emulator.port, certificates.caFile, { user, password }))
  clients.push(client)
  return client
}

async function failureOf(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work()
  } catch (error) {
    return error
  }
  return undefined
}

async function readAllTypes(client: KurrentDBClient, stream: string): Promise<string[]> {
  const types: string[] = []
  for await (const resolved of client.readStream(stream)) types.push(resolved.event!.type)
  return types
}

describe('default users and ACLs', () => {
  test('admin may write and read a $-prefixed stream and read $all', async () => {
    const admin = clientAs('admin', 'changeit')
    await admin.appendToStream('$kafka-sink/acl-test', jsonEvent({ type: 'e', data: {} }))
    expect(await readAllTypes(admin, '$kafka-sink/acl-test')).toEqual(['e'])
    const all: string[] = []
    for await (const resolved of admin.readAll({ fromPosition: START, maxCount: 10 })) all.push(resolved.event!.streamId)
    expect(all).toContain('$kafka-sink/acl-test')
  })

  test('ops may use ordinary streams but neither $-prefixed streams nor $all', async () => {
    const ops = clientAs('ops', 'changeit')
    await ops.appendToStream('orders-acl', jsonEvent({ type: 'e', data: {} }))
    expect(await readAllTypes(ops, 'orders-acl')).toEqual(['e'])
    expect(await failureOf(() => ops.appendToStream('$kafka-sink/ops-test', jsonEvent({ type: 'e', data: {} })))).toBeInstanceOf(AccessDeniedError)
    expect(await failureOf(() => readAllTypes(ops, '$kafka-sink/acl-test'))).toBeInstanceOf(AccessDeniedError)
    expect(await failureOf(async () => {
      for await (const _ of ops.readAll({ fromPosition: START, maxCount: 1 })) break
    })).toBeInstanceOf(AccessDeniedError)
  })

  test("a stream's own $acl overrides the default", async () => {
    const admin = clientAs('admin', 'changeit')
    await admin.appendToStream('$kafka-sink/granted', jsonEvent({ type: 'e', data: {} }))
    await admin.setStreamMetadata('$kafka-sink/granted', { acl: { readRoles: ['ops'] } })
    expect(await readAllTypes(clientAs('ops', 'changeit'), '$kafka-sink/granted')).toEqual(['e'])
  })

  test('a wrong password is refused', async () => {
    expect(await failureOf(() => clientAs('admin', 'wrong').appendToStream('orders-acl', jsonEvent({ type: 'e', data: {} })))).toBeInstanceOf(AccessDeniedError)
  })
})
