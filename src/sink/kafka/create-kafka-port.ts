/**
 * The one place the pipeline gets a Kafka engine from. Today that is always the @platformatic/kafka engine:
 * it is pure TypeScript and the only Kafka client Bun can load, so the only one the single binary can ship.
 * A librdkafka engine (running under Node only) would be chosen here, and nowhere else.
 */
import type { Logger } from '../../observability/logger.ts'
import type { KafkaPort, KafkaProducerConfig } from './port.ts'

/**
 * The engine module is imported when the first connector opens a port, not when the process starts: evaluating the
 * Kafka client is the largest part of start-up (measured), and the HTTP server should answer probes before that.
 */
export function createKafkaPort(config: KafkaProducerConfig, logger: Logger): KafkaPort {
  let loaded: KafkaPort | undefined
  const engine = import('./platformatic-engine.ts').then(({ createPlatformaticKafkaPort }) => (loaded = createPlatformaticKafkaPort(config, logger)))
  return {
    lastRetriedError: () => loaded?.lastRetriedError?.(),
    connect: async () => (await engine).connect(),
    send: async (topic, messages) => (await engine).send(topic, messages),
    close: async (options) => (await engine).close(options),
  }
}
