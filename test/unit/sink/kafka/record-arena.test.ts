/**
 * Record header blocks written in Kafka's wire form. The judge of the bytes is the client's own record decoder
 * (`readRecordsBatch`, not patched) and, end to end, kcat; here also the `Map` view engines without the pre-encoded
 * path read, and the arena's chunk boundaries.
 */
import { describe, expect, test } from 'bun:test'
import { createRecordsBatch, readRecordsBatch, Reader } from '@platformatic/kafka'
import { EncodedHeaders, RecordArena, encodeHeaderField } from '../../../../src/sink/kafka/record-arena.ts'

function writeBlock(arena: RecordArena, headers: readonly (readonly [string, string])[]): EncodedHeaders {
  arena.beginHeaders()
  for (const [name, value] of headers) arena.textHeader(encodeHeaderField(name), Buffer.byteLength(name), value)
  return arena.finishHeaders()
}

function decodedByTheClient(blocks: readonly EncodedHeaders[], values: readonly Buffer[]): string[][][] {
  const messages = blocks.map((block, index) => ({ key: undefined, value: values[index]!, headerBlock: block.encoded, timestamp: 1_700_000_000_000n, topic: 't', partition: 0 }))
  const batch = readRecordsBatch(Reader.from(createRecordsBatch(messages as never, { producerId: 1n, producerEpoch: 0 }).buffer))
  return batch.records.map((record) => (record.headers ?? []).map(([name, value]) => [Buffer.from(name!).toString('utf8'), Buffer.from(value!).toString('utf8')]))
}

describe('RecordArena header blocks', () => {
  test('the client decodes them as the headers written, in order, whatever the value (empty, non-ASCII, long)', () => {
    const arena = new RecordArena()
    const headers: [string, string][] = [
      ['esdb-record-id', '5c6f0d0e-3b4a-4a43-9a6c-0f2f8f0a1b2c'],
      ['empty', ''],
      ['ünïcødé-名前', 'värde – 値 – 😀'],
      ['long', 'x'.repeat(70_000)],
    ]
    const block = writeBlock(arena, headers)
    expect(decodedByTheClient([block], [Buffer.from('v')])).toEqual([headers])
    expect(block.size).toBe(headers.length)
    expect(block.contentBytes).toBe(headers.reduce((sum, [name, value]) => sum + Buffer.byteLength(name) + Buffer.byteLength(value), 0))
  })

  test('more than 63 headers (a count of two varint bytes) and none at all', () => {
    const arena = new RecordArena()
    const many = Array.from({ length: 200 }, (_, index) => [`h${index}`, `${index}`] as [string, string])
    const blocks = [writeBlock(arena, many), writeBlock(arena, []), writeBlock(arena, many.slice(0, 64))]
    expect(decodedByTheClient(blocks, [Buffer.from('a'), Buffer.from('b'), Buffer.from('c')])).toEqual([many, [], many.slice(0, 64)])
  })

  test('reads as the Map of names to values it encodes; the last header of a name wins, as with Map.set', () => {
    const arena = new RecordArena()
    const block = writeBlock(arena, [['a', '1'], ['b', '2'], ['a', '3']])
    expect([...block].map(([name, value]) => [name, value.toString()])).toEqual([['a', '1'], ['b', '2'], ['a', '3']])
    expect([...block.keys()]).toEqual(['a', 'b', 'a'])
    expect([...block.values()].map(String)).toEqual(['1', '2', '3'])
    expect(block.get('a')?.toString()).toBe('3')
    expect(block.get('missing')).toBeUndefined()
    expect(block.has('b')).toBe(true)
    expect(block.has('c')).toBe(false)
    const seen: string[] = []
    block.forEach((value, name, map) => {
      expect(map).toBe(block)
      seen.push(`${name}=${value}`)
    })
    expect(seen).toEqual(['a=1', 'b=2', 'a=3'])
  })

  test('blocks and values written across many chunks stay intact after later writes', () => {
    const arena = new RecordArena()
    const written: { block: EncodedHeaders; value: Buffer; expectedValue: Buffer; expected: [string, string][] }[] = []
    for (let index = 0; index < 3_000; index++) {
      const expected: [string, string][] = [['n', `${index}`], ['pad', 'p'.repeat(index % 700)]]
      const block = writeBlock(arena, expected)
      const expectedValue = Buffer.alloc(index % 5 === 0 ? 300_000 : 100, index % 251)
      written.push({ block, value: arena.copy(expectedValue), expectedValue, expected })
    }
    for (const { block, value, expectedValue, expected } of written) {
      expect([...block].map(([name, bytes]) => [name, bytes.toString()])).toEqual(expected)
      expect(value.equals(expectedValue)).toBe(true)
    }
  })

  test('decimal headers: every digit count, and values past 2^53 exactly', () => {
    const arena = new RecordArena()
    const values = [0n, 7n, 9n, 10n, 99n, 100n, 123_456_789n, 9_007_199_254_740_991n, 9_007_199_254_740_993n, 18_446_744_073_709_551_615n]
    for (const value of values) {
      arena.beginHeaders()
      arena.decimalHeader(encodeHeaderField('n'), 1, value)
      const block = arena.finishHeaders()
      expect(block.get('n')?.toString()).toBe(value.toString())
      expect(block.contentBytes).toBe(1 + value.toString().length)
    }
  })

  test('uuid headers are distinct random version-4 UUIDs in canonical form', () => {
    const arena = new RecordArena()
    const ids = new Set<string>()
    for (let index = 0; index < 5_000; index++) {
      arena.beginHeaders()
      arena.uuidHeader(encodeHeaderField('id'), 2)
      ids.add(arena.finishHeaders().get('id')!.toString())
    }
    expect(ids.size).toBe(5_000)
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  })

  test('constant and bytes headers', () => {
    const arena = new RecordArena()
    arena.beginHeaders()
    arena.constantHeader(Buffer.concat([encodeHeaderField('esdb-record-redacted'), encodeHeaderField('false')]), 25)
    arena.bytesHeader(encodeHeaderField('raw'), 3, Uint8Array.from([0, 255, 128]))
    const block = arena.finishHeaders()
    expect(block.get('esdb-record-redacted')?.toString()).toBe('false')
    expect([...block.get('raw')!]).toEqual([0, 255, 128])
    expect(block.contentBytes).toBe(25 + 3 + 3)
  })

  test('names, values and record values of every length from 0 to 130 bytes (short copies and long ones) read back intact', () => {
    const arena = new RecordArena(512)
    const blocks: EncodedHeaders[] = []
    const values: Buffer[] = []
    const expected: string[][][] = []
    const texts: string[] = []
    for (let length = 0; length <= 130; length++) {
      // Distinct bytes per position and length, so a byte copied to the wrong place or left out shows.
      const text = Array.from({ length }, (_, index) => String.fromCharCode(0x41 + ((index * 7 + length) % 26))).join('')
      texts.push(text)
      const name = `n${text}`
      const pair = Buffer.concat([encodeHeaderField(`c${text}`), encodeHeaderField(text)])
      arena.beginHeaders()
      arena.bytesHeader(encodeHeaderField(name), Buffer.byteLength(name), Buffer.from(text))
      arena.constantHeader(pair, 1 + 2 * length)
      blocks.push(arena.finishHeaders())
      values.push(arena.copy(Buffer.from(text.toLowerCase())))
      expected.push([[name, text], [`c${text}`, text]])
    }
    expect(decodedByTheClient(blocks, values)).toEqual(expected)
    expect(values.map((value) => value.toString())).toEqual(texts.map((text) => text.toLowerCase()))
  })

  test('a block must be begun before it is finished, and not begun twice', () => {
    const arena = new RecordArena()
    expect(() => arena.finishHeaders()).toThrow('RecordArena: no header block is open')
    arena.beginHeaders()
    expect(() => arena.beginHeaders()).toThrow('RecordArena: a header block is already open')
    expect(() => arena.copy(Buffer.from('x'))).toThrow('RecordArena: copy while a header block is open')
  })

  test('with tiny chunks, every kind of header and value meets a chunk end somewhere, and all read back intact', () => {
    // Chunks of 1 to 40 bytes: each write's room is checked, and a block begun in one chunk moves whole to the next.
    for (const chunkBytes of [1, 7, 16, 40]) {
      const arena = new RecordArena(chunkBytes)
      const pair = Buffer.concat([encodeHeaderField('esdb-record-redacted'), encodeHeaderField('false')])
      const written: { block: EncodedHeaders; value: Buffer; expected: string[][]; expectedValue: string; hasId: boolean }[] = []
      for (let index = 0; index < 300; index++) {
        const pad = 'p'.repeat(index % 13)
        if (index % 7 === 3) {
          // No headers at all, right after a value that may have filled its chunk exactly.
          arena.beginHeaders()
          const empty = arena.finishHeaders()
          written.push({ block: empty, value: arena.copy(Buffer.from(`empty-${index}`)), expected: [], expectedValue: `empty-${index}`, hasId: false })
          continue
        }
        arena.beginHeaders()
        arena.constantHeader(pair, 25)
        arena.bytesHeader(encodeHeaderField('raw'), 3, Buffer.from(`b${pad}`))
        arena.textHeader(encodeHeaderField('text'), 4, `t${pad}é`)
        arena.decimalHeader(encodeHeaderField('rev'), 3, BigInt(index * 7919))
        arena.uuidHeader(encodeHeaderField('id'), 2)
        const many = index % 50 === 0 ? 70 : 0 // now and then a count of two bytes
        for (let extra = 0; extra < many; extra++) arena.textHeader(encodeHeaderField(`x${extra}`), `x${extra}`.length, `${extra}`)
        // Ending on a header whose room is reserved exactly, so a longer count must make room of its own.
        if (many > 0) arena.constantHeader(pair, 25)
        const block = arena.finishHeaders()
        const expectedValue = `value-${index}-${pad}`
        written.push({
          block,
          value: arena.copy(Buffer.from(expectedValue)),
          expected: [
            ['esdb-record-redacted', 'false'],
            ['raw', `b${pad}`],
            ['text', `t${pad}é`],
            ['rev', `${index * 7919}`],
            ...Array.from({ length: many }, (_, extra) => [`x${extra}`, `${extra}`]),
            ...(many > 0 ? [['esdb-record-redacted', 'false']] : []),
          ],
          expectedValue,
          hasId: true,
        })
      }
      for (const { block, value, expected, expectedValue, hasId } of written) {
        const entries = [...block].map(([name, bytes]) => [name, bytes.toString('utf8')])
        expect(entries.filter(([name]) => name !== 'id')).toEqual(expected)
        if (hasId) expect(entries.find(([name]) => name === 'id')?.[1]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
        expect(block.size).toBe(expected.length + (hasId ? 1 : 0))
        expect(value.toString()).toBe(expectedValue)
      }
      expect(decodedByTheClient(written.map(({ block }) => block), written.map(({ value }) => value)).map((headers) => headers.filter(([name]) => name !== 'id'))).toEqual(written.map(({ expected }) => expected))
    }
  })

  test('a block cut inside a varint is refused, not read past its end', () => {
    const truncated = new EncodedHeaders(Buffer.from([0x02, 0x80]), 1, 0)
    expect(() => [...truncated]).toThrow('encoded headers end inside a varint')
  })

  test('a negative decimal (never a revision or a position, but not misread either) is written as its digits', () => {
    const arena = new RecordArena()
    arena.beginHeaders()
    arena.decimalHeader(encodeHeaderField('n'), 1, -42n)
    expect(arena.finishHeaders().get('n')?.toString()).toBe('-42')
  })
})
