/**
 * Metadata (key 3) responses: the broker list is rewritten so that clients reconnect to the front's listener for
 * each broker id instead of the mock's plaintext port. Only the response prefix is parsed:
 *
 *   v0      => [brokers] …                     brokers => node_id host port
 *   v1–v2   => [brokers] …                     brokers => node_id host port rack
 *   v3–v8   => throttle_time_ms [brokers] …
 *   v9+     => throttle_time_ms COMPACT[brokers + TAG_BUFFER] …   (flexible: response header v1, compact strings)
 *
 * host is a STRING (COMPACT_STRING in v9+), rack a NULLABLE_STRING from v1 on; everything after the brokers array
 * (cluster id, controller id, topics, tagged fields) is copied verbatim. Nothing else in a Metadata response
 * names a broker address: topics refer to brokers by id only.
 */
import { KafkaProtocolError, Reader, Writer } from './protocol.ts'

export interface BrokerAddress {
  readonly host: string
  readonly port: number
}

export interface MetadataBroker extends BrokerAddress {
  readonly nodeId: number
}

const firstFlexibleVersion = 9
const firstVersionWithThrottleTime = 3
const firstVersionWithRack = 1

/** Request header v1 + Metadata Request v1 with an empty topic list (v1+: "no topics", unlike v0's "all"). */
export function metadataBrokersRequest(correlationId: number, clientId: string): Buffer {
  return new Writer().int16(3).int16(1).int32(correlationId).nullableString(clientId).int32(0).build()
}

/** The brokers of a Metadata response (a whole frame, header included) of `requestVersion`. */
export function readMetadataBrokers(frame: Buffer, requestVersion: number): MetadataBroker[] {
  const brokers: MetadataBroker[] = []
  walkBrokers(frame, requestVersion, (broker) => {
    brokers.push(broker)
  })
  return brokers
}

/**
 * Rebuilds a Metadata response with each broker's host and port replaced by `addressOf(nodeId)`. A broker the
 * front has no listener for is a protocol error: passing its address on would send clients around the front.
 */
export function rewriteMetadataResponse(
  frame: Buffer,
  requestVersion: number,
  addressOf: (nodeId: number) => BrokerAddress | undefined,
): Buffer {
  const flexible = requestVersion >= firstFlexibleVersion
  const writer = new Writer()
  const onPrefix = (prefix: Buffer) => {
    writer.raw(prefix)
  }
  const onBroker = (broker: MetadataBroker, rawTail: Buffer) => {
    const address = addressOf(broker.nodeId)
    if (address === undefined) throw new KafkaProtocolError(`Metadata names broker ${broker.nodeId}, which the front does not serve`)
    writer.int32(broker.nodeId)
    if (flexible) writer.compactNullableString(address.host)
    else writer.nullableString(address.host)
    writer.int32(address.port)
    // rack and the per-broker tagged fields are copied as they are.
    writer.raw(rawTail)
  }
  const rest = walkBrokers(frame, requestVersion, onBroker, onPrefix)
  return writer.raw(rest).build()
}

/**
 * Walks the brokers array; calls `onPrefix` with the bytes before the array's entries (header, throttle time,
 * array length), `onBroker` per broker with the raw bytes after its port; returns the bytes after the array.
 */
function walkBrokers(
  frame: Buffer,
  requestVersion: number,
  onBroker: (broker: MetadataBroker, rawTail: Buffer) => void,
  onPrefix?: (prefix: Buffer) => void,
): Buffer {
  const flexible = requestVersion >= firstFlexibleVersion
  const reader = new Reader(frame)
  reader.int32() // correlation_id
  if (flexible) reader.skipTaggedFields() // response header v1
  if (requestVersion >= firstVersionWithThrottleTime) reader.int32()
  const count = reader.arrayLength(flexible)
  if (count < 0) throw new KafkaProtocolError('Metadata response without a brokers array')
  onPrefix?.(frame.subarray(0, reader.offset))
  for (let index = 0; index < count; index++) {
    const nodeId = reader.int32()
    const host = flexible ? reader.compactNullableString() : reader.nullableString()
    if (host === null) throw new KafkaProtocolError(`Metadata broker ${nodeId} without a host`)
    const port = reader.int32()
    const tailStart = reader.offset
    if (requestVersion >= firstVersionWithRack) {
      if (flexible) reader.compactNullableString()
      else reader.nullableString()
    }
    if (flexible) reader.skipTaggedFields()
    onBroker({ nodeId, host, port }, frame.subarray(tailStart, reader.offset))
  }
  return reader.rest()
}

/**
 * The topics a Metadata request (a whole frame, request header included) asks for; null for "all topics".
 *
 *   v0      => [topics]                       topics => name                (an empty array means all topics)
 *   v1–v8   => [topics] …                     nullable array: null means all, empty means none
 *   v9      => COMPACT[topics] …              topics => name TAG_BUFFER      (flexible: request header v2)
 *   v10+    => COMPACT[topics] …              topics => topic_id name TAG_BUFFER (name a nullable compact string)
 *
 * Fields after the topics array (allow_auto_topic_creation, include_*_authorized_operations) are not read.
 */
export function readMetadataRequestTopics(frame: Buffer, apiVersion: number, bodyOffset: number): string[] | null {
  const flexible = apiVersion >= firstFlexibleVersion
  const reader = new Reader(frame, bodyOffset)
  const count = reader.arrayLength(flexible)
  if (count < 0) return null
  if (count === 0 && apiVersion === 0) return null
  const topics: string[] = []
  for (let index = 0; index < count; index++) {
    if (apiVersion >= 10) reader.bytes(16) // topic_id
    const name = flexible ? reader.compactNullableString() : reader.nullableString()
    if (flexible) reader.skipTaggedFields()
    // v10+ may ask by topic id alone (name null); shown as the empty name, which no topic has.
    topics.push(name ?? '')
  }
  return topics
}
