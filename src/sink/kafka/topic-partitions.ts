/**
 * How many partitions a send may spread a topic's records over, read from the client's answer to a Metadata
 * request for that topic. Kafka has no topic without partitions (CreateTopics refuses `num_partitions` below 1
 * with INVALID_PARTITIONS), but a Metadata response can list a topic with an empty partitions array, or leave it
 * out, while the topic is being created or its metadata is propagating. The Java producer treats both as "not
 * present in metadata yet" and waits (`KafkaProducer.waitOnMetadata`), a retriable condition: so is it here.
 */
import { KafkaSendError } from './errors.ts'

/** The part of the client's metadata answer this reads: per requested topic name, its partition count if known. */
export interface TopicsMetadata {
  readonly topics: ReadonlyMap<string, { readonly partitionsCount: number } | undefined>
}

/** The topic's partition count (at least 1), or a transient RETRIABLE_BROKER_ERROR when the answer lists none. */
export function partitionCountOf(metadata: TopicsMetadata, topic: string): number {
  const count = metadata.topics.get(topic)?.partitionsCount ?? 0
  if (count >= 1) return count
  throw new KafkaSendError({
    code: 'RETRIABLE_BROKER_ERROR',
    transient: true,
    message: `the metadata for topic ${topic} lists no partitions`,
  })
}
