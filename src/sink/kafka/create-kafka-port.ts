/**
 * The one place the pipeline gets a Kafka engine from. Today that is always the @platformatic/kafka engine:
 * it is pure TypeScript and the only Kafka client Bun can load, so the only one the single binary can ship.
 * A librdkafka engine (running under Node only) would be chosen here, and nowhere else.
 */
import type { Logger } from '../../observability/logger.ts'
import { createPlatformaticKafkaPort } from './platformatic-engine.ts'
import type { KafkaPort, KafkaProducerConfig } from './port.ts'

export function createKafkaPort(config: KafkaProducerConfig, logger: Logger): KafkaPort {
  return createPlatformaticKafkaPort(config, logger)
}
