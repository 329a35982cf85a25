/**
 * kafka-sink as users run it, in a child process, for end-to-end tests: starts it, learns its port from the
 * `kafka-sink listening` log line, keeps its JSON log lines, and stops it with a signal (or SIGKILL).
 * Plus a small client for its management API.
 *
 * Which executable runs is chosen with KAFKA_SINK_TEST_EXECUTABLE, so the same e2e files hold every build to the
 * same behaviour (./scripts/test runs them once per executable):
 *   bun          dist/kafka-sink, the Bun single binary (default; `bun run build`)
 *   node         node dist/node/kafka-sink.mjs, the Node bundle (`bun run build:node`)
 *   deno         deno run -A dist/node/kafka-sink.mjs, the same bundle on Deno (`bun run build:node`)
 *   deno-source  deno run -A src/main.ts, the sources on Deno (with the project's node_modules)
 *   deno-binary  dist/kafka-sink-deno, the `deno compile` executable (`bun run build:deno`, where denort is available)
 * KAFKA_SINK_TEST_KAFKA_ENGINE, when set, is passed on as KAFKA_SINK_KAFKA_ENGINE to every sink started here.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

const projectRoot = join(import.meta.dir, '..', '..')
const nodeBundle = join(projectRoot, 'dist', 'node', 'kafka-sink.mjs')

export type SinkExecutable = 'bun' | 'node' | 'deno' | 'deno-source' | 'deno-binary'
const executables: Record<SinkExecutable, { readonly file: string; readonly command: readonly string[]; readonly build: string }> = {
  bun: { file: join(projectRoot, 'dist', 'kafka-sink'), command: [join(projectRoot, 'dist', 'kafka-sink')], build: 'bun run build' },
  node: { file: nodeBundle, command: [process.env.NODE ?? 'node', nodeBundle], build: 'bun run build:node' },
  deno: {
    file: nodeBundle,
    // --no-config: a deno.json or package.json in the working directory must not change how the bundle runs.
    command: [process.env.DENO ?? join(projectRoot, '.tools', 'node_modules', '.bin', 'deno'), 'run', '--allow-all', '--no-config', nodeBundle],
    build: 'bun run build:node',
  },
  'deno-source': {
    file: join(projectRoot, 'src', 'main.ts'),
    command: [process.env.DENO ?? join(projectRoot, '.tools', 'node_modules', '.bin', 'deno'), 'run', '--allow-all', join(projectRoot, 'src', 'main.ts')],
    build: 'nothing to build',
  },
  'deno-binary': { file: join(projectRoot, 'dist', 'kafka-sink-deno'), command: [join(projectRoot, 'dist', 'kafka-sink-deno')], build: 'bun run build:deno' },
}

function chosenExecutable(): SinkExecutable {
  const name = process.env.KAFKA_SINK_TEST_EXECUTABLE ?? 'bun'
  if (!(name in executables)) throw new Error(`KAFKA_SINK_TEST_EXECUTABLE=${name}: expected one of ${Object.keys(executables).join(', ')}`)
  return name as SinkExecutable
}

export const sinkExecutable: SinkExecutable = chosenExecutable()
/** The file the chosen executable runs (for size checks and messages). */
export const sinkBinary = executables[sinkExecutable].file
/** The Kafka engine the sink under test is told to use (`KAFKA_SINK_TEST_KAFKA_ENGINE`), if one is chosen. */
export const testKafkaEngine = process.env.KAFKA_SINK_TEST_KAFKA_ENGINE

/** The file an executable runs (for size figures and messages). */
export function sinkExecutableFile(executable: SinkExecutable = sinkExecutable): string {
  return executables[executable].file
}

/** The command line that runs kafka-sink with `args`, for tests that spawn it themselves. */
export function sinkCommand(args: readonly string[], executable: SinkExecutable = sinkExecutable): string[] {
  const { file, build, command } = executables[executable]
  if (!existsSync(file)) throw new Error(`${file} is missing: run '${build}' (./scripts/test does)`)
  return [...command, ...args]
}

/** The environment every sink started by tests gets on top of the test's own. */
export function sinkEnvironment(): Record<string, string> {
  return testKafkaEngine === undefined ? {} : { KAFKA_SINK_KAFKA_ENGINE: testKafkaEngine }
}
export const testCredentials = { user: 'admin', password: 'changeit' } as const

export interface SinkProcess {
  readonly baseUrl: string
  readonly port: number
  readonly pid: number
  /** The program and arguments it was spawned with. */
  readonly commandLine: readonly string[]
  /** Every stdout line so far (JSON log lines), and stderr lines prefixed with `stderr: `. */
  readonly lines: () => readonly string[]
  waitForLine(predicate: (line: string) => boolean, timeoutMs?: number): Promise<string>
  /** Sends the signal and resolves with the exit code (SIGKILL resolves with null). */
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

export interface StartSinkOptions {
  readonly kurrentdb: string
  /** Pass the connection string in KAFKA_SINK_KURRENTDB instead of --kurrentdb (it may carry a password). */
  readonly kurrentdbInEnvironment?: boolean
  readonly args?: readonly string[]
  readonly env?: Readonly<Record<string, string>>
  readonly cwd?: string
  /** false to start without --api-user/--api-password (then pass --insecure or nothing in args). */
  readonly withCredentials?: boolean
  /** false to return as soon as the server listens, before `/health/ready` answers 200. */
  readonly waitForReady?: boolean
  /** The command that runs kafka-sink, e.g. through `chroot` into an image's root filesystem (default: the chosen executable). */
  readonly command?: readonly [string, ...string[]]
  /** Pass the port, host, KurrentDB and credentials as the KAFKA_SINK_* environment twins instead of flags, as a container image is configured. */
  readonly configureThroughEnvironment?: boolean
  /** Which build to run; default the one KAFKA_SINK_TEST_EXECUTABLE chose. */
  readonly executable?: SinkExecutable
}

export async function startSinkProcess(options: StartSinkOptions): Promise<SinkProcess> {
  const configuration: Record<string, string> = { port: '0', host: '127.0.0.1', kurrentdb: options.kurrentdb }
  if (options.withCredentials !== false) configuration['api-user'] = testCredentials.user
  const inEnvironment = (name: string) => options.configureThroughEnvironment === true || (name === 'kurrentdb' && options.kurrentdbInEnvironment === true)
  const entries = Object.entries(configuration)
  const configurationArgs = entries.filter(([name]) => !inEnvironment(name)).flatMap(([name, value]) => [`--${name}`, value])
  const configurationEnv = Object.fromEntries(entries.filter(([name]) => inEnvironment(name)).map(([name, value]) => [`KAFKA_SINK_${name.toUpperCase().replace('-', '_')}`, value]))
  // The password goes through the environment, as the README recommends: arguments are visible to every user (ps).
  const passwordEnv: Record<string, string> = options.withCredentials === false ? {} : { KAFKA_SINK_API_PASSWORD: testCredentials.password }
  const args = [...configurationArgs, ...(options.args ?? [])]
  const [command, ...commandArgs] = options.command === undefined ? sinkCommand(args, options.executable) : [...options.command, ...args]
  const child = spawn(command!, commandArgs, {
    cwd: options.cwd,
    env: { ...process.env, ...sinkEnvironment(), ...configurationEnv, ...passwordEnv, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: string[] = []
  const waiters: Array<{ predicate: (line: string) => boolean; resolve: (line: string) => void }> = []
  const onLine = (line: string) => {
    lines.push(line)
    for (const waiter of [...waiters]) {
      if (!waiter.predicate(line)) continue
      waiters.splice(waiters.indexOf(waiter), 1)
      waiter.resolve(line)
    }
  }
  createInterface({ input: child.stdout! }).on('line', onLine)
  createInterface({ input: child.stderr! }).on('line', (line) => onLine(`stderr: ${line}`))
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>

  const waitForLine = (predicate: (line: string) => boolean, timeoutMs = 30_000): Promise<string> => {
    const seen = lines.find(predicate)
    if (seen !== undefined) return Promise.resolve(seen)
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching line from kafka-sink within ${timeoutMs} ms; last lines:\n${lines.slice(-15).join('\n')}`)), timeoutMs)
      waiters.push({
        predicate,
        resolve: (line) => {
          clearTimeout(timer)
          resolve(line)
        },
      })
      void exited.then(() => {
        clearTimeout(timer)
        reject(new Error(`kafka-sink exited before the expected line; last lines:\n${lines.slice(-15).join('\n')}`))
      })
    })
  }

  const listening = await waitForLine((line) => line.includes('"kafka-sink listening"'))
  const port = (JSON.parse(listening) as { port: number }).port
  if (options.waitForReady !== false) await waitUntilReady(`http://127.0.0.1:${port}`, () => lines)
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    commandLine: [command!, ...commandArgs],
    lines: () => lines,
    waitForLine,
    stop: (signal = 'SIGTERM') => stopChild(child, exited, signal, () => lines),
  }
}

/** Polls `/health/ready` as an orchestrator would: connectors are loaded and KurrentDB answers. */
async function waitUntilReady(baseUrl: string, lines: () => readonly string[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const status = await fetch(`${baseUrl}/health/ready`).then((response) => response.status, () => 0)
    if (status === 200) return
    await Bun.sleep(50)
  }
  throw new Error(`kafka-sink was not ready within ${timeoutMs} ms; last lines:\n${lines().slice(-15).join('\n')}`)
}

async function stopChild(child: ChildProcess, exited: Promise<[number | null, NodeJS.Signals | null]>, signal: NodeJS.Signals, lines: () => readonly string[]): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
  child.kill(signal)
  const timeout = Bun.sleep(30_000).then(() => 'timeout' as const)
  const result = await Promise.race([exited, timeout])
  if (result === 'timeout') {
    child.kill('SIGKILL')
    await exited
    throw new Error(`kafka-sink did not exit within 30 s of ${signal}; last lines:\n${lines().slice(-15).join('\n')}`)
  }
  return result[0]
}

export interface ApiResponse {
  readonly status: number
  readonly headers: Headers
  readonly body: unknown
  readonly text: string
}

/** A management API client with basic auth, answering parsed JSON bodies. */
export function sinkApi(baseUrl: string, credentials: { user: string; password: string } | undefined = testCredentials) {
  const authorization = credentials === undefined ? undefined : `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString('base64')}`
  const request = async (method: string, path: string, body?: unknown): Promise<ApiResponse> => {
    const response = await fetch(baseUrl + path, {
      method,
      headers: { ...(authorization ? { authorization } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    })
    const text = await response.text()
    let parsed: unknown = text
    try {
      parsed = JSON.parse(text)
    } catch {
      // not JSON (metrics, docs): keep the text
    }
    return { status: response.status, headers: response.headers, body: parsed, text }
  }
  const connector = async (connectorId: string): Promise<Record<string, unknown> | undefined> => {
    const response = await request('GET', `/connectors?connectorId=${encodeURIComponent(connectorId)}&showDeleted=true`)
    return (response.body as { items?: Record<string, unknown>[] }).items?.[0]
  }
  return {
    request,
    connector,
    /** Polls `GET /connectors` until the connector is in `state` (e.g. CONNECTOR_STATE_RUNNING). */
    waitForState: async (connectorId: string, state: string, timeoutMs = 60_000): Promise<Record<string, unknown>> => {
      const deadline = Date.now() + timeoutMs
      let last: Record<string, unknown> | undefined
      while (Date.now() < deadline) {
        last = await connector(connectorId).catch(() => undefined)
        if (last?.state === state) return last
        await Bun.sleep(100)
      }
      throw new Error(`connector ${connectorId} did not reach ${state} within ${timeoutMs} ms; last seen: ${JSON.stringify(last)}`)
    },
  }
}
