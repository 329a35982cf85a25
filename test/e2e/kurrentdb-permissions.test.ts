/**
 * The sink against a KurrentDB in secure mode with its default users and ACLs (the emulator over TLS): the sink's
 * streams (`$kafka-sink/…`) and `$all` are `$admins` only, so a least-privilege user cannot run the sink. It must say
 * so at start, once, naming the rights it needs, instead of retrying as if KurrentDB were down.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { join } from 'node:path'
import { createTestCertificates, type TestCertificates } from '../support/kafka-security-front/certificates.ts'
import { spawnKurrentDbEmulator, type KurrentDbEmulatorProcess } from '../support/kurrentdb-emulator-process.ts'
import { secureEmulatorConnectionString } from '../support/kurrentdb-emulator/connection-string.ts'
import { sinkApi, startSinkProcess } from '../support/sink-process.ts'

let certificates: TestCertificates
let emulator: KurrentDbEmulatorProcess

beforeAll(async () => {
  certificates = await createTestCertificates('kurrentdb emulator')
  emulator = await spawnKurrentDbEmulator({ tls: { certFile: join(certificates.dir, 'server.pem'), keyFile: join(certificates.dir, 'server.key'), caFile: certificates.caFile } })
})
afterAll(async () => {
  await emulator?.stop()
  await certificates?.remove()
})

const connectionAs = (user: string) => secureEmulatorConnectionString(emulator.port, certificates.caFile, { user, password: 'changeit' })

test('a user outside $admins: the sink stops at start with one line naming the rights it needs', async () => {
  const sink = await startSinkProcess({ kurrentdb: connectionAs('ops'), kurrentdbInEnvironment: true, waitForReady: false })
  const line = await sink.waitForLine((text) => text.startsWith('stderr: kafka-sink:'), 30_000)
  expect(line).toContain('KurrentDB refused access')
  expect(line).toContain('$admins')
  expect(line).toContain('$kafka-sink streams')
  expect(await sink.stop()).toBe(2)
  expect(sink.lines().filter((text) => text.startsWith('stderr:'))).toHaveLength(1)
}, 60_000)

test('an admin user: the sink loads and creates connectors', async () => {
  const sink = await startSinkProcess({ kurrentdb: connectionAs('admin'), kurrentdbInEnvironment: true })
  const api = sinkApi(sink.baseUrl)
  const created = await api.request('POST', '/connectors/permissions-admin', { settings: { instanceTypeName: 'kafka-sink', topic: 't', bootstrapServers: 'localhost:9092' } })
  expect(created.status).toBe(200)
  expect(await sink.stop()).toBe(0)
}, 60_000)
