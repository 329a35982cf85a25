/**
 * Partition choice for the sink's records, computed by us rather than by the client so that (1) one key lands
 * on the partition every other Kafka producer would pick for it, and (2) the engine knows each message's
 * partition and can report per-message outcomes when only some partitions fail.
 *
 * Keyed records: Kafka's default partitioner, `toPositive(murmur2(key)) % partitions` (Java's
 * DefaultPartitioner / BuiltInPartitioner, librdkafka's `murmur2_random`). @platformatic/kafka's own default
 * uses `murmur2(key) >>> 0` instead of `& 0x7fffffff` (clients/producer/partitioners.js), which sends a key
 * whose hash is negative to a different partition than Java or librdkafka do; it also computes murmur2 with
 * BigInt, allocating on every call. Null keys: see `createPartitioner`.
 */

const seed = 0x9747b28c
const multiplier = 0x5bd1e995

/** Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2), as a signed 32-bit integer. */
export function murmur2(data: Uint8Array): number {
  const length = data.length
  let h = seed ^ length
  const whole = length - (length % 4)
  for (let i = 0; i < whole; i += 4) {
    let k = (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)) | 0
    k = Math.imul(k, multiplier)
    k ^= k >>> 24
    k = Math.imul(k, multiplier)
    h = Math.imul(h, multiplier) ^ k
  }
  // Java's switch falls through 3 → 2 → 1; written as ifs for noFallthroughCasesInSwitch.
  const tail = length % 4
  if (tail > 0) {
    if (tail === 3) h ^= data[whole + 2]! << 16
    if (tail >= 2) h ^= data[whole + 1]! << 8
    h ^= data[whole]!
    h = Math.imul(h, multiplier)
  }
  h ^= h >>> 13
  h = Math.imul(h, multiplier)
  h ^= h >>> 15
  return h | 0
}

/** The partition Kafka's default partitioner picks for a non-null key. */
export function partitionForKey(key: Uint8Array, partitionCount: number): number {
  return (murmur2(key) & 0x7fffffff) % partitionCount
}

export interface Partitioner {
  /**
   * Writes each message's partition into `into` (same index as `messages`). Null keys all go to one partition per
   * call, rotating between calls per topic: one record batch instead of one per partition, which compresses
   * better and costs one partition entry per request (the idea of Kafka's sticky partitioner, KIP-480).
   */
  assign(
    topic: string,
    messages: readonly { readonly key: Uint8Array | null }[],
    partitionCount: number,
    into: Int32Array,
  ): void
}

export function createPartitioner(): Partitioner {
  const nextNullKeyPartition = new Map<string, number>()
  return {
    assign(topic, messages, partitionCount, into) {
      let nullKeyPartition = -1
      for (let index = 0; index < messages.length; index++) {
        const key = messages[index]!.key
        if (key !== null) {
          into[index] = partitionForKey(key, partitionCount)
          continue
        }
        if (nullKeyPartition < 0) {
          const next = nextNullKeyPartition.get(topic) ?? 0
          nullKeyPartition = next % partitionCount
          nextNullKeyPartition.set(topic, (next + 1) % partitionCount)
        }
        into[index] = nullKeyPartition
      }
    },
  }
}
