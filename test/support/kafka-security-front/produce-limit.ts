/**
 * A broker's `message.max.bytes`, which librdkafka's mock cluster does not enforce: a Produce request that carries a
 * record batch larger than the limit is answered by the front with MESSAGE_TOO_LARGE for every partition of the
 * request, and not forwarded. Kafka checks each partition's batch and appends the others; answering the whole
 * request is the same for the one-partition topics the tests that use it write to.
 *
 * Produce v3–v8 are classic, v9+ flexible (compact strings and arrays, tag buffers; response header v1). v13+ name
 * topics by id, which the mock does not offer.
 */
import { Reader, responseFrame, Writer } from './protocol.ts'

export const produceApiKey = 0
const messageTooLarge = 10

interface ProducePartitions {
  readonly acks: number
  readonly topics: ReadonlyArray<{ readonly name: string; readonly partitions: ReadonlyArray<{ readonly index: number; readonly recordsBytes: number }> }>
}

/** The Produce request's topics and the size of each partition's records; the body starts at `bodyOffset`. */
export function readProduceRequest(frame: Buffer, bodyOffset: number, apiVersion: number): ProducePartitions {
  const flexible = apiVersion >= 9
  const reader = new Reader(frame, bodyOffset)
  if (apiVersion >= 3) {
    if (flexible) reader.compactNullableString()
    else reader.nullableString()
  }
  const acks = reader.int16()
  reader.int32() // timeout_ms
  const topics: Array<{ name: string; partitions: Array<{ index: number; recordsBytes: number }> }> = []
  const topicCount = reader.arrayLength(flexible)
  for (let topicIndex = 0; topicIndex < topicCount; topicIndex++) {
    const name = (flexible ? reader.compactNullableString() : reader.nullableString()) ?? ''
    const partitions: Array<{ index: number; recordsBytes: number }> = []
    const partitionCount = reader.arrayLength(flexible)
    for (let partitionIndex = 0; partitionIndex < partitionCount; partitionIndex++) {
      const index = reader.int32()
      const length = flexible ? reader.uvarint() - 1 : reader.int32()
      if (length > 0) reader.bytes(length)
      partitions.push({ index, recordsBytes: Math.max(0, length) })
      if (flexible) reader.skipTaggedFields()
    }
    if (flexible) reader.skipTaggedFields()
    topics.push({ name, partitions })
  }
  return { acks, topics }
}

export function exceedsLimit(request: ProducePartitions, maxMessageBytes: number): boolean {
  return request.topics.some((topic) => topic.partitions.some((partition) => partition.recordsBytes > maxMessageBytes))
}

/** The Produce response with MESSAGE_TOO_LARGE for every partition, framed for the client. */
export function messageTooLargeResponse(correlationId: number, apiVersion: number, request: ProducePartitions): Buffer {
  const flexible = apiVersion >= 9
  const body = new Writer().arrayLength(request.topics.length, flexible)
  for (const topic of request.topics) {
    if (flexible) body.compactNullableString(topic.name)
    else body.nullableString(topic.name)
    body.arrayLength(topic.partitions.length, flexible)
    for (const partition of topic.partitions) {
      body.int32(partition.index).int16(messageTooLarge).int64(-1n)
      if (apiVersion >= 2) body.int64(-1n) // log_append_time_ms
      if (apiVersion >= 5) body.int64(-1n) // log_start_offset
      if (apiVersion >= 8) {
        body.arrayLength(0, flexible) // record_errors
        const message = 'The request included a message larger than the max message size the server will accept.'
        if (flexible) body.compactNullableString(message)
        else body.nullableString(message)
      }
      if (flexible) body.noTaggedFields()
    }
    if (flexible) body.noTaggedFields()
  }
  if (apiVersion >= 1) body.int32(0) // throttle_time_ms
  if (flexible) body.noTaggedFields()
  return responseFrame(correlationId, flexible, body.build())
}
