/**
 * Soft delete, undelete and stream metadata in the emulator, checked against what KurrentDB's server does. Each case
 * is one of the server's own tests in `src/KurrentDB.Core.Tests/ClientAPI/soft_delete.cs` (named in the test), or a
 * rule of `StorageWriterService.cs` / `StreamMetadata.cs` (facts S1–S5, M1–M4 of the server-semantics reference).
 * The sink relies on S5: re-creating a connector writes metadata to its soft-deleted checkpoint stream, and the old
 * checkpoints must stay hidden.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { BACKWARDS, binaryEvent, END, jsonEvent, KurrentDBClient, StreamDeletedError, StreamNotFoundError, WrongExpectedVersionError } from '@kurrent/kurrentdb-client'
import { startKurrentDbEmulator, type KurrentDbEmulator } from '../../support/kurrentdb-emulator.ts'

let emulator: KurrentDbEmulator
let client: KurrentDBClient

beforeAll(async () => {
  emulator = await startKurrentDbEmulator()
  client = KurrentDBClient.connectionString(emulator.connectionString)
})
afterAll(async () => {
  await client?.dispose()
  await emulator?.close()
})

async function readTypes(stream: string): Promise<string[] | 'not found'> {
  try {
    const types: string[] = []
    for await (const resolved of client.readStream(stream)) types.push(resolved.event!.type)
    return types
  } catch (error) {
    if (error instanceof StreamNotFoundError) return 'not found'
    throw error
  }
}

/** The newest event of `$$stream` as stored: its revision and JSON body. */
async function rawMetadata(stream: string): Promise<{ revision: bigint; data: unknown }> {
  for await (const resolved of client.readStream(`$$${stream}`, { direction: BACKWARDS, fromRevision: END, maxCount: 1 })) {
    return { revision: resolved.event!.revision, data: resolved.event!.data }
  }
  throw new Error(`no metadata for ${stream}`)
}

async function appendTwo(stream: string): Promise<void> {
  await client.appendToStream(stream, [jsonEvent({ type: 'a', data: {} }), jsonEvent({ type: 'b', data: {} })])
}

async function failureOf(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work()
  } catch (error) {
    return error
  }
  throw new Error('expected a failure')
}

const maxInt64 = 9223372036854775807

describe('soft delete', () => {
  test('writes only $tb = Int64.MaxValue: earlier metadata such as $maxCount is not carried over (S1)', async () => {
    await client.setStreamMetadata('sd-wipes', { maxCount: 10, custom: 'kept?' })
    await appendTwo('sd-wipes')
    await client.deleteStream('sd-wipes')
    expect((await rawMetadata('sd-wipes')).data).toEqual({ $tb: maxInt64 })
  })

  test('a stream with neither events nor metadata cannot be soft-deleted, whatever is expected; one with only metadata can (S2)', async () => {
    expect(await failureOf(() => client.deleteStream('sd-never'))).toBeInstanceOf(WrongExpectedVersionError)
    await client.setStreamMetadata('sd-metadata-only', { maxCount: 10 })
    await client.deleteStream('sd-metadata-only')
    expect(await readTypes('sd-metadata-only')).toBe('not found')
  })

  test('appending undeletes with a separate $metadata after the events: $tb = first new revision, nothing else kept (S4, soft_deleted_stream_allows_recreation_when_expver_any)', async () => {
    await client.setStreamMetadata('sd-append', { maxCount: 100 })
    await appendTwo('sd-append')
    await client.deleteStream('sd-append')
    const before = (await rawMetadata('sd-append')).revision
    await client.appendToStream('sd-append', jsonEvent({ type: 'c', data: {} }))
    expect(await readTypes('sd-append')).toEqual(['c'])
    const after = await rawMetadata('sd-append')
    expect(after).toEqual({ revision: before + 1n, data: { $tb: 2 } })
    expect(await failureOf(() => client.appendToStream('sd-append', jsonEvent({ type: 'd', data: {} }), { streamState: 'no_stream' }))).toBeInstanceOf(WrongExpectedVersionError)
  })

  test('stream_exists on a soft-deleted stream is StreamDeleted (S4)', async () => {
    await appendTwo('sd-exists')
    await client.deleteStream('sd-exists')
    expect(await failureOf(() => client.appendToStream('sd-exists', jsonEvent({ type: 'c', data: {} }), { streamState: 'stream_exists' }))).toBeInstanceOf(StreamDeletedError)
  })
})

describe('writing metadata to a soft-deleted stream (S5)', () => {
  test('keeps the old events hidden: one more $metadata with $tb = last + 1, a read succeeds with no events (setting_json_metadata_on_nonempty_soft_deleted_stream_recreates_stream_not_overriding_metadata)', async () => {
    await appendTwo('sd-meta')
    await client.deleteStream('sd-meta')
    const deletedAt = (await rawMetadata('sd-meta')).revision
    await client.setStreamMetadata('sd-meta', { maxCount: 100 })
    expect(await readTypes('sd-meta')).toEqual([])
    expect(await rawMetadata('sd-meta')).toEqual({ revision: deletedAt + 2n, data: { $maxCount: 100, $tb: 2 } })
    const metadata = await client.getStreamMetadata('sd-meta')
    expect({ maxCount: metadata.metadata?.maxCount, truncateBefore: metadata.metadata?.truncateBefore }).toEqual({ maxCount: 100, truncateBefore: 2 })
    await client.appendToStream('sd-meta', jsonEvent({ type: 'c', data: {} }))
    expect(await readTypes('sd-meta')).toEqual(['c'])
  })

  test('on a stream that never had events $tb becomes 0 and reads still say not found (setting_json_metadata_on_empty_soft_deleted_stream_recreates_stream_not_overriding_metadata)', async () => {
    await client.setStreamMetadata('sd-meta-empty', { maxCount: 5 })
    await client.deleteStream('sd-meta-empty')
    await client.setStreamMetadata('sd-meta-empty', { maxCount: 100 })
    expect((await rawMetadata('sd-meta-empty')).data).toEqual({ $maxCount: 100, $tb: 0 })
    expect(await readTypes('sd-meta-empty')).toBe('not found')
  })

  test('metadata that is not JSON undeletes nothing, and the old events become readable (setting_nonjson_metadata_on_nonempty_soft_deleted_stream_recreates_stream_keeping_original_metadata)', async () => {
    await appendTwo('sd-meta-binary')
    await client.deleteStream('sd-meta-binary')
    const deletedAt = (await rawMetadata('sd-meta-binary')).revision
    await client.appendToStream('$$sd-meta-binary', binaryEvent({ type: '$metadata', data: new Uint8Array([1, 2, 3]) }))
    expect((await rawMetadata('sd-meta-binary')).revision).toBe(deletedAt + 1n)
    expect(await readTypes('sd-meta-binary')).toEqual(['a', 'b'])
  })
})

describe('metadata parsing (M1, M2, M4)', () => {
  test('a known key of the wrong type makes the whole metadata empty, $tb included', async () => {
    await appendTwo('md-mistyped')
    await client.appendToStream('$$md-mistyped', jsonEvent({ type: '$metadata', data: { $tb: 1, $maxCount: 'ten' } }))
    expect(await readTypes('md-mistyped')).toEqual(['a', 'b'])
    await client.appendToStream('$$md-mistyped', jsonEvent({ type: '$metadata', data: { $tb: 1, $maxCount: 0 } }))
    expect(await readTypes('md-mistyped')).toEqual(['b'])
  })

  test('the metadata is the last event of the metastream whatever its type; the metastream shows only its newest event', async () => {
    await appendTwo('md-any-type')
    await client.appendToStream('$$md-any-type', jsonEvent({ type: 'not-metadata', data: { $tb: 1 } }))
    expect(await readTypes('md-any-type')).toEqual(['b'])
    await client.setStreamMetadata('md-any-type', { maxCount: 10 })
    const metastream: bigint[] = []
    for await (const resolved of client.readStream('$$md-any-type')) metastream.push(resolved.event!.revision)
    expect(metastream).toEqual([1n])
  })
})

describe('tombstone (S7, S8)', () => {
  test('metadata writes to a tombstoned stream fail with StreamDeleted, as do reads of its metastream', async () => {
    await appendTwo('ts-meta')
    await client.setStreamMetadata('ts-meta', { maxCount: 5 })
    await client.tombstoneStream('ts-meta')
    expect(await failureOf(() => client.setStreamMetadata('ts-meta', { maxCount: 10 }))).toBeInstanceOf(StreamDeletedError)
    expect(await failureOf(() => rawMetadata('ts-meta'))).toBeInstanceOf(StreamDeletedError)
    expect(await failureOf(() => client.deleteStream('ts-meta'))).toBeInstanceOf(StreamDeletedError)
  })

  test('a live stream subscription receives the $streamDeleted event, then ends with StreamDeleted', async () => {
    await appendTwo('ts-live')
    const subscription = client.subscribeToStream('ts-live', { fromRevision: END })
    const types: string[] = []
    const ended = new Promise<unknown>((resolve) => {
      subscription.on('data', (resolved) => void types.push(resolved.event!.type))
      subscription.on('error', resolve)
    })
    await new Promise<void>((resolve) => subscription.on('caughtUp', () => resolve()))
    await client.tombstoneStream('ts-live')
    expect(await ended).toBeInstanceOf(StreamDeletedError)
    expect(types).toEqual(['$streamDeleted'])
  })
})
