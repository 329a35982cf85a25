/**
 * The one place the pipeline gets a Kafka engine from: the @platformatic/kafka engine (pure TypeScript, every
 * runtime; the single binary's) or the librdkafka engine (Node only), as `--kafka-engine` chose (kafka-engines.ts).
 */
import type { Logger } from '../../observability/logger.ts'
import { defaultKafkaEngine, type KafkaEngineName } from './kafka-engines.ts'
import type { KafkaPort, KafkaProducerConfig } from './port.ts'

/**
 * The engine module is imported when the first connector opens a port, not when the process starts: evaluating the
 * Kafka client is the largest part of start-up (measured), and the HTTP server should answer probes before that.
 */
export function createKafkaPort(config: KafkaProducerConfig, logger: Logger, engineName: KafkaEngineName = defaultKafkaEngine): KafkaPort {
  let loaded: KafkaPort | undefined
  const engine = (
    engineName === 'librdkafka'
      ? import('./librdkafka-engine.ts').then(({ createLibrdkafkaPort }) => createLibrdkafkaPort(config, logger))
      : import('./platformatic-engine.ts').then(({ createPlatformaticKafkaPort }) => createPlatformaticKafkaPort(config, logger))
  ).then((port) => (loaded = port))
  return {
    lastRetriedError: () => loaded?.lastRetriedError?.(),
    connect: async () => (await engine).connect(),
    send: async (topic, messages) => (await engine).send(topic, messages),
    close: async (options) => (await engine).close(options),
  }
}
