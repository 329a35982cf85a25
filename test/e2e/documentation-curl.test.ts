/**
 * The user documentation's curl commands, run with the real curl against the binary, exactly as written except for
 * host, port and the Kafka address; the Kafka side is the test broker behind a SASL_SSL front, and a real Kafka's
 * SASL_SSL listener with PLAIN (as Confluent Cloud has it), so the documented SaslSsl settings are used unchanged. Proves what curl really sends (the tutorial's start is a plain GET, its
 * create reads the body from a file, the quickstart sends no credentials) and that the events reach Kafka.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { jsonEvent } from '@kurrent/kurrentdb-client'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { quickstartKafkaUser, quickstartSettings, tutorialKafkaUser, tutorialSettings } from '../support/documentation-examples.ts'
import { startKafkaSecurityFront } from '../support/kafka-security-front.ts'
import { rigKafkas, startRig, type Rig } from '../support/rig.ts'
import { sinkApi } from '../support/sink-process.ts'

let rig: Rig
let workDirectory: string
/** The SASL_SSL side the documented settings talk to: the mock behind the security front, or a real broker. */
let saslSsl: { bootstrapServers: string; caFile: string; close(): Promise<void> }
const documentedUsers = { [tutorialKafkaUser.name]: tutorialKafkaUser.password, [quickstartKafkaUser.name]: quickstartKafkaUser.password }

async function curl(args: string[]): Promise<string> {
  const child = Bun.spawn(['curl', '--silent', '--show-error', '--max-time', '30', ...args], { cwd: workDirectory, stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited])
  if (exitCode !== 0) throw new Error(`curl ${args.join(' ')} exited ${exitCode}: ${stderr}`)
  return stdout
}

const trustFront = () => ({ SSL_CERT_FILE: saslSsl.caFile })

describe.each(rigKafkas())('%s Kafka', (kafka) => {
  beforeAll(async () => {
    workDirectory = await mkdtemp(join(tmpdir(), 'kafka-sink-docs-'))
    if (kafka === 'mock') {
      rig = await startRig()
      const front = await startKafkaSecurityFront({ broker: rig.broker, protocol: 'saslSsl', users: documentedUsers })
      saslSsl = { bootstrapServers: front.bootstrapServers, caFile: front.caFile, close: () => front.close() }
    } else {
      rig = await startRig({ kafka: 'real', users: documentedUsers })
      saslSsl = { bootstrapServers: rig.realKafka.listeners.saslSsl, caFile: rig.realKafka.caFile, close: async () => {} }
    }
  }, 120_000) // a real Kafka's JVM takes seconds to start on a busy machine
  afterAll(async () => {
    await saslSsl?.close()
    await rig?.close()
    await rm(workDirectory, { recursive: true, force: true })
  })

  describe('the tutorial "Sink to Confluent Cloud"', () => {
    test('steps 1 to 4 as written: create from kafka-sink-config.json, view the settings, start, events reach the topic', async () => {
      const sink = await rig.startSink({ withCredentials: false, args: ['--api-user', 'admin', '--api-password', 'password', '--data-protection-token', 'docs'], env: trustFront() })
      await rig.createTopicNamed('loans', { partitions: 3 })
      const settings = tutorialSettings(saslSsl.bootstrapServers)
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
        await rig.createTopicNamed(variant.topic, { partitions: 3 })
        const json = JSON.stringify({ settings: quickstartSettings(variant.topic, saslSsl.bootstrapServers) })
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
})
