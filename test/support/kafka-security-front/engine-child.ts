/**
 * Runs the sink's Kafka engine once in a process of its own (connect, send one batch, close) and prints one JSON
 * line, an `EngineChildResult`. Tests of TLS trust need the separate process because the trust store belongs to
 * the process: the runtime reads SSL_CERT_FILE / SSL_CERT_DIR / NODE_EXTRA_CA_CERTS from its environment, once.
 *
 *   bun test/support/kafka-security-front/engine-child.ts '<EngineChildJob as JSON>'
 */
import { silentLogger } from '../../../src/observability/logger.ts'
import { createKafkaPort } from '../../../src/sink/kafka/create-kafka-port.ts'
import { KafkaSendError } from '../../../src/sink/kafka/errors.ts'
import type { KafkaProducerConfig } from '../../../src/sink/kafka/port.ts'

export interface EngineChildJob {
  readonly config: KafkaProducerConfig
  readonly topic: string
  /** Record values, sent as one batch after a successful connect; keys are null. */
  readonly values: readonly string[]
  /** Send without calling connect() first (the pipeline may send on a port whose connect it did not await). */
  readonly skipConnect?: boolean
}

export interface EngineChildError {
  readonly code: string
  readonly transient: boolean
  readonly kafkaName: string | undefined
  readonly message: string
}

export interface EngineChildResult {
  /** undefined when connect() resolved. */
  readonly connectError: EngineChildError | undefined
  /** One entry per value, null when delivered; undefined when connect() failed. */
  readonly sendErrors: readonly (EngineChildError | null)[] | undefined
}

function describe(error: unknown): EngineChildError {
  if (error instanceof KafkaSendError) {
    return { code: error.code, transient: error.transient, kafkaName: error.kafkaName, message: error.message }
  }
  return { code: 'NOT_A_KAFKA_SEND_ERROR', transient: false, kafkaName: undefined, message: String(error) }
}

async function run(job: EngineChildJob): Promise<EngineChildResult> {
  const port = createKafkaPort(job.config, silentLogger)
  try {
    if (job.skipConnect !== true) {
      try {
        await port.connect()
      } catch (error) {
        return { connectError: describe(error), sendErrors: undefined }
      }
    }
    const outcomes = await port.send(
      job.topic,
      job.values.map((value) => ({ key: null, value: Buffer.from(value), headers: new Map(), timestamp: BigInt(Date.now()) })),
    )
    return { connectError: undefined, sendErrors: outcomes.map((outcome) => (outcome.delivered ? null : describe(outcome.error))) }
  } finally {
    await port.close({ flush: false })
  }
}

if (import.meta.main) {
  const job = JSON.parse(process.argv[2] ?? '') as EngineChildJob
  const result = await run(job)
  process.stdout.write(JSON.stringify(result) + '\n')
  process.exit(0)
}
