/**
 * Hosts Kafka ports of one engine in a process of its own, driven over stdin/stdout (protocol.ts), so the
 * conformance suite (bun test) can hold an engine that only loads under Node (librdkafka) to the same tests as
 * one that runs in Bun. Run as `bun test/support/kafka-port-host/host.ts ENGINE`, or under Node from the bundle
 * remote-kafka-port.ts builds. It exits when stdin closes.
 */
import '../../../src/runtime/node-compat.ts'
import { createInterface } from 'node:readline'
import { createLogger, silentLogger } from '../../../src/observability/logger.ts'
import { createKafkaPort } from '../../../src/sink/kafka/create-kafka-port.ts'
import { KafkaSendError } from '../../../src/sink/kafka/errors.ts'
import type { KafkaEngineName } from '../../../src/sink/kafka/kafka-engines.ts'
import type { KafkaPort, KafkaProducerConfig } from '../../../src/sink/kafka/port.ts'
import type { EngineAnswer, EngineRequest, WireError } from './protocol.ts'

const engine = process.argv[2] as KafkaEngineName
// KAFKA_PORT_HOST_LOG=debug sends the engine's logs to stderr (remote-kafka-port.ts keeps the last lines).
const logger = process.env.KAFKA_PORT_HOST_LOG === 'debug' ? createLogger({ level: 'debug', write: (line: string) => process.stderr.write(line + '\n') }) : silentLogger
const ports = new Map<number, KafkaPort>()
let nextPort = 1

function toWire(error: unknown): WireError {
  if (error instanceof KafkaSendError) return { code: error.code, transient: error.transient, kafkaName: error.kafkaName, message: error.message }
  return { code: 'NOT_A_KAFKA_SEND_ERROR', transient: false, kafkaName: undefined, message: String(error) }
}

function answer(message: EngineAnswer): void {
  process.stdout.write(`${JSON.stringify(message)}\n`)
}

async function handle(request: EngineRequest): Promise<EngineAnswer> {
  if (request.op === 'open') {
    const port = nextPort++
    ports.set(port, createKafkaPort(request.config as KafkaProducerConfig, logger, engine))
    return { id: request.id, port }
  }
  const port = ports.get(request.port)
  if (port === undefined) return { id: request.id, rejection: `no port ${request.port}` }
  try {
    switch (request.op) {
      case 'connect':
        await port.connect()
        return { id: request.id, done: true }
      case 'send': {
        const outcomes = await port.send(
          request.topic,
          request.messages.map((message) => ({
            key: message.key === null ? null : Buffer.from(message.key, 'base64'),
            value: Buffer.from(message.value, 'base64'),
            headers: new Map(message.headers.map(([name, value]) => [name, Buffer.from(value, 'base64')])),
            timestamp: BigInt(message.timestamp),
          })),
        )
        return { id: request.id, outcomes: outcomes.map((outcome) => (outcome.delivered ? null : toWire(outcome.error))) }
      }
      case 'close':
        await port.close({ flush: request.flush })
        return { id: request.id, done: true }
    }
  } catch (error) {
    if (request.op === 'connect' && error instanceof KafkaSendError) return { id: request.id, error: toWire(error) }
    return { id: request.id, rejection: error instanceof Error ? error.message : String(error) }
  }
}

const lines = createInterface({ input: process.stdin })
lines.on('line', (line) => {
  const request = JSON.parse(line) as EngineRequest
  void handle(request).then(answer, (error: unknown) => answer({ id: request.id, rejection: String(error) }))
})
lines.on('close', () => {
  void Promise.allSettled([...ports.values()].map((port) => port.close({ flush: false }))).then(() => process.exit(0))
})
