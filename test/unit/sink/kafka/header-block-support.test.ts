/**
 * The engine hands records' headers to the client as pre-encoded blocks only when the installed client copies them
 * (the kafka-sink patch); a client without the patch would drop every header silently.
 */
import { describe, expect, test } from 'bun:test'
import { createRecordsBatch, readRecordsBatch, Reader } from '@platformatic/kafka'
import { clientTakesHeaderBlocks, takesHeaderBlocks, type RecordCodec } from '../../../../src/sink/kafka/header-block-support.ts'

const decodeHeaderNames: RecordCodec['decodeHeaderNames'] = (bytes) =>
  readRecordsBatch(Reader.from(bytes)).records.map((record) => (record.headers ?? []).map(([name]) => Buffer.from(name!).toString('utf8')))

describe('header block support', () => {
  test('the installed client (patched by bun install from scripts/patches) copies header blocks', () => {
    expect(clientTakesHeaderBlocks()).toBe(true)
  })

  test('a client that ignores the block (as the unpatched one does) is detected, so headers go as maps', () => {
    const ignoresBlocks: RecordCodec = {
      encode: (messages) => createRecordsBatch(messages.map(({ headerBlock: _ignored, ...message }: { headerBlock?: unknown }) => message) as never, {}).buffer as Buffer,
      decodeHeaderNames,
    }
    expect(takesHeaderBlocks(ignoresBlocks)).toBe(false)
  })

  test('a client that fails on the block is detected too', () => {
    expect(takesHeaderBlocks({ encode: () => { throw new TypeError('unexpected field') }, decodeHeaderNames })).toBe(false)
  })

  test('only the one record with exactly the probe header counts as support', () => {
    const answering = (names: readonly (readonly string[])[]): RecordCodec => ({ encode: () => Buffer.alloc(0), decodeHeaderNames: () => names })
    expect(takesHeaderBlocks(answering([['kafka-sink-probe']]))).toBe(true)
    expect(takesHeaderBlocks(answering([]))).toBe(false)
    expect(takesHeaderBlocks(answering([['other']]))).toBe(false)
    expect(takesHeaderBlocks(answering([['kafka-sink-probe', 'kafka-sink-probe']]))).toBe(false)
    expect(takesHeaderBlocks(answering([['kafka-sink-probe'], ['kafka-sink-probe']]))).toBe(false)
  })
})
