// The seed's curl commands, run with the real curl against the API listening on a socket (the KurrentDB emulator
// behind it), exactly as written except for host, port and the Kafka address. Proves what curl really sends: the
// tutorial's start command is a GET, its create reads the body from a file, and the quickstart sends no credentials.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHttpApi } from '../../../src/api/http-api.ts'
import { createConnectorService, type RunningConnectorService } from '../../../src/connectors/connector-service.ts'
import { silentLogger } from '../../../src/observability/logger.ts'
import { createSinkMetrics } from '../../../src/observability/metrics.ts'
import { connectToKurrentDb, type KurrentDbConnection } from '../../../src/source/kurrentdb-connection.ts'
import { startKafkaTestBroker, uniqueTopicName, type KafkaTestBroker } from '../../support/kafka-test-broker.ts'
import { startKurrentDbEmulator, type KurrentDbEmulator } from '../../support/kurrentdb-emulator.ts'

interface Server {
  readonly baseUrl: string
  stop(): Promise<void>
}

async function curl(args: string[], cwd: string): Promise<{ exitCode: number; stdout: string }> {
  const child = Bun.spawn(['curl', '--silent', '--show-error', '--max-time', '20', ...args], { cwd, stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited])
  if (exitCode !== 0) throw new Error(`curl ${args.join(' ')} exited ${exitCode}: ${stderr}`)
  return { exitCode, stdout }
}

describe('the seed tutorial and quickstart, with real curl over a socket', () => {
  let emulator: KurrentDbEmulator
  let connection: KurrentDbConnection
  let service: RunningConnectorService
  let broker: KafkaTestBroker
  let workDir: string
  const servers: Server[] = []

  const serve = (credentials: { user: string; password: string } | undefined, maxBodyBytes?: number): Server => {
    const app = createHttpApi({
      service,
      credentials,
      checkReady: async () => ({ ready: true }),
      metrics: createSinkMetrics().registry,
      logger: silentLogger,
      version: '0.0.0-test',
      ...(maxBodyBytes === undefined ? {} : { maxBodyBytes }),
    }).listen({ hostname: '127.0.0.1', port: 0 })
    const server = {
      baseUrl: `http://127.0.0.1:${app.server!.port}`,
      stop: async () => {
        await app.stop()
      },
    }
    servers.push(server)
    return server
  }

  beforeAll(async () => {
    emulator = await startKurrentDbEmulator()
    connection = connectToKurrentDb(emulator.connectionString)
    service = await createConnectorService({ connection, dataProtectionToken: 'e2e-api-token', logger: silentLogger, metrics: createSinkMetrics(), tuning: { stopGraceMs: 500 } })
    broker = await startKafkaTestBroker({ brokers: 1 })
    workDir = await mkdtemp(join(tmpdir(), 'kafka-sink-api-'))
  })
  afterAll(async () => {
    for (const server of servers) await server.stop()
    await service?.shutdown()
    await connection?.dispose()
    await emulator?.close()
    await broker?.stop()
    if (workDir) await rm(workDir, { recursive: true, force: true })
  }, 30_000)

  test('tutorial steps 1–2: create from a file, view the settings, start with curl -i -L -u', async () => {
    const { baseUrl } = serve({ user: 'admin', password: 'password' })
    const topic = uniqueTopicName('tutorial')
    await broker.createTopic(topic, { partitions: 1, replicationFactor: 1 })
    // The tutorial's kafka-sink-config.json, with the Kafka address and credentials of the test broker (no SASL).
    await writeFile(
      join(workDir, 'kafka-sink-config.json'),
      `{
  "settings": {
    "instanceTypeName": "kafka-sink",
    "subscription:filter:scope": "stream",
    "subscription:filter:filterType": "prefix",
    "subscription:filter:expression": "LoanRequest",
    "topic": "${topic}",
    "bootstrapServers": "${broker.bootstrapServers}",
    "waitForBrokerAck": "true"
  }
}
`,
    )

    const created = await curl(['-i', '-L', '-u', 'admin:password', '-H', 'content-type: application/json', '-d', '@kafka-sink-config.json', '-X', 'POST', `${baseUrl}/connectors/kafka-sink-quickstart`], workDir)
    expect(created.stdout).toStartWith('HTTP/1.1 200 OK')
    expect(created.stdout.trimEnd()).toEndWith('{}')

    const viewed = await curl(['-u', 'admin:password', `${baseUrl}/connectors/kafka-sink-quickstart/settings`], workDir)
    const body = JSON.parse(viewed.stdout) as { settings: Record<string, string>; settingsUpdateTime: string }
    expect(body.settings).toMatchObject({ instanceTypeName: 'kafka-sink', topic, 'subscription:filter:filterType': 'prefix' })

    const started = await curl(['-i', '-L', '-u', 'admin:password', `${baseUrl}/connectors/kafka-sink-quickstart/start`], workDir)
    expect(started.stdout).toStartWith('HTTP/1.1 200 OK')
    expect(started.stdout).toMatch(/^content-type: application\/json/im)
    const stateOf = async () =>
      (JSON.parse((await curl(['-u', 'admin:password', `${baseUrl}/connectors?connectorId=kafka-sink-quickstart`], workDir)).stdout) as { items: { state: string }[] }).items[0]!.state
    const waitFor = async (state: string) => {
      for (let attempt = 0; attempt < 200 && (await stateOf()) !== state; attempt++) await Bun.sleep(50)
      expect(await stateOf()).toBe(state)
    }
    await waitFor('CONNECTOR_STATE_RUNNING')
    await curl(['-X', 'POST', '-u', 'admin:password', `${baseUrl}/connectors/kafka-sink-quickstart/stop`], workDir)
    await waitFor('CONNECTOR_STATE_STOPPED')
  })

  test('without -u the same commands get 401 and a Basic challenge', async () => {
    const { baseUrl } = serve({ user: 'admin', password: 'password' })
    const response = await curl(['-i', `${baseUrl}/connectors/kafka-sink-quickstart/settings`], workDir)
    expect(response.stdout).toStartWith('HTTP/1.1 401 Unauthorized')
    expect(response.stdout).toMatch(/^www-authenticate: Basic realm="kafka-sink"/im)
  })

  test('the quickstart create (bash tab) works as written against an --insecure sink', async () => {
    const { baseUrl } = serve(undefined)
    const json = `{
  "settings": {
    "instanceTypeName": "kafka-sink",
    "topic": "your-topic",
    "bootstrapServers": "your-kafka-cluster-address:9092",
    "subscription:filter:scope": "stream",
    "subscription:filter:filterType": "streamId",
    "subscription:filter:expression": "example-stream",
    "authentication:username": "your-username",
    "authentication:password": "your-password",
    "authentication:securityProtocol": "SaslSsl",
    "waitForBrokerAck": "true"
  }
}`
    const response = await curl(['-X', 'POST', '-H', 'Content-Type: application/json', '-d', json, `${baseUrl}/connectors/mongo-sink-connector`], workDir)
    expect(response.stdout).toBe('{}')
  })

  test('over a socket, an oversized body still gets the Status 413, with or without content-length', async () => {
    const { baseUrl } = serve(undefined, 2048)
    await writeFile(join(workDir, 'large.json'), JSON.stringify({ settings: { padding: 'x'.repeat(100_000) } }))
    for (const extra of [[], ['-H', 'Transfer-Encoding: chunked']]) {
      const response = await curl(['-i', '-X', 'POST', '-H', 'content-type: application/json', '--data-binary', '@large.json', ...extra, `${baseUrl}/connectors/too-large-body`], workDir)
      expect(response.stdout).toStartWith('HTTP/1.1 413')
      const body = JSON.parse(response.stdout.slice(response.stdout.indexOf('\r\n\r\n') + 4)) as { code: number }
      expect(body.code).toBe(8)
    }
  })
})
