/**
 * What flows between the pipeline's operators: one `WorkItem` per source item, numbered densely in source order so
 * the checkpoint tracker can tell when everything before a position has been confirmed.
 */
import type { LogPosition } from '../source/positions.ts'
import type { KafkaMessage } from '../sink/kafka/port.ts'
import { EncodedHeaders } from '../sink/kafka/record-arena.ts'

/** Where to resume after this item: the `$all` position, and the stream revision for single-stream reads. */
export interface ResumePoint {
  readonly position: LogPosition | undefined
  readonly revision: bigint | undefined
}

export interface WorkItem {
  readonly sequence: number
  /** undefined for markers that carry no position (caught-up) */
  readonly resume: ResumePoint | undefined
  /** undefined when there is nothing to send: filtered out, or a checkpoint/caught-up marker */
  readonly message: KafkaMessage | undefined
  /** Bytes the message holds in memory (value + key + headers); 0 without a message. */
  readonly bytes: number
  /** Set on the marker that follows the last event of the catch-up phase. */
  readonly caughtUp: boolean
  /** `performance.now()` when the item was read: commit latency is measured from here. */
  readonly readAt: number
}

export type WorkBatch = readonly WorkItem[]

export function messageSize(message: KafkaMessage): number {
  let size = message.value.length + (message.key?.length ?? 0)
  if (message.headers instanceof EncodedHeaders) return size + message.headers.contentBytes
  for (const [name, value] of message.headers) size += name.length + value.length
  return size
}
