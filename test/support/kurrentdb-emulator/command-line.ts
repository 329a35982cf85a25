/**
 * The emulator as its own process, for end-to-end tests. Prints `kurrentdb-emulator listening HOST:PORT`
 * once serving, then reads one command per stdin line and answers each with one line, in order:
 *   down    → stop serving (port closed, open calls end with UNAVAILABLE), keep the data → `ok`
 *   up      → serve again on the same port → `ok`
 *   restart → down, then up → `ok`
 *   fault KIND [STREAM] → arm a one-shot fault for the next call (on STREAM) (faults.ts: delete-unavailable, append-reply-lost) → `ok`
 *   drop-reads → end the open Read calls (subscriptions) with UNAVAILABLE, appends still served → `ok dropped=N`
 *   stats   → `ok events=N streams=N bytes=N last-position=N|none open-calls=N serving=true|false`
 *   seed EVENTS STREAMS PREFIX BYTES → appends a synthetic backlog (benchmarks) → `ok last-position=N|none`
 * Anything else → `error unknown command: …`. stdin EOF, SIGTERM or SIGINT end the process cleanly, so it
 * dies with the parent that holds its stdin.
 */
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import type { KurrentDbEmulator, KurrentDbEmulatorOptions } from '../kurrentdb-emulator.ts'
import { emulatorHost } from './connection-string.ts'
import { faultKinds } from './faults.ts'

const usage = 'usage: bun test/support/kurrentdb-emulator.ts [--port N] [--position-base N] [--server-version X.Y.Z] [--tls-cert FILE --tls-key FILE]'

export function parseArguments(args: string[]): KurrentDbEmulatorOptions | string {
  const options: KurrentDbEmulatorOptions = {}
  let certFile: string | undefined
  let keyFile: string | undefined
  for (let index = 0; index < args.length; index++) {
    const flag = args[index]
    const value = args[index + 1]
    if (flag === '--help' || flag === '-h') return usage
    if (flag === '--server-version') {
      if (value === undefined || !/^\d+\.\d+\.\d+/.test(value)) return `--server-version needs a version such as 24.10.0\n${usage}`
      options.serverVersion = value
      index++
      continue
    }
    if (flag === '--tls-cert' || flag === '--tls-key') {
      if (value === undefined) return `${flag} needs a file\n${usage}`
      if (flag === '--tls-cert') certFile = value
      else keyFile = value
      index++
      continue
    }
    if (value === undefined || !/^\d+$/.test(value)) return `${flag} needs a non-negative integer\n${usage}`
    index++
    if (flag === '--port') options.port = Number(value)
    else if (flag === '--position-base') options.positionBase = BigInt(value)
    else return `unknown option ${flag}\n${usage}`
  }
  if ((certFile === undefined) !== (keyFile === undefined)) return `--tls-cert and --tls-key go together\n${usage}`
  if (certFile !== undefined && keyFile !== undefined) options.tls = { certPem: readFileSync(certFile, 'utf8'), keyPem: readFileSync(keyFile, 'utf8') }
  return options
}

async function answer(emulator: KurrentDbEmulator, command: string): Promise<string> {
  const seed = /^seed (\d+) (\d+) (\S+) (\d+)$/.exec(command)
  if (seed !== null) {
    const position = emulator.seed({ events: Number(seed[1]), streams: Math.max(1, Number(seed[2])), prefix: seed[3]!, dataBytes: Number(seed[4]) })
    return `ok last-position=${position ?? 'none'}`
  }
  const fault = /^fault (\S+)(?: (\S+))?$/.exec(command)
  if (fault !== null) {
    const kind = faultKinds.find((known) => known === fault[1])
    if (kind === undefined) return `error unknown fault ${fault[1]}; known: ${faultKinds.join(', ')}`
    emulator.armFault(kind, fault[2])
    return 'ok'
  }
  switch (command) {
    case 'down':
      await emulator.down()
      return 'ok'
    case 'up':
      await emulator.up()
      return 'ok'
    case 'restart':
      await emulator.restart()
      return 'ok'
    case 'drop-reads':
      return `ok dropped=${emulator.dropReads()}`
    case 'stats': {
      const stats = emulator.stats()
      return `ok events=${stats.events} streams=${stats.streams} bytes=${stats.bytes} last-position=${stats.lastPosition ?? 'none'} open-calls=${stats.openCalls} serving=${stats.serving}`
    }
    default:
      return `error unknown command: ${command}`
  }
}

export async function runCommandLine(start: (options: KurrentDbEmulatorOptions) => Promise<KurrentDbEmulator>, args: string[]): Promise<void> {
  const options = parseArguments(args)
  if (typeof options === 'string') {
    process.stderr.write(options + '\n')
    process.exit(options === usage ? 0 : 2)
  }
  const emulator = await start(options)
  process.stdout.write(`kurrentdb-emulator listening ${emulatorHost}:${emulator.port}\n`)

  let closing = false
  const shutdown = async (): Promise<void> => {
    if (closing) return
    closing = true
    await emulator.close()
    process.exit(0)
  }
  process.on('SIGTERM', shutdown)
  process.on('SIGINT', shutdown)

  // Commands run one at a time so answers come back in the order they were asked.
  let queue = Promise.resolve()
  const lines = createInterface({ input: process.stdin })
  lines.on('line', (line) => {
    const command = line.trim()
    if (command === '') return
    queue = queue.then(async () => {
      let reply: string
      try {
        reply = await answer(emulator, command)
      } catch (error) {
        reply = `error ${error instanceof Error ? error.message : String(error)}`.replaceAll('\n', ' ')
      }
      process.stdout.write(reply + '\n')
    })
  })
  lines.on('close', () => {
    queue = queue.then(shutdown)
  })
}
