/**
 * Kafka ports served by a host process (host.ts), as `KafkaPort`s the tests use like in-process ones. The
 * platformatic engine's host runs under Bun from source; the librdkafka engine's under Node, from a bundle of the
 * same host built here (Bun and Deno cannot load that engine). Each host gets its own environment, which is
 * what TLS trust tests need: the trust store belongs to the process.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { bundlePlugins } from '../../../scripts/build-plugins.ts'
import { KafkaSendError, type KafkaSendErrorCode } from '../../../src/sink/kafka/errors.ts'
import type { KafkaEngineName } from '../../../src/sink/kafka/kafka-engines.ts'
import type { KafkaPort, KafkaProducerConfig } from '../../../src/sink/kafka/port.ts'
import type { EngineAnswer, EngineRequest, WireError } from './protocol.ts'

const projectRoot = join(import.meta.dir, '..', '..', '..')
const hostSource = join(import.meta.dir, 'host.ts')
const nodeHostBundle = join(projectRoot, 'dist', 'test', 'kafka-port-host.mjs')

/** Omit over each member of the union, so each keeps its own fields. */
type RequestWithoutId = EngineRequest extends infer Request ? (Request extends EngineRequest ? Omit<Request, 'id'> : never) : never

export interface KafkaPortHost {
  readonly engine: KafkaEngineName
  openPort(config: KafkaProducerConfig): Promise<KafkaPort>
  stop(): Promise<void>
}

let nodeBundleBuilt: Promise<void> | undefined

/** The host bundled for Node, once per test process (the librdkafka client stays external, as in the product). */
function buildNodeHost(): Promise<void> {
  nodeBundleBuilt ??= (async () => {
    await mkdir(join(projectRoot, 'dist', 'test'), { recursive: true })
    const result = await Bun.build({
      entrypoints: [hostSource],
      outdir: join(projectRoot, 'dist', 'test'),
      naming: { entry: 'kafka-port-host.mjs', asset: '[name]-[hash].[ext]' },
      target: 'node',
      format: 'esm',
      plugins: [...bundlePlugins],
      external: ['@confluentinc/kafka-javascript'],
    })
    if (!result.success) throw new Error(`bundling the Kafka port host failed: ${result.logs.join('\n')}`)
  })()
  return nodeBundleBuilt
}

export function fromWire(error: WireError): KafkaSendError {
  return new KafkaSendError({ code: error.code as KafkaSendErrorCode, transient: error.transient, kafkaName: error.kafkaName, message: error.message })
}

export async function startKafkaPortHost(engine: KafkaEngineName, env: Record<string, string | undefined> = process.env): Promise<KafkaPortHost> {
  let child: ChildProcess
  if (engine === 'librdkafka') {
    await buildNodeHost()
    child = spawn(process.env.NODE ?? 'node', [nodeHostBundle, engine], { env, stdio: ['pipe', 'pipe', 'pipe'] })
  } else {
    child = spawn(process.execPath, [hostSource, engine], { env, stdio: ['pipe', 'pipe', 'pipe'] })
  }
  const stderr: string[] = []
  createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line))
  const waiting = new Map<number, (answer: EngineAnswer) => void>()
  let exited = false
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const answer = JSON.parse(line) as EngineAnswer
    waiting.get(answer.id)?.(answer)
    waiting.delete(answer.id)
  })
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true
      for (const [id, resolveAnswer] of waiting) resolveAnswer({ id, rejection: `the ${engine} host exited: ${stderr.slice(-5).join(' | ')}` })
      waiting.clear()
      resolve()
    }),
  )
  let nextId = 1
  const call = (request: RequestWithoutId): Promise<EngineAnswer> => {
    if (exited) return Promise.resolve({ id: 0, rejection: `the ${engine} host has exited: ${stderr.slice(-5).join(' | ')}` })
    const id = nextId++
    return new Promise((resolve) => {
      waiting.set(id, resolve)
      child.stdin!.write(`${JSON.stringify({ ...request, id })}\n`)
    })
  }
  const unexpected = (answer: EngineAnswer): never => {
    throw new Error('rejection' in answer ? answer.rejection : `unexpected answer ${JSON.stringify(answer)}`)
  }

  return {
    engine,
    openPort: async (config) => {
      const opened = await call({ op: 'open', config })
      if (!('port' in opened)) return unexpected(opened)
      const port = opened.port
      return {
        connect: async () => {
          const answer = await call({ op: 'connect', port })
          if ('error' in answer) throw fromWire(answer.error)
          if (!('done' in answer)) unexpected(answer)
        },
        send: async (topic, messages) => {
          const answer = await call({
            op: 'send',
            port,
            topic,
            messages: messages.map((message) => ({
              key: message.key === null ? null : message.key.toString('base64'),
              value: message.value.toString('base64'),
              headers: [...message.headers].map(([name, value]) => [name, value.toString('base64')] as const),
              timestamp: message.timestamp.toString(),
            })),
          })
          if (!('outcomes' in answer)) return unexpected(answer)
          return answer.outcomes.map((error) => (error === null ? { delivered: true as const } : { delivered: false as const, error: fromWire(error) }))
        },
        close: async ({ flush }) => {
          const answer = await call({ op: 'close', port, flush })
          if (!('done' in answer)) unexpected(answer)
        },
      }
    },
    stop: async () => {
      if (process.env.KAFKA_PORT_HOST_LOG === 'debug') process.stderr.write(`${stderr.join('\n')}\n`)
      child.stdin!.end()
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exit
      clearTimeout(timer)
    },
  }
}
