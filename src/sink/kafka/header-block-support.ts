/**
 * Whether the Kafka client copies a message's pre-encoded header block (`headerBlock`) into the record: a change
 * the kafka-sink patch of @platformatic/kafka makes (scripts/patches). A client installed without the patch would
 * ignore the block and send records without their headers, so the engine asks once, by encoding a record with one
 * header and reading it back with the client's own decoder, and falls back to header maps if the answer is no.
 */
import { createRecordsBatch, readRecordsBatch, Reader } from '@platformatic/kafka'
import { RecordArena, encodeHeaderField } from './record-arena.ts'

export interface RecordCodec {
  encode(messages: readonly object[]): Buffer
  /** The header names of each record read back from `encode`'s bytes. */
  decodeHeaderNames(bytes: Buffer): readonly (readonly string[])[]
}

const clientCodec: RecordCodec = {
  encode: (messages) => createRecordsBatch(messages as never, {}).buffer as Buffer,
  decodeHeaderNames: (bytes) => readRecordsBatch(Reader.from(bytes)).records.map((record) => (record.headers ?? []).map(([name]) => Buffer.from(name ?? Buffer.alloc(0)).toString('utf8'))),
}

export function takesHeaderBlocks(codec: RecordCodec = clientCodec): boolean {
  try {
    const arena = new RecordArena()
    arena.beginHeaders()
    arena.textHeader(encodeHeaderField('kafka-sink-probe'), 16, 'yes')
    const headers = arena.finishHeaders()
    const names = codec.decodeHeaderNames(codec.encode([{ key: undefined, value: Buffer.alloc(0), headerBlock: headers.encoded, timestamp: 0n, topic: 'probe', partition: 0 }]))
    return names.length === 1 && names[0]!.length === 1 && names[0]![0] === 'kafka-sink-probe'
  } catch {
    return false
  }
}

let answer: boolean | undefined
/** `takesHeaderBlocks()` of the installed client, asked once per process. */
export function clientTakesHeaderBlocks(): boolean {
  answer ??= takesHeaderBlocks()
  return answer
}
