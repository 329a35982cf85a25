/**
 * The demo: the main job end to end on this machine. It starts a KurrentDB emulator, a Kafka with a SASL_SSL
 * listener (a real Apache Kafka where Java 17+ and its jars are there, else librdkafka's mock cluster behind the
 * rig's SASL_SSL front; it says which), and the built binary; runs the user documentation's tutorial with curl (the same JSON body and
 * commands, only addresses changed); appends LoanRequested events; and prints what an independent Kafka client
 * (kcat) reads back from the topic. Everything it starts is stopped at the end, also on failure or Ctrl-C.
 */
import { jsonEvent, KurrentDBClient } from '@kurrent/kurrentdb-client'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { tutorialKafkaUser, tutorialSettings } from '../test/support/documentation-examples.ts'
import { startKafkaSecurityFront } from '../test/support/kafka-security-front.ts'
import { startKafkaTestBroker } from '../test/support/kafka-test-broker.ts'
import { readTopicWithKcat } from '../test/support/kcat.ts'
import { realKafkaUnavailableReason, startRealKafkaCluster } from '../test/support/real-kafka-cluster.ts'
import { spawnKurrentDbEmulator } from '../test/support/kurrentdb-emulator-process.ts'
import { sinkApi, startSinkProcess } from '../test/support/sink-process.ts'

const connectorId = 'kafka-sink-quickstart'
const apiUser = { user: 'admin', password: 'password' } // the tutorial's curl -u admin:password

const cleanups: Array<() => Promise<unknown>> = []
const cleanUp = async () => {
  for (const cleanup of cleanups.reverse().splice(0)) await cleanup().catch(() => {})
}
process.on('SIGINT', () => void cleanUp().then(() => process.exit(130)))

const step = (text: string) => console.log(`\n\x1b[1m▶ ${text}\x1b[0m`)

async function curl(args: string[]): Promise<string> {
  console.log(`$ curl ${args.map((arg) => (/[\s'"]/.test(arg) ? `'${arg}'` : arg)).join(' ')}`)
  const child = Bun.spawn(['curl', '-sS', ...args], { stdout: 'pipe', stderr: 'pipe' })
  const [output, errors, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited])
  if (exitCode !== 0) throw new Error(`curl failed (${exitCode}): ${errors.trim()}`)
  console.log(output.trim())
  return output
}

async function main() {
  const workDir = await mkdtemp(join(tmpdir(), 'kafka-sink-demo-'))
  cleanups.push(() => rm(workDir, { recursive: true, force: true }))

  const kafka = await startKafka()
  step('Starting a KurrentDB emulator')
  const kurrentdb = await spawnKurrentDbEmulator()
  cleanups.push(() => kurrentdb.stop())
  console.log(`KurrentDB: ${kurrentdb.connectionString}\nKafka (SASL_SSL, PLAIN): ${kafka.saslSsl}`)

  step('Starting dist/kafka-sink')
  const tokenFile = join(workDir, 'data-protection-token')
  await writeFile(tokenFile, crypto.randomUUID())
  const sink = await startSinkProcess({
    kurrentdb: kurrentdb.connectionString,
    withCredentials: false,
    args: ['--api-user', apiUser.user, '--api-password', apiUser.password, '--data-protection-token-file', tokenFile],
    // The brokers' certificate comes from a throwaway CA; the sink trusts it the way it trusts any private CA.
    env: { SSL_CERT_FILE: kafka.caFile },
  })
  cleanups.push(() => sink.stop())
  console.log(`kafka-sink API: ${sink.baseUrl}`)

  step('Step 1: create the connector with the tutorial\'s kafka-sink-config.json (only bootstrapServers changed)')
  const configFile = join(workDir, 'kafka-sink-config.json')
  await writeFile(configFile, JSON.stringify({ settings: tutorialSettings(kafka.saslSsl) }, null, 2))
  const credentials = `${apiUser.user}:${apiUser.password}`
  await curl(['-i', '-L', '-u', credentials, '-H', 'content-type: application/json', '-d', `@${configFile}`, '-X', 'POST', `${sink.baseUrl}/connectors/${connectorId}`])
  await curl(['-u', credentials, `${sink.baseUrl}/connectors/${connectorId}/settings`])

  step('Step 2: start the connector')
  await curl(['-i', '-L', '-u', credentials, `${sink.baseUrl}/connectors/${connectorId}/start`])
  await sinkApi(sink.baseUrl, apiUser).waitForState(connectorId, 'CONNECTOR_STATE_RUNNING')
  console.log('state: CONNECTOR_STATE_RUNNING')

  step('Step 3: append LoanRequested events to LoanRequest-1 and LoanRequest-2')
  const client = KurrentDBClient.connectionString(kurrentdb.connectionString)
  cleanups.push(() => client.dispose())
  const loans = [
    { stream: 'LoanRequest-1', data: { Amount: 10000, loanTerm: 12 } },
    { stream: 'LoanRequest-2', data: { Amount: 2500, loanTerm: 6 } },
    { stream: 'LoanRequest-1', data: { Amount: 12000, loanTerm: 24 } },
    { stream: 'LoanRequest-2', data: { Amount: 800, loanTerm: 3 } },
  ]
  for (const loan of loans) {
    await client.appendToStream(loan.stream, jsonEvent({ type: 'LoanRequested', data: loan.data, metadata: { source: 'demo' } }))
    console.log(`appended LoanRequested to ${loan.stream}: ${JSON.stringify(loan.data)}`)
  }

  step('Step 4: what an independent Kafka client (kcat) reads from the topic "loans"')
  const records = await readTopicWithKcat({ bootstrapServers: kafka.plaintext, topic: 'loans', expectedCount: loans.length, timeoutMs: 30_000 })
  for (const record of records.sort((left, right) => left.timestamp - right.timestamp)) {
    console.log(`\npartition ${record.partition} offset ${record.offset}  key: ${record.key}`)
    console.log(`  value: ${record.value}`)
    for (const [name, value] of record.headers) console.log(`  ${name}: ${value}`)
  }
  if (records.length < loans.length) throw new Error(`expected ${loans.length} records on the topic, read ${records.length}`)
  console.log(`\n\x1b[1m✔ ${records.length} events went from KurrentDB to ${kafka.description} over SASL_SSL.\x1b[0m`)
}

/** A real Kafka where it can run, else the mock behind the security front; the topic `loans` exists on either. */
async function startKafka(): Promise<{ description: string; saslSsl: string; plaintext: string; caFile: string }> {
  const users = { [tutorialKafkaUser.name]: tutorialKafkaUser.password }
  const unavailable = realKafkaUnavailableReason()
  if (unavailable === undefined) {
    step('Starting a real Apache Kafka 4.4 (KRaft, 1 broker) with a SASL_SSL listener')
    const cluster = await startRealKafkaCluster({ brokers: 1, users })
    cleanups.push(() => cluster.stop())
    await cluster.createTopic('loans', { partitions: 3 })
    return { description: 'a real Apache Kafka broker', saslSsl: cluster.listeners.saslSsl, plaintext: cluster.bootstrapServers, caFile: cluster.caFile }
  }
  step(`Starting librdkafka's mock Kafka cluster (3 brokers) behind a SASL_SSL front — no real Kafka here: ${unavailable}`)
  const broker = await startKafkaTestBroker({ brokers: 3 })
  cleanups.push(() => broker.stop())
  await broker.createTopic('loans', { partitions: 3, replicationFactor: 3 })
  const front = await startKafkaSecurityFront({ broker, protocol: 'saslSsl', users })
  cleanups.push(() => front.close())
  return { description: "librdkafka's mock Kafka cluster", saslSsl: front.bootstrapServers, plaintext: broker.bootstrapServers, caFile: front.caFile }
}

try {
  await main()
} catch (error) {
  console.error(`\ndemo failed: ${(error as Error).message}`)
  process.exitCode = 1
} finally {
  await cleanUp()
}
