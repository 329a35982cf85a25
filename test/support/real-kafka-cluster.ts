/**
 * A real Apache Kafka (4.x, KRaft) for the tests, beside librdkafka's mock cluster: the jars scripts/bootstrap
 * resolves from Maven Central (.tools/kafka/lib), run with `java` on free 127.0.0.1 ports in a temporary directory.
 *
 * - 1 broker: one combined broker+controller node (id 1). 3 brokers: a controller-only node (id 3000) and brokers
 *   1..3, so a test can kill or stop any broker, or all of them, without losing the metadata quorum.
 * - Every broker listens on PLAINTEXT, SSL, SASL_PLAINTEXT and SASL_SSL (`listeners`). SASL offers PLAIN,
 *   SCRAM-SHA-256 and SCRAM-SHA-512 for the same users (SCRAM credentials are written at storage format time);
 *   TLS uses a throwaway CA (`caFile`) and a certificate for 127.0.0.1 and localhost.
 * - StandardAuthorizer: `User:admin` and the PLAINTEXT/SSL principal (`User:ANONYMOUS`, also what brokers use
 *   between themselves) are super users; a resource without ACLs is open to everyone, so only the tests that add
 *   ACLs (`denyTopicWrite`) see authorization failures.
 * - Topics are never created automatically (auto.create.topics.enable=false): `createTopic` uses Kafka's own
 *   TopicCommand.
 * - Each JVM runs under a small shell that kills it when the shell's stdin closes, so the brokers die with the
 *   test process even when it is killed; `stop()` and a process exit hook kill them too.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, rmSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createTestCertificates, type TestCertificates } from './kafka-security-front/certificates.ts'

export type RealKafkaListener = 'plaintext' | 'ssl' | 'saslPlaintext' | 'saslSsl'

const listenerNames: Record<RealKafkaListener, string> = {
  plaintext: 'PLAINTEXT',
  ssl: 'SSL',
  saslPlaintext: 'SASL_PLAINTEXT',
  saslSsl: 'SASL_SSL',
}
const listenerKinds = Object.keys(listenerNames) as RealKafkaListener[]

export interface RealKafkaClusterOptions {
  /** 1 (combined node) or 3 (controller + 3 brokers); default 1. */
  readonly brokers?: 1 | 3
  /** user → password for SASL (PLAIN and both SCRAM mechanisms). `admin` is added (a super user) if absent. */
  readonly users?: Readonly<Record<string, string>>
  /** Extra broker settings (server.properties lines), e.g. { 'num.partitions': '6' }. */
  readonly brokerConfig?: Readonly<Record<string, string>>
  /** JVM heap for each node; default 320m. */
  readonly heap?: string
}

export interface RealKafkaTopicPartition {
  readonly partition: number
  readonly leader: number
  readonly replicas: readonly number[]
  readonly isr: readonly number[]
}

export interface RealKafkaCluster {
  /** PLAINTEXT bootstrap list (all brokers). */
  readonly bootstrapServers: string
  /** Bootstrap list of each listener (all brokers), e.g. listeners.saslSsl. */
  readonly listeners: Readonly<Record<RealKafkaListener, string>>
  /** Each broker's own address per listener. */
  readonly brokerAddresses: ReadonlyMap<number, Readonly<Record<RealKafkaListener, string>>>
  readonly brokerIds: readonly number[]
  /** PEM of the CA that signed the brokers' certificate. */
  readonly caFile: string
  /** user → password, the same for PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512. Includes `admin`. */
  readonly users: Readonly<Record<string, string>>
  readonly dir: string
  createTopic(name: string, options?: { partitions?: number; replicationFactor?: number; config?: Readonly<Record<string, string>> }): Promise<void>
  /** Partitions of `topic` with leader, replicas and in-sync replicas, as the cluster reports them now. */
  describeTopic(topic: string): Promise<RealKafkaTopicPartition[]>
  /** Adds an ACL that denies `principal` (e.g. 'User:alice') writes to `topic`. */
  denyTopicWrite(principal: string, topic: string): Promise<void>
  /** SIGKILL: no controlled shutdown, leadership moves only when the controller notices. */
  killBroker(id: number): Promise<void>
  /** SIGTERM: a controlled shutdown (leaders move away first). */
  stopBroker(id: number): Promise<void>
  /** Starts a stopped or killed broker on its former ports and waits until it serves metadata again. */
  startBroker(id: number): Promise<void>
  restartBroker(id: number): Promise<void>
  /** Runs one of Kafka's command-line tools (a main class from the jars) to its end. */
  runTool(mainClass: string, args: readonly string[], options?: { input?: string; timeoutMs?: number; jvmOptions?: readonly string[] }): Promise<KafkaToolRun>
  /** Kills every node and deletes the directory. Idempotent. */
  stop(): Promise<void>
}

export interface KafkaToolRun {
  readonly exitCode: number | null
  readonly timedOut: boolean
  readonly stdout: string
  readonly stderr: string
}

const controllerNodeId = 3000
const startTimeoutMs = 90_000
const stopTimeoutMs = 30_000
const toolTimeoutMs = 60_000

export function kafkaLibDir(): string {
  const toolsDir = process.env.KAFKA_SINK_TOOLS_DIR ?? resolve(import.meta.dir, '../../.tools')
  return join(toolsDir, 'kafka', 'lib')
}

function javaBinary(): string {
  const home = process.env.JAVA_HOME
  return home && existsSync(join(home, 'bin', 'java')) ? join(home, 'bin', 'java') : 'java'
}

/** Why a real Kafka cannot run here (no java 17+, no jars), or undefined when it can. */
export function realKafkaUnavailableReason(): string | undefined {
  const lib = kafkaLibDir()
  if (!existsSync(lib) || !readdirSync(lib).some((name) => name.startsWith('kafka_2.13-'))) {
    return `${lib} has no Kafka jars: run scripts/bootstrap (it resolves them with Maven)`
  }
  const version = spawnSync(javaBinary(), ['-version'], { encoding: 'utf8' })
  if (version.error || version.status !== 0) return 'java is not installed (Kafka 4 needs Java 17+)'
  const major = /version "(\d+)/.exec(version.stderr)?.[1]
  if (major === undefined || Number(major) < 17) return `Kafka 4 needs Java 17+, found ${version.stderr.split('\n')[0]}`
  return undefined
}

export function realKafkaAvailable(): boolean {
  return realKafkaUnavailableReason() === undefined
}

function classpath(): string {
  return join(kafkaLibDir(), '*')
}

/** JVM options for short-lived tools: they start, do one thing, exit; C1 only starts faster. */
const toolJvmOptions = ['-Xmx192m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Xshare:auto']

export async function runKafkaTool(
  mainClass: string,
  args: readonly string[],
  options: { input?: string; timeoutMs?: number; log4jConfig?: string; /** Instead of the quick-start options. */ jvmOptions?: readonly string[] } = {},
): Promise<KafkaToolRun> {
  const logging = options.log4jConfig ? [`-Dlog4j2.configurationFile=${options.log4jConfig}`] : ['-Dlog4j2.level=WARN']
  const child = spawn(javaBinary(), [...(options.jvmOptions ?? toolJvmOptions), ...logging, '-cp', classpath(), mainClass, ...args], {
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  })
  if (options.input !== undefined) child.stdin!.end(options.input)
  const stdout: Buffer[] = []
  const stderr: Buffer[] = []
  child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk))
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk))
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    child.kill('SIGKILL')
  }, options.timeoutMs ?? toolTimeoutMs)
  const exitCode = await new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)))
  clearTimeout(timer)
  return { exitCode, timedOut, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') }
}

/**
 * Ports for the listeners, free now and below the kernel's ephemeral range: a broker binds them again on every
 * restart, and a port in the ephemeral range could meanwhile be taken by any outgoing connection on the machine.
 */
async function freePorts(count: number): Promise<number[]> {
  const [ephemeralLow] = (await Bun.file('/proc/sys/net/ipv4/ip_local_port_range').text().catch(() => '32768 60999')).trim().split(/\s+/).map(Number)
  let high = Math.max(10_000, (ephemeralLow ?? 32_768) - 1)
  let low = Math.max(1_024, high - 12_000)
  // Test runs side by side (scripts/test) take disjoint halves: a port one run found free could otherwise be bound by
  // the other before its broker starts.
  const lane = process.env.KAFKA_SINK_TEST_PORT_LANE
  if (lane === '0') high = low + Math.floor((high - low) / 2)
  else if (lane === '1') low = low + Math.floor((high - low) / 2) + 1
  const ports = new Set<number>()
  while (ports.size < count) {
    const port = low + Math.floor(Math.random() * (high - low))
    if (!ports.has(port) && (await canListen(port))) ports.add(port)
  }
  return [...ports]
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

interface NodePlan {
  readonly id: number
  readonly roles: 'broker' | 'controller' | 'broker,controller'
  readonly ports: Partial<Record<RealKafkaListener | 'controller', number>>
  readonly dir: string
}

function kafkaClusterId(): string {
  // Kafka's cluster ids are 16 random bytes in URL-safe base64 without padding (what `kafka-storage random-uuid`
  // prints). One starting with '-' would be read as an option by the storage tool's argument parser.
  for (;;) {
    const id = randomBytes(16).toString('base64url')
    if (!id.startsWith('-')) return id
  }
}

function jaasPlain(users: Readonly<Record<string, string>>): string {
  const entries = Object.entries(users).map(([user, password]) => `user_${user}="${password}"`)
  return `org.apache.kafka.common.security.plain.PlainLoginModule required ${entries.join(' ')};`
}

function serverProperties(node: NodePlan, plan: { controllerPort: number; brokerCount: number; users: Readonly<Record<string, string>>; keystoreFile: string; extra: Readonly<Record<string, string>> }): string {
  const replication = String(plan.brokerCount)
  const settings: Record<string, string> = {
    'process.roles': node.roles,
    'node.id': String(node.id),
    'controller.quorum.voters': `${node.roles === 'broker' ? controllerNodeId : node.id}@127.0.0.1:${plan.controllerPort}`,
    'controller.listener.names': 'CONTROLLER',
    'log.dirs': join(node.dir, 'data'),
    'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'super.users': 'User:ANONYMOUS;User:admin',
    'allow.everyone.if.no.acl.found': 'true',
    'auto.create.topics.enable': 'false',
    'num.partitions': '1',
    'offsets.topic.num.partitions': '1',
    'offsets.topic.replication.factor': replication,
    'transaction.state.log.num.partitions': '1',
    'transaction.state.log.replication.factor': replication,
    'transaction.state.log.min.isr': '1',
    'group.initial.rebalance.delay.ms': '0',
    // Fast failure detection, so kill and restart tests see leaders move within seconds.
    'broker.heartbeat.interval.ms': '500',
    'broker.session.timeout.ms': '4000',
    'replica.lag.time.max.ms': '5000',
    'controlled.shutdown.enable': 'true',
    'auto.leader.rebalance.enable': 'false',
    'log.flush.interval.messages': String(2 ** 62),
    'num.network.threads': '2',
    'num.io.threads': '4',
    'num.recovery.threads.per.data.dir': '1',
    'log.cleaner.enable': 'false',
    'share.coordinator.state.topic.replication.factor': replication,
    'share.coordinator.state.topic.min.isr': '1',
  }
  const listeners: string[] = []
  const advertised: string[] = []
  const protocolMap = ['CONTROLLER:PLAINTEXT']
  if (node.roles !== 'broker') listeners.push(`CONTROLLER://127.0.0.1:${plan.controllerPort}`)
  if (node.roles !== 'controller') {
    for (const kind of listenerKinds) {
      const address = `${listenerNames[kind]}://127.0.0.1:${node.ports[kind]}`
      listeners.push(address)
      advertised.push(address)
      protocolMap.push(`${listenerNames[kind]}:${listenerNames[kind]}`)
    }
    settings['advertised.listeners'] = advertised.join(',')
    settings['inter.broker.listener.name'] = 'PLAINTEXT'
    settings['sasl.enabled.mechanisms'] = 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512'
    for (const listener of ['sasl_plaintext', 'sasl_ssl']) {
      settings[`listener.name.${listener}.plain.sasl.jaas.config`] = jaasPlain(plan.users)
      settings[`listener.name.${listener}.scram-sha-256.sasl.jaas.config`] = 'org.apache.kafka.common.security.scram.ScramLoginModule required;'
      settings[`listener.name.${listener}.scram-sha-512.sasl.jaas.config`] = 'org.apache.kafka.common.security.scram.ScramLoginModule required;'
    }
    for (const listener of ['ssl', 'sasl_ssl']) {
      settings[`listener.name.${listener}.ssl.keystore.type`] = 'PEM'
      settings[`listener.name.${listener}.ssl.keystore.location`] = plan.keystoreFile
      settings[`listener.name.${listener}.ssl.client.auth`] = 'none'
    }
  }
  settings.listeners = listeners.join(',')
  settings['listener.security.protocol.map'] = protocolMap.join(',')
  Object.assign(settings, plan.extra)
  // Properties files treat backslashes as escapes; none of the values here has one.
  return Object.entries(settings).map(([key, value]) => `${key}=${value}`).join('\n') + '\n'
}

const log4jProperties = [
  'status = warn',
  'appender.console.type = Console',
  'appender.console.name = STDOUT',
  'appender.console.layout.type = PatternLayout',
  'appender.console.layout.pattern = [%d] %p %m (%c)%n',
  'rootLogger.level = warn',
  'rootLogger.appenderRef.stdout.ref = STDOUT',
  'logger.server.name = kafka.server.KafkaRaftServer',
  'logger.server.level = info',
  '',
].join('\n')

/**
 * Runs java in the background and waits for either the JVM to end or this shell's stdin to close (the test process
 * went away): then the JVM is killed. Prints the JVM's pid first, so a test can SIGKILL the broker itself.
 */
const watchdogScript = [
  'exec 3<&0',
  '"$@" </dev/null >>"$KAFKA_NODE_LOG" 2>&1 &',
  'jvm=$!',
  'echo "pid $jvm"',
  '( cat <&3 >/dev/null; kill -9 "$jvm" 2>/dev/null ) &',
  'watcher=$!',
  'wait "$jvm"; code=$?',
  'kill "$watcher" 2>/dev/null',
  'exit "$code"',
].join('\n')

interface RunningNode {
  readonly shell: ChildProcess
  readonly jvmPid: Promise<number>
  readonly exited: Promise<number | null>
}

const liveShells = new Set<ChildProcess>()
/** Directories of clusters not stopped yet (with their certificates): removed on exit too, e.g. after a hook timeout. */
const liveDirectories = new Set<string>()
let exitHookInstalled = false
function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', () => {
    for (const shell of liveShells) shell.kill('SIGKILL')
    for (const directory of liveDirectories) rmSync(directory, { recursive: true, force: true })
  })
}

export async function startRealKafkaCluster(options: RealKafkaClusterOptions = {}): Promise<RealKafkaCluster> {
  const unavailable = realKafkaUnavailableReason()
  if (unavailable !== undefined) throw new Error(unavailable)
  installExitHook()
  const brokerCount = options.brokers ?? 1
  const users: Record<string, string> = { admin: `admin-${randomBytes(6).toString('hex')}`, ...options.users }
  const dir = await mkdtemp(join(tmpdir(), 'real-kafka-'))
  liveDirectories.add(dir)
  let certificates: TestCertificates | undefined
  const running = new Map<number, RunningNode>()
  let stopped = false

  const killAll = async () => {
    const nodes = [...running.values()]
    running.clear()
    for (const node of nodes) {
      const pid = await Promise.race([node.jvmPid, Bun.sleep(1_000).then(() => undefined)])
      if (pid !== undefined) killQuietly(pid)
      node.shell.kill('SIGKILL')
    }
    await Promise.all(nodes.map((node) => node.exited))
  }

  try {
    certificates = await createTestCertificates('real kafka')
    liveDirectories.add(certificates.dir)
    const keystoreFile = join(dir, 'broker-keystore.pem')
    await writeFile(keystoreFile, certificates.serverKeyPem + certificates.serverCertPem, { mode: 0o600 })
    const log4jFile = join(dir, 'log4j2.properties')
    await writeFile(log4jFile, log4jProperties)

    const ids = Array.from({ length: brokerCount }, (_, index) => index + 1)
    const ports = await freePorts(brokerCount * listenerKinds.length + 1)
    const controllerPort = ports.pop()!
    const nodes: NodePlan[] = ids.map((id, index) => ({
      id,
      roles: brokerCount === 1 ? 'broker,controller' : 'broker',
      ports: Object.fromEntries(listenerKinds.map((kind, offset) => [kind, ports[index * listenerKinds.length + offset]!])),
      dir: join(dir, `node-${id}`),
    }))
    if (brokerCount > 1) nodes.push({ id: controllerNodeId, roles: 'controller', ports: {}, dir: join(dir, 'controller') })

    const clusterId = kafkaClusterId()
    const scramUsers = Object.entries(users).flatMap(([user, password]) =>
      ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((mechanism) => ['--add-scram', `${mechanism}=[name=${user},password=${password}]`]),
    )
    await Promise.all(
      nodes.map(async (node) => {
        await mkdir(node.dir, { recursive: true })
        const propertiesFile = join(node.dir, 'server.properties')
        const properties = serverProperties(node, { controllerPort, brokerCount, users, keystoreFile, extra: options.brokerConfig ?? {} })
        await writeFile(propertiesFile, properties, { mode: 0o600 })
        await chmod(propertiesFile, 0o600)
        // SCRAM credentials live in the metadata log: the controller's format writes them to its bootstrap snapshot.
        const scram = node.roles === 'broker' ? [] : scramUsers
        const format = await runKafkaTool('kafka.tools.StorageTool', ['format', '-t', clusterId, '-c', propertiesFile, '--ignore-formatted', ...scram], {
          log4jConfig: log4jFile,
        })
        if (format.exitCode !== 0) {
          throw new Error(`kafka-storage format failed for node ${node.id} (exit ${format.exitCode}): ${(format.stderr || format.stdout).trim()}`)
        }
      }),
    )

    const heap = options.heap ?? '320m'
    const startNode = (node: NodePlan): RunningNode => {
      const jvm = [
        javaBinary(),
        `-Xmx${heap}`,
        '-Xms64m',
        '-XX:+UseSerialGC',
        '-XX:MaxDirectMemorySize=256m',
        '-Xss512k',
        '-Djava.awt.headless=true',
        `-Dlog4j2.configurationFile=${log4jFile}`,
        '-cp',
        classpath(),
        'kafka.Kafka',
        join(node.dir, 'server.properties'),
      ]
      const shell = spawn('bash', ['-c', watchdogScript, 'kafka-node', ...jvm], {
        stdio: ['pipe', 'pipe', 'ignore'],
        env: { ...process.env, KAFKA_NODE_LOG: join(node.dir, 'kafka.log') },
      })
      liveShells.add(shell)
      const exited = new Promise<number | null>((resolve) =>
        shell.once('exit', (code) => {
          liveShells.delete(shell)
          // Ends the watchdog's `cat`, which would otherwise wait for the test process to exit.
          shell.stdin?.destroy()
          resolve(code)
        }),
      )
      const jvmPid = new Promise<number>((resolve, reject) => {
        let buffered = ''
        shell.stdout!.on('data', (chunk: Buffer) => {
          buffered += chunk.toString('utf8')
          const match = /^pid (\d+)$/m.exec(buffered)
          if (match) resolve(Number(match[1]))
        })
        void exited.then(() => reject(new Error(`node ${node.id} exited before starting`)))
      })
      jvmPid.catch(() => {})
      return { shell, jvmPid, exited }
    }

    const addressOf = (node: NodePlan, kind: RealKafkaListener) => `127.0.0.1:${node.ports[kind]}`
    const brokerNodes = nodes.filter((node) => node.roles !== 'controller')
    const listeners = Object.fromEntries(
      listenerKinds.map((kind) => [kind, brokerNodes.map((node) => addressOf(node, kind)).join(',')]),
    ) as Record<RealKafkaListener, string>
    const brokerAddresses = new Map(
      brokerNodes.map((node) => [node.id, Object.fromEntries(listenerKinds.map((kind) => [kind, addressOf(node, kind)])) as Record<RealKafkaListener, string>]),
    )
    const nodeById = new Map(nodes.map((node) => [node.id, node]))

    const nodeLogTail = async (id: number): Promise<string> => {
      const file = Bun.file(join(nodeById.get(id)!.dir, 'kafka.log'))
      return (await file.exists()) ? (await file.text()).slice(-3000) : '(no log)'
    }

    /** Waits until the broker itself answers Metadata and lists itself (registered and unfenced). */
    const waitForBroker = async (id: number, timeoutMs: number): Promise<void> => {
      const deadline = Date.now() + timeoutMs
      const address = brokerAddresses.get(id)!.plaintext
      for (;;) {
        const node = running.get(id)
        if (node === undefined) throw new Error(`broker ${id} is not running`)
        const metadata = await kcatMetadata(address)
        if (metadata?.brokers.some((broker) => broker.id === id)) return
        if (Date.now() > deadline) throw new Error(`broker ${id} did not serve metadata within ${timeoutMs} ms; log tail:\n${await nodeLogTail(id)}`)
        const exitedEarly = await Promise.race([node.exited.then(() => true), Bun.sleep(300).then(() => false)])
        if (exitedEarly) throw new Error(`broker ${id} exited while starting; log tail:\n${await nodeLogTail(id)}`)
      }
    }

    for (const node of nodes) running.set(node.id, startNode(node))
    await Promise.all(ids.map((id) => waitForBroker(id, startTimeoutMs)))
    // All brokers see each other (and the controller has unfenced them all) before the first topic is created.
    await waitUntil(async () => ((await kcatMetadata(listeners.plaintext))?.brokers.length ?? 0) >= brokerCount, startTimeoutMs, 'every broker registered')

    const tool = (mainClass: string, args: readonly string[], toolOptions: { input?: string; timeoutMs?: number; jvmOptions?: readonly string[] } = {}) =>
      runKafkaTool(mainClass, args, { ...toolOptions, log4jConfig: log4jFile })

    const signalBroker = async (id: number, signal: 'SIGKILL' | 'SIGTERM'): Promise<void> => {
      const node = running.get(id)
      if (node === undefined) return
      const pid = await node.jvmPid
      process.kill(pid, signal)
      const ended = await Promise.race([node.exited.then(() => true), Bun.sleep(stopTimeoutMs).then(() => false)])
      if (!ended) {
        killQuietly(pid)
        await node.exited
      }
      running.delete(id)
    }

    const stop = async () => {
      if (stopped) return
      stopped = true
      await killAll()
      await certificates?.remove()
      await rm(dir, { recursive: true, force: true })
      liveDirectories.delete(dir)
      if (certificates) liveDirectories.delete(certificates.dir)
    }

    const cluster: RealKafkaCluster = {
      bootstrapServers: listeners.plaintext,
      listeners,
      brokerAddresses,
      brokerIds: ids,
      caFile: certificates.caFile,
      users,
      dir,
      createTopic: async (name, topicOptions = {}) => {
        const args = ['--bootstrap-server', listeners.plaintext, '--create', '--topic', name,
          '--partitions', String(topicOptions.partitions ?? 1), '--replication-factor', String(topicOptions.replicationFactor ?? brokerCount)]
        for (const [key, value] of Object.entries(topicOptions.config ?? {})) args.push('--config', `${key}=${value}`)
        const run = await tool('org.apache.kafka.tools.TopicCommand', args)
        if (run.exitCode !== 0) throw new Error(`creating topic ${name} failed (exit ${run.exitCode}): ${(run.stderr || run.stdout).trim()}`)
        // Every partition has a leader before the topic is handed to a test.
        await waitUntil(async () => {
          const partitions = await describeWithKcat(listeners.plaintext, name)
          return partitions.length === (topicOptions.partitions ?? 1) && partitions.every((partition) => partition.leader >= 0)
        }, 30_000, `topic ${name} has leaders`)
      },
      describeTopic: (topic) => describeWithKcat(listeners.plaintext, topic),
      denyTopicWrite: async (principal, topic) => {
        const run = await tool('org.apache.kafka.tools.AclCommand', ['--bootstrap-server', listeners.plaintext, '--add',
          '--deny-principal', principal, '--operation', 'Write', '--topic', topic])
        if (run.exitCode !== 0) throw new Error(`adding the ACL failed (exit ${run.exitCode}): ${(run.stderr || run.stdout).trim()}`)
      },
      killBroker: (id) => signalBroker(id, 'SIGKILL'),
      stopBroker: (id) => signalBroker(id, 'SIGTERM'),
      startBroker: async (id) => {
        if (running.has(id)) return
        const node = nodeById.get(id)
        if (node === undefined || node.roles === 'controller') throw new Error(`no broker ${id}`)
        running.set(id, startNode(node))
        await waitForBroker(id, startTimeoutMs)
      },
      restartBroker: async (id) => {
        await cluster.stopBroker(id)
        await cluster.startBroker(id)
      },
      runTool: tool,
      stop,
    }
    return cluster
  } catch (error) {
    await killAll()
    await certificates?.remove()
    await rm(dir, { recursive: true, force: true })
    liveDirectories.delete(dir)
    if (certificates) liveDirectories.delete(certificates.dir)
    throw error
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL')
  } catch {
    // Already gone.
  }
}

async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await Bun.sleep(250)
  }
}

interface KcatMetadata {
  readonly brokers: readonly { id: number; name: string }[]
  readonly topics: readonly {
    topic: string
    error?: string
    partitions: readonly { partition: number; leader: number; replicas: readonly { id: number }[]; isrs: readonly { id: number }[] }[]
  }[]
}

/** Metadata as kcat sees it (an independent client); undefined when the broker does not answer. */
async function kcatMetadata(bootstrapServers: string, topic?: string): Promise<KcatMetadata | undefined> {
  const args = ['-L', '-J', '-b', bootstrapServers, '-m', '3', '-X', 'topic.metadata.refresh.interval.ms=-1']
  if (topic !== undefined) args.push('-t', topic)
  const child = Bun.spawn([process.env.KCAT ?? 'kcat', ...args], { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
  const timer = setTimeout(() => child.kill('SIGKILL'), 6_000)
  const [stdout, exitCode] = await Promise.all([new Response(child.stdout).text(), child.exited, new Response(child.stderr).text()])
  clearTimeout(timer)
  if (exitCode !== 0) return undefined
  try {
    return JSON.parse(stdout) as KcatMetadata
  } catch {
    return undefined
  }
}

async function describeWithKcat(bootstrapServers: string, topic: string): Promise<RealKafkaTopicPartition[]> {
  const metadata = await kcatMetadata(bootstrapServers, topic)
  const entry = metadata?.topics.find((candidate) => candidate.topic === topic)
  if (entry === undefined || entry.error !== undefined) return []
  return entry.partitions
    .map((partition) => ({
      partition: partition.partition,
      leader: partition.leader,
      replicas: partition.replicas.map((replica) => replica.id),
      isr: partition.isrs.map((replica) => replica.id),
    }))
    .sort((a, b) => a.partition - b.partition)
}
