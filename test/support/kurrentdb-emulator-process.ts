/**
 * The KurrentDB emulator in a child process (kurrentdb-emulator.ts run by Bun), for end-to-end tests that
 * need KurrentDB to go away and come back. Commands go over the child's stdin and resolve on its one-line
 * answer (`ok` …, or reject on `error …`). Nothing global is registered: if the parent dies, the child sees
 * stdin close and exits.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { emulatorConnectionString, secureEmulatorConnectionString } from './kurrentdb-emulator/connection-string.ts'

export type SpawnKurrentDbEmulatorOptions = {
  /** Port to listen on; 0 (the default) lets the child pick a free one. */
  port?: number
  /** Position of the first event, see `startKurrentDbEmulator`. */
  positionBase?: bigint
  /**
   * Serve TLS (the server's secure mode: default users admin/ops and ACLs apply); `caFile` is what clients trust.
   * The connection string then names `localhost`, as TLS cannot verify a name given as an IP address.
   */
  tls?: { certFile: string; keyFile: string; caFile: string }
  /** The KurrentDB version to report and follow where versions differ (default 24.10.0). */
  serverVersion?: string
  /** How long to wait for the listening line and for each answer (default 30 s; the machine is shared). */
  timeoutMs?: number
}

export type KurrentDbEmulatorProcess = {
  readonly connectionString: string
  readonly port: number
  readonly pid: number
  /** Stop serving (port closed, open calls end with UNAVAILABLE); the data is kept. */
  down(): Promise<void>
  /** Serve again on the same port. */
  up(): Promise<void>
  /** Ends the open Read calls (subscriptions) with UNAVAILABLE while appends go on being served. */
  dropReads(): Promise<number>
  /** Arms a one-shot fault (kurrentdb-emulator/faults.ts) for the next matching call, on `streamName` if given. */
  armFault(kind: string, streamName?: string): Promise<void>
  /** The counts line, e.g. `events=3 streams=1 bytes=… last-position=… open-calls=0 serving=true`. */
  stats(): Promise<string>
  /** Appends a synthetic backlog inside the emulator (benchmarks); resolves with the last event's position. */
  seed(request: { events: number; streams: number; prefix: string; dataBytes: number }): Promise<bigint | undefined>
  /** End the process (stdin EOF), killing it if it does not exit in time. */
  stop(): Promise<void>
}

const entryPoint = join(import.meta.dir, 'kurrentdb-emulator.ts')
const listeningLine = /^kurrentdb-emulator listening [\d.]+:(\d+)$/

function bunExecutable(): string {
  return process.versions.bun ? process.execPath : 'bun'
}

export async function spawnKurrentDbEmulator(options: SpawnKurrentDbEmulatorOptions = {}): Promise<KurrentDbEmulatorProcess> {
  const timeoutMs = options.timeoutMs ?? 30_000
  const args = [entryPoint, '--port', String(options.port ?? 0)]
  if (options.positionBase !== undefined) args.push('--position-base', options.positionBase.toString())
  if (options.serverVersion !== undefined) args.push('--server-version', options.serverVersion)
  if (options.tls !== undefined) args.push('--tls-cert', options.tls.certFile, '--tls-key', options.tls.keyFile)
  const child = spawn(bunExecutable(), args, { stdio: ['pipe', 'pipe', 'inherit'] })
  const exited = once(child, 'exit')

  const waiting: { resolve: (line: string) => void; reject: (error: Error) => void }[] = []
  const failAll = (error: Error): void => {
    for (const waiter of waiting.splice(0)) waiter.reject(error)
  }
  createInterface({ input: child.stdout! }).on('line', (line) => waiting.shift()?.resolve(line))
  child.on('exit', (code, signal) => failAll(new Error(`kurrentdb-emulator exited (code ${code}, signal ${signal})`)))
  child.on('error', (error) => failAll(error))

  const nextLine = (what: string): Promise<string> =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`kurrentdb-emulator: no answer to ${what} within ${timeoutMs} ms`)), timeoutMs)
      waiting.push({
        resolve: (line) => {
          clearTimeout(timer)
          resolve(line)
        },
        reject: (error) => {
          clearTimeout(timer)
          reject(error)
        },
      })
    })

  const command = async (name: string): Promise<string> => {
    const reply = nextLine(name)
    child.stdin!.write(name + '\n')
    const line = await reply
    if (!line.startsWith('ok')) throw new Error(`kurrentdb-emulator ${name}: ${line}`)
    return line.slice(2).trim()
  }

  let port: number
  try {
    const line = await nextLine('start')
    const match = listeningLine.exec(line)
    if (!match) throw new Error(`kurrentdb-emulator: unexpected first line ${JSON.stringify(line)}`)
    port = Number(match[1])
  } catch (error) {
    child.kill('SIGKILL')
    throw error
  }

  return {
    connectionString: options.tls === undefined ? emulatorConnectionString(port) : secureEmulatorConnectionString(port, options.tls.caFile),
    port,
    pid: child.pid!,
    down: async () => {
      await command('down')
    },
    up: async () => {
      await command('up')
    },
    armFault: async (kind, streamName) => {
      await command(streamName === undefined ? `fault ${kind}` : `fault ${kind} ${streamName}`)
    },
    dropReads: async () => Number(/dropped=(\d+)/.exec(await command('drop-reads'))?.[1] ?? 0),
    stats: () => command('stats'),
    seed: async (request) => {
      const reply = await command(`seed ${request.events} ${request.streams} ${request.prefix} ${request.dataBytes}`)
      const position = /last-position=(\d+)/.exec(reply)?.[1]
      return position === undefined ? undefined : BigInt(position)
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.stdin!.end()
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
      await exited
      clearTimeout(timer)
    },
  }
}
