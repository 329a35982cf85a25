/**
 * The store: one in-memory log (`$all`) plus a per-stream index. Each event is encoded once, as the
 * `ReadResp` every read and subscription sends, into large shared buffers; per-event facts live in typed
 * columns, so a million events cost a few hundred MB and no million small objects for the GC to walk.
 * Appends are synchronous, so one append's events get consecutive positions with nothing in between.
 */
import { randomUUID } from 'node:crypto'
import { encodeMetadataField, encodeReadResponse, encodeStreamIdentifierField, type ProposedEvent } from './event-codec.ts'
import { checkIdempotency } from './idempotency.ts'
import { checkExpectedRevision, currentRevisionOf, type ExpectedRevision, type StreamState } from './expected-revision.ts'
import {
  deletedStreamRevision,
  firstVisibleRevision,
  parseJsonObject,
  isSoftDeleted,
  metadataEventType,
  metadataWithTruncateBefore,
  metastreamOf,
  softDeleteMetadata,
  noMetadata,
  parseStreamMetadata,
  streamOfMetastream,
  tombstoneEventType,
  type StreamMetadata,
} from './stream-metadata.ts'

export type StreamRecord = {
  readonly id: number
  readonly name: string
  /** The encoded `stream_identifier` every event of the stream carries. */
  readonly identifierField: Uint8Array
  /** Log index of each revision: revision r is `logIndexes[r]`. A tombstone is not a revision. */
  readonly logIndexes: number[]
  tombstoned: boolean
  /** Log index of the `$streamDeleted` record, once tombstoned. */
  tombstoneIndex: number | undefined
  metadata: StreamMetadata
  /** The bytes of the metastream's last event: what the server's undelete rewrites with a new `$tb`. */
  rawMetadata: Uint8Array | undefined
}

export type AppendOutcome =
  | { kind: 'success'; currentRevision: bigint | undefined; position: bigint | undefined }
  | { kind: 'wrong-expected-version'; currentRevision: bigint | undefined }
  | { kind: 'stream-deleted' }

export type DeleteOutcome =
  | { kind: 'success'; position: bigint }
  | { kind: 'wrong-expected-version'; currentRevision: bigint | undefined }
  | { kind: 'stream-deleted' }

export type EventLogStats = { events: number; streams: number; bytes: number; lastPosition: bigint | undefined }

export type EventLog = ReturnType<typeof createEventLog>

/** Bytes a record's header would take in a real log: positions advance by this plus the encoded event. */
const recordHeaderSize = 64
const slabSize = 8 * 1024 * 1024
const initialCapacity = 1024

type PendingEvent = ProposedEvent & { stream: StreamRecord; revision: bigint }

export function createEventLog(options: { positionBase: bigint }) {
  const slabs: Buffer[] = [Buffer.allocUnsafe(slabSize)]
  let currentSlab = 0
  let slabOffset = 0
  let totalBytes = 0

  let capacity = initialCapacity
  let count = 0
  let positions = new BigUint64Array(capacity)
  let streamIds = new Uint32Array(capacity)
  let typeIds = new Uint32Array(capacity)
  let slabIds = new Uint32Array(capacity)
  let offsets = new Uint32Array(capacity)
  let lengths = new Uint32Array(capacity)
  /** Each event's id, for the server's idempotency checks (idempotency.ts). */
  const eventIds: string[] = []
  /** Ids committed since the last restart: the leader's in-memory cache that weak idempotency consults. */
  const recentIds = new Map<string, number>()
  let nextPosition = options.positionBase

  const streamsByName = new Map<string, StreamRecord>()
  const streams: StreamRecord[] = []
  const typeIdsByName = new Map<string, number>()
  const typeNames: string[] = []
  const typeFields: Uint8Array[] = []
  const contentTypeFields = new Map<string, Uint8Array>()

  let appendWaiter: { promise: Promise<void>; resolve: () => void } | undefined

  function grow(): void {
    capacity *= 2
    const grownPositions = new BigUint64Array(capacity)
    grownPositions.set(positions)
    positions = grownPositions
    const grown = (old: Uint32Array<ArrayBuffer>): Uint32Array<ArrayBuffer> => {
      const next = new Uint32Array(capacity)
      next.set(old)
      return next
    }
    streamIds = grown(streamIds)
    typeIds = grown(typeIds)
    slabIds = grown(slabIds)
    offsets = grown(offsets)
    lengths = grown(lengths)
  }

  /** Room for `size` bytes: the current slab, a fresh one, or a buffer of its own for a large event. */
  function reserve(size: number): { buffer: Buffer; offset: number; slab: number } {
    if (size > slabSize / 4) {
      const buffer = Buffer.allocUnsafe(size)
      slabs.push(buffer)
      return { buffer, offset: 0, slab: slabs.length - 1 }
    }
    if (slabOffset + size > slabSize) {
      slabs.push(Buffer.allocUnsafe(slabSize))
      currentSlab = slabs.length - 1
      slabOffset = 0
    }
    const offset = slabOffset
    slabOffset += size
    return { buffer: slabs[currentSlab]!, offset, slab: currentSlab }
  }

  function contentTypeField(contentType: string): Uint8Array {
    let encoded = contentTypeFields.get(contentType)
    if (!encoded) {
      encoded = encodeMetadataField('content-type', contentType)
      contentTypeFields.set(contentType, encoded)
    }
    return encoded
  }

  function internType(type: string): number {
    let id = typeIdsByName.get(type)
    if (id === undefined) {
      id = typeNames.length
      typeNames.push(type)
      typeFields.push(encodeMetadataField('type', type))
      typeIdsByName.set(type, id)
    }
    return id
  }

  function streamRecord(name: string): StreamRecord {
    let stream = streamsByName.get(name)
    if (!stream) {
      stream = { id: streams.length, name, identifierField: encodeStreamIdentifierField(name), logIndexes: [], tombstoned: false, tombstoneIndex: undefined, metadata: noMetadata, rawMetadata: undefined }
      streams.push(stream)
      streamsByName.set(name, stream)
    }
    return stream
  }

  function stateOf(stream: StreamRecord | undefined): StreamState {
    if (!stream) return { kind: 'missing' }
    if (stream.tombstoned) return { kind: 'tombstoned' }
    // The metastream of a tombstoned stream counts as deleted too (S7: IndexReader.GetStreamLastEventNumberCached).
    const described = streamOfMetastream(stream.name)
    if (described !== undefined && streamsByName.get(described)?.tombstoned === true) return { kind: 'tombstoned' }
    if (stream.logIndexes.length === 0) return { kind: 'missing' }
    const lastRevision = BigInt(stream.logIndexes.length - 1)
    return isSoftDeleted(stream.metadata) ? { kind: 'soft-deleted', lastRevision } : { kind: 'exists', lastRevision }
  }

  /** Writes events as one commit: consecutive positions, subscribers woken once. */
  function commit(events: PendingEvent[]): bigint {
    // One timestamp per commit, in .NET ticks (100 ns) since the Unix epoch.
    const createdField = encodeMetadataField('created', (BigInt(Date.now()) * 10_000n).toString())
    let lastPosition = nextPosition
    for (const event of events) {
      if (count === capacity) grow()
      const typeId = internType(event.type)
      const id = event.id || randomUUID()
      eventIds[count] = id
      recentIds.set(id, count)
      const { room, size } = encodeReadResponse(
        {
          id,
          streamIdentifierField: event.stream.identifierField,
          revision: event.revision,
          position: nextPosition,
          metadataFields: [typeFields[typeId]!, contentTypeField(event.contentType), createdField],
          customMetadata: event.customMetadata,
          data: event.data,
        },
        reserve,
      )
      positions[count] = nextPosition
      streamIds[count] = event.stream.id
      typeIds[count] = typeId
      slabIds[count] = room.slab
      offsets[count] = room.offset
      lengths[count] = size
      if (event.revision !== deletedStreamRevision) event.stream.logIndexes.push(count)
      const described = streamOfMetastream(event.stream.name)
      if (described !== undefined) {
        // The metadata is the metastream's last event, whatever its type, when it is non-empty JSON (M1).
        const isJson = event.contentType === 'application/json' && event.data.length > 0
        const record = streamRecord(described)
        record.metadata = isJson ? parseStreamMetadata(event.data) : noMetadata
        record.rawMetadata = event.data
      }
      lastPosition = nextPosition
      nextPosition += BigInt(size + recordHeaderSize)
      totalBytes += size
      count++
    }
    if (appendWaiter) {
      const waiter = appendWaiter
      appendWaiter = undefined
      waiter.resolve()
    }
    return lastPosition
  }

  function metadataEvent(streamName: string, data: Uint8Array): PendingEvent {
    const metastream = streamRecord(metastreamOf(streamName))
    return {
      id: randomUUID(),
      type: metadataEventType,
      contentType: 'application/json',
      customMetadata: new Uint8Array(0),
      data,
      stream: metastream,
      revision: BigInt(metastream.logIndexes.length),
    }
  }

  /** A metastream not written yet still counts as deleted when the stream it describes is tombstoned. */
  function metastreamPlaceholder(streamName: string): StreamRecord | undefined {
    const described = streamOfMetastream(streamName)
    return described !== undefined && streamsByName.get(described)?.tombstoned === true ? streamRecord(streamName) : undefined
  }

  /** Writes the undelete `$metadata` of `streamName`: its current raw metadata with `$tb` = `recreateFrom`. */
  function undelete(streamName: string, recreateFrom: bigint): void {
    const raw = streamsByName.get(streamName)?.rawMetadata
    const current = raw === undefined ? undefined : parseJsonObject(raw)
    if (current === undefined) return
    commit([metadataEvent(streamName, metadataWithTruncateBefore({ ...noMetadata, json: current }, recreateFrom))])
  }

  return {
    get size(): number {
      return count
    },
    positionAt(index: number): bigint {
      return positions[index]!
    },
    encodedAt(index: number): Buffer {
      const offset = offsets[index]!
      return slabs[slabIds[index]!]!.subarray(offset, offset + lengths[index]!)
    },
    streamIdAt(index: number): number {
      return streamIds[index]!
    },
    typeIdAt(index: number): number {
      return typeIds[index]!
    },
    streamNameOf(streamId: number): string {
      return streams[streamId]!.name
    },
    typeNameOf(typeId: number): string {
      return typeNames[typeId]!
    },
    findStream(name: string): StreamRecord | undefined {
      return streamsByName.get(name)
    },
    stateOf,
    /** Index of the first event whose position is >= `position` (the log size if there is none). */
    firstIndexAtOrAfter(position: bigint): number {
      let low = 0
      let high = count
      while (low < high) {
        const middle = (low + high) >>> 1
        if (positions[middle]! < position) low = middle + 1
        else high = middle
      }
      return low
    },
    /**
     * Whether a read or subscription may start at `position`: the start of the log, an event's position, or at or
     * past the end. Anything else is inside a record, which the server refuses (`TFChunkReadSide`: INVALID_ARGUMENT).
     */
    isRecordBoundary(position: bigint): boolean {
      if (position === 0n || position >= nextPosition) return true
      const index = this.firstIndexAtOrAfter(position)
      return index < count && positions[index] === position
    },
    lastPosition(): bigint | undefined {
      return count === 0 ? undefined : positions[count - 1]
    },
    /** The revisions a read may return: `[first, end)`, after `$maxCount` and `$tb`. */
    visibleRevisions(stream: StreamRecord): { first: number; end: number } {
      const end = stream.logIndexes.length
      // Metastreams keep only their newest event visible (a built-in `$maxCount` of 1, M4).
      const first = streamOfMetastream(stream.name) === undefined ? firstVisibleRevision(stream.metadata, end) : end - 1
      return { first: Math.max(0, Math.min(end, first)), end }
    },
    append(streamName: string, expected: ExpectedRevision, events: ProposedEvent[]): AppendOutcome {
      const stream = streamsByName.get(streamName)
      const state = stateOf(stream ?? metastreamPlaceholder(streamName))
      const retried = checkIdempotency(
        { state, expected, ids: events.map((event) => event.id) },
        {
          idAtRevision: (revision) => (stream === undefined ? undefined : eventIds[stream.logIndexes[revision]!]),
          positionOfRevision: (revision) => positions[stream!.logIndexes[revision]!]!,
          recentIndexOf: (id) => recentIds.get(id),
          streamIdAt: (index) => streamIds[index]!,
          revisionAt: (index) => BigInt(streams[streamIds[index]!]!.logIndexes.indexOf(index)),
          positionAt: (index) => positions[index]!,
          streamId: stream?.id,
        },
      )
      if (retried !== undefined) return retried
      const check = checkExpectedRevision(state, expected)
      if (check === 'stream-deleted') return { kind: 'stream-deleted' }
      if (check === 'wrong-expected-version') return { kind: 'wrong-expected-version', currentRevision: currentRevisionOf(state) }
      if (events.length === 0) return { kind: 'success', currentRevision: currentRevisionOf(state), position: undefined }
      const target = stream ?? streamRecord(streamName)
      const described = streamOfMetastream(streamName)
      const describedStream = described === undefined ? undefined : streamsByName.get(described)
      const describesSoftDeleted = describedStream !== undefined && !describedStream.tombstoned && isSoftDeleted(describedStream.metadata)
      const pending: PendingEvent[] = []
      let revision = BigInt(target.logIndexes.length)
      for (const event of events) pending.push({ ...event, stream: target, revision: revision++ })
      const position = commit(pending)
      // The server's undeletes (StorageWriterService: SoftUndeleteStream / SoftUndeleteMetastream), each a separate
      // `$metadata` record written right after the write that triggered it:
      // - appending to a soft-deleted stream rewrites its metadata with `$tb` = the first new revision (S4);
      // - writing metadata for a soft-deleted stream stores it, then writes it again with `$tb` = last revision + 1,
      //   so the old events stay hidden (S5). Metadata that is not a JSON object undeletes nothing.
      if (state.kind === 'soft-deleted') undelete(streamName, state.lastRevision + 1n)
      if (describesSoftDeleted) undelete(described!, BigInt(describedStream.logIndexes.length))
      return { kind: 'success', currentRevision: revision - 1n, position }
    },
    softDelete(streamName: string, expected: ExpectedRevision): DeleteOutcome {
      const stream = streamsByName.get(streamName)
      const state = stateOf(stream)
      // A stream with neither events nor metadata "has never existed": WrongExpectedVersion whatever was expected (S2).
      const hasMetadata = (streamsByName.get(metastreamOf(streamName))?.logIndexes.length ?? 0) > 0
      if (state.kind === 'missing' && !hasMetadata && stream?.tombstoned !== true) return { kind: 'wrong-expected-version', currentRevision: undefined }
      const check = checkExpectedRevision(state, expected)
      if (check === 'stream-deleted') return { kind: 'stream-deleted' }
      if (check === 'wrong-expected-version') return { kind: 'wrong-expected-version', currentRevision: currentRevisionOf(state) }
      // Only `$tb`: earlier metadata (`$maxCount`, `$acl`, custom keys) is not carried over (S1).
      return { kind: 'success', position: commit([metadataEvent(streamName, softDeleteMetadata())]) }
    },
    tombstone(streamName: string, expected: ExpectedRevision): DeleteOutcome {
      const state = stateOf(streamsByName.get(streamName))
      const check = checkExpectedRevision(state, expected)
      if (check === 'stream-deleted') return { kind: 'stream-deleted' }
      if (check === 'wrong-expected-version') return { kind: 'wrong-expected-version', currentRevision: currentRevisionOf(state) }
      const stream = streamRecord(streamName)
      const position = commit([
        {
          id: randomUUID(),
          type: tombstoneEventType,
          contentType: 'application/octet-stream',
          customMetadata: new Uint8Array(0),
          data: new Uint8Array(0),
          stream,
          revision: deletedStreamRevision,
        },
      ])
      stream.tombstoned = true
      stream.tombstoneIndex = count - 1
      return { kind: 'success', position }
    },
    /** What a restart forgets: the recently committed ids weak idempotency consults. */
    forgetRecentIds(): void {
      recentIds.clear()
    },
    /** Resolves at the next commit. */
    nextAppend(): Promise<void> {
      if (!appendWaiter) {
        let resolve!: () => void
        const promise = new Promise<void>((done) => (resolve = done))
        appendWaiter = { promise, resolve }
      }
      return appendWaiter.promise
    },
    stats(): EventLogStats {
      return { events: count, streams: streams.length, bytes: totalBytes, lastPosition: count === 0 ? undefined : positions[count - 1] }
    },
  }
}
