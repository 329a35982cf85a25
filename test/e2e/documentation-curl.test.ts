/**
 * The user documentation's curl commands, run with the real curl against the binary, exactly as written except for
 * host, port and the Kafka address; the Kafka side is the test broker behind a SASL_SSL front, so the documented
 * SaslSsl settings are used unchanged. Proves what curl really sends (the tutorial's start is a plain GET, its
 * create reads the body from a file, the quickstart sends no credentials) and that the events reach Kafka.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { jsonEvent } from '@kurrent/kurrentdb-client'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { quickstartKafkaUser, quickstartSettings, tutorialKafkaUser, tutorialSettings } from '../support/documentation-examples.ts'
import { startKafkaSecurityFront } from '../support/kafka-security-front.ts'
import { startRig, type Rig } from '../support/rig.ts'
import { sinkApi } from '../support/sink-process.ts'

let rig: Rig
let workDirectory: string
let front: Awaited<ReturnType<typeof startKafkaSecurityFront>>

beforeAll(async () => {
  rig = await startRig()
  workDirectory = await mkdtemp(join(tmpdir(), 'kafka-sink-docs-'))
  front = await startKafkaSecurityFront({ broker: rig.broker, protocol: 'saslSsl', users: { [tutorialKafkaUser.name]: tutorialKafkaUser.password, [quickstartKafkaUser.name]: quickstartKafkaUser.password } })
})
afterAll(async () => {
  await front?.close()
  await rig?.close()
  await rm(workDirectory, { recursive: true, force: true })
})

async function curl(args: string[]): Promise<string> {
  const child = Bun.spawn(['curl', '--silent', '--show-error', '--max-time', '30', ...args], { cwd: workDirectory, stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited])
  if (exitCode !== 0) throw new Error(`curl ${args.join(' ')} exited ${exitCode}: ${stderr}`)
  return stdout
}

const trustFront = () => ({ SSL_CERT_FILE: front.caFile! })

describe('the tutorial "Sink to Confluent Cloud"', () => {
  test('steps 1 to 4 as written: create from kafka-sink-config.json, view the settings, start, events reach the topic', async () => {
    const sink = await rig.startSink({ withCredentials: false, args: ['--api-user', 'admin', '--api-password', 'password', '--data-protection-token', 'docs'], env: trustFront() })
    await rig.broker.createTopic('loans', { partitions: 3, replicationFactor: 3 })
    const settings = tutorialSettings(front.bootstrapServers)
    await writeFile(join(workDirectory, 'kafka-sink-config.json'), JSON.stringify({ settings }, null, 2))
    const url = `${sink.baseUrl}/connectors/kafka-sink-quickstart`

    const created = await curl(['-i', '-L', '-u', 'admin:password', '-H', 'content-type: application/json', '-d', '@kafka-sink-config.json', '-X', 'POST', url])
    expect(created).toStartWith('HTTP/1.1 200 OK')

    const shown = JSON.parse(await curl(['-u', 'admin:password', `${url}/settings`])) as { settings: Record<string, string>; timestamp?: string; settingsUpdateTime: string }
    // The one documented difference: the password is never shown back.
    expect(shown.settings).toEqual({ ...settings, 'authentication:password': '***' })
    expect(Date.parse(shown.settingsUpdateTime)).not.toBeNaN()

    const started = await curl(['-i', '-L', '-u', 'admin:password', `${url}/start`])
    expect(started).toStartWith('HTTP/1.1 200 OK')
    expect(started.toLowerCase()).toContain('content-type: application/json')
    // The binary runs with the tutorial's own API credentials, not the rig's.
    await sinkApi(sink.baseUrl, { user: 'admin', password: 'password' }).waitForState('kafka-sink-quickstart', 'CONNECTOR_STATE_RUNNING')
    for (const stream of ['LoanRequest-1', 'LoanRequest-2']) {
      await rig.client.appendToStream(stream, jsonEvent({ type: 'LoanRequested', data: { Amount: 10000, loanTerm: 12 } }))
    }
    const records = await rig.readTopic('loans', 2)
    expect(records.map((record) => record.key).sort()).toEqual(['LoanRequest-1', 'LoanRequest-2'])
    expect(records.every((record) => JSON.parse(record.value).Amount === 10000)).toBe(true)
    await sink.stop()
  }, 120_000)
})

describe('the quickstart', () => {
  for (const variant of [
    { tab: 'Bash', topic: 'your-topic', path: '/connectors/mongo-sink-connector' },
    { tab: 'Powershell', topic: 'customers', path: '/connectors/kafka-sink-connector' },
  ]) {
    test(`${variant.tab}: the documented body and curl create a connector that delivers example-stream`, async () => {
      // The quickstart's curl sends no credentials: as against KurrentDB, that only works on an insecure node.
      const sink = await rig.startSink({ withCredentials: false, args: ['--insecure', '--data-protection-token', 'docs'], env: trustFront() })
      await rig.broker.createTopic(variant.topic, { partitions: 3, replicationFactor: 3 })
      const json = JSON.stringify({ settings: quickstartSettings(variant.topic, front.bootstrapServers) })
      await curl(['-X', 'POST', '-H', 'Content-Type: application/json', '-d', json, `${sink.baseUrl}${variant.path}`])
      const connectorId = variant.path.split('/').at(-1)!
      const api = sinkApi(sink.baseUrl, undefined)
      expect((await api.request('POST', `/connectors/${connectorId}/start`)).status).toBe(200)
      await api.waitForState(connectorId, 'CONNECTOR_STATE_RUNNING')
      await rig.client.appendToStream('example-stream', jsonEvent({ type: 'ExampleHappened', data: { tab: variant.tab } }))
      const records = await rig.readTopic(variant.topic, 1)
      expect(records.map((record) => JSON.parse(record.value).tab)).toContain(variant.tab)
      await sink.stop()
    }, 120_000)
  }
})
