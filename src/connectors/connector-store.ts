/**
 * Persistence of connectors in KurrentDB, the only database: history streams, the index of ids, and checkpoint
 * streams. All I/O of `connectors/` goes through here; the fold over the events is `connector-history.ts`.
 */
import { ANY, BACKWARDS, END, FORWARDS, jsonEvent, NO_STREAM, StreamNotFoundError, WrongExpectedVersionError, type ResolvedEvent, type JSONType } from '@kurrent/kurrentdb-client'
import { createHash } from 'node:crypto'
import type { KurrentDbConnection } from '../source/kurrentdb-connection.ts'
import { isEndOfLog, parseUint64, type LogPosition } from '../source/positions.ts'
import {
  applyHistoryEvent,
  checkpointEventType,
  checkpointStreamName,
  connectorIndexStreamName,
  connectorRegisteredEventType,
  historyEventTypeOf,
  historyStreamName,
  storedEventType,
  type ConnectorRecord,
  type HistoryEvent,
} from './connector-history.ts'

/** Where a connector resumes: after a position (and stream revision, for single-stream reads), or from the start. */
export type StoredCheckpoint =
  | { readonly kind: 'fromStart' }
  | { readonly kind: 'after'; readonly position: LogPosition | undefined; readonly revision: bigint | undefined }

/** The last checkpoint event: what it says, its revision, and which activation and lease term wrote it. */
export interface CheckpointEntry {
  readonly checkpoint: StoredCheckpoint | undefined
  readonly revision: bigint | undefined
  readonly activation: number | undefined
}

export type CheckpointAppendOutcome = { readonly written: true; readonly revision: bigint } | { readonly written: false; readonly actualRevision: bigint | undefined }

export interface RevisionedEvent {
  readonly event: HistoryEvent
  readonly revision: bigint
}

/** Someone else appended to the connector's stream first. */
export class ConcurrentChangeError extends Error {
  override readonly name = 'ConcurrentChangeError'
}

export interface ConnectorStore {
  /** Every connector ever registered, folded from its history; deleted ones included. */
  loadAll(): Promise<Map<string, ConnectorRecord>>
  /** The history of one connector after `afterRevision` (all of it when undefined). */
  readHistory(connectorId: string, afterRevision?: bigint): Promise<RevisionedEvent[]>
  /**
   * Appends one event; `expectedRevision` undefined means the stream must not exist yet. Returns the new revision.
   * The event id is derived from the connector, the expected revision and `idempotencyKey` (by default the event
   * without its timestamp), so the same command retried after a lost acknowledgement carries the same id, and
   * KurrentDB answers it with the original success instead of WrongExpectedVersion (strong idempotency, checked
   * for exact expected revisions and no_stream: `IndexWriter.CheckCommit`).
   */
  append(connectorId: string, event: HistoryEvent, expectedRevision: bigint | undefined, idempotencyKey?: string): Promise<bigint>
  /** Idempotent: adds the id to the index before its stream is written, so a crash in between loses nothing. */
  register(connectorId: string): Promise<void>
  readCheckpoint(connectorId: string): Promise<StoredCheckpoint | undefined>
  writeCheckpoint(connectorId: string, checkpoint: StoredCheckpoint): Promise<void>
  readCheckpointEntry(connectorId: string): Promise<CheckpointEntry>
  /**
   * Appends a checkpoint (undefined: a marker that says only who writes from now on) if the checkpoint stream is
   * still at `expectedRevision` (undefined: no event yet). This is how a former owner is fenced: once the new owner
   * has appended, the old one's expected revision is stale and its writes are refused.
   */
  appendCheckpoint(
    connectorId: string,
    checkpoint: StoredCheckpoint | undefined,
    writer: { readonly activation: number; readonly term: number },
    expectedRevision: bigint | undefined,
  ): Promise<CheckpointAppendOutcome>
  /** Keeps only the last 10 checkpoints, as KurrentDB's connectors do. */
  prepareCheckpointStream(connectorId: string): Promise<void>
  deleteCheckpoints(connectorId: string): Promise<void>
}

const checkpointsKept = 10

interface StoredCheckpointData {
  readonly activation?: number
  readonly term?: number
  readonly fromStart?: boolean
  readonly commitPosition?: string
  readonly preparePosition?: string
  readonly streamRevision?: string
}

export function createConnectorStore(connection: KurrentDbConnection): ConnectorStore {
  const { client } = connection

  const readAll = async function* (streamName: string, fromRevision?: bigint): AsyncGenerator<ResolvedEvent> {
    try {
      yield* client.readStream(streamName, { direction: FORWARDS, fromRevision: fromRevision ?? 'start' })
    } catch (error) {
      if (error instanceof StreamNotFoundError) return
      throw error
    }
  }

  const readHistory = async (connectorId: string, afterRevision?: bigint): Promise<RevisionedEvent[]> => {
    const events: RevisionedEvent[] = []
    for await (const resolved of readAll(historyStreamName(connectorId), afterRevision === undefined ? undefined : afterRevision + 1n)) {
      const recorded = resolved.event
      if (recorded === undefined) continue
      const type = historyEventTypeOf(recorded.type)
      if (type === undefined) continue
      events.push({ event: { ...(recorded.data as object), type } as HistoryEvent, revision: recorded.revision })
    }
    return events
  }

  return {
    readHistory,
    loadAll: async () => {
      const ids = new Set<string>()
      for await (const resolved of readAll(connectorIndexStreamName)) {
        const data = resolved.event?.data as { connectorId?: unknown } | undefined
        if (typeof data?.connectorId === 'string') ids.add(data.connectorId)
      }
      const records = new Map<string, ConnectorRecord>()
      for (const connectorId of ids) {
        let record: ConnectorRecord | undefined
        for (const { event, revision } of await readHistory(connectorId)) record = applyHistoryEvent(record, connectorId, event, revision)
        if (record !== undefined) records.set(connectorId, record)
      }
      return records
    },
    append: async (connectorId, event, expectedRevision, idempotencyKey) => {
      const { type, ...data } = event
      try {
        const result = await client.appendToStream(
          historyStreamName(connectorId),
          jsonEvent({
            id: commandEventId(connectorId, expectedRevision, idempotencyKey ?? defaultIdempotencyKey(event)),
            type: storedEventType(type),
            data: { connectorId, ...data } as JSONType,
          }),
          { streamState: expectedRevision ?? NO_STREAM },
        )
        return result.nextExpectedRevision
      } catch (error) {
        if (error instanceof WrongExpectedVersionError) throw new ConcurrentChangeError(`connector ${connectorId} changed concurrently`, { cause: error })
        throw error
      }
    },
    register: async (connectorId) => {
      await client.appendToStream(connectorIndexStreamName, jsonEvent({ type: connectorRegisteredEventType, data: { connectorId } }), { streamState: ANY })
    },
    readCheckpointEntry: async (connectorId) => {
      try {
        for await (const resolved of client.readStream(checkpointStreamName(connectorId), { direction: BACKWARDS, fromRevision: END, maxCount: 1 })) {
          const event = resolved.event
          if (event === undefined) continue
          const data = event.type === checkpointEventType ? (event.data as StoredCheckpointData) : undefined
          return { checkpoint: data === undefined ? undefined : decodeCheckpoint(data), revision: event.revision, activation: typeof data?.activation === 'number' ? data.activation : undefined }
        }
      } catch (error) {
        if (!(error instanceof StreamNotFoundError)) throw error
      }
      return { checkpoint: undefined, revision: undefined, activation: undefined }
    },
    appendCheckpoint: async (connectorId, checkpoint, writer, expectedRevision) => {
      const data: StoredCheckpointData = { ...(checkpoint === undefined ? {} : encodeCheckpoint(checkpoint)), activation: writer.activation, term: writer.term }
      try {
        const result = await client.appendToStream(checkpointStreamName(connectorId), jsonEvent({ type: checkpointEventType, data: data as JSONType }), {
          streamState: expectedRevision ?? NO_STREAM,
        })
        return { written: true, revision: result.nextExpectedRevision }
      } catch (error) {
        if (!(error instanceof WrongExpectedVersionError)) throw error
        return { written: false, actualRevision: typeof error.actualState === 'bigint' ? error.actualState : undefined }
      }
    },
    readCheckpoint: async (connectorId) => {
      try {
        for await (const resolved of client.readStream(checkpointStreamName(connectorId), { direction: BACKWARDS, fromRevision: END, maxCount: 1 })) {
          if (resolved.event?.type !== checkpointEventType) continue
          return decodeCheckpoint(resolved.event.data as StoredCheckpointData)
        }
      } catch (error) {
        if (error instanceof StreamNotFoundError) return undefined
        throw error
      }
      return undefined
    },
    writeCheckpoint: async (connectorId, checkpoint) => {
      if (checkpoint.kind === 'after' && checkpoint.position !== undefined && isEndOfLog(checkpoint.position)) {
        throw new Error('refusing to store (2^64-1, 2^64-1) as a checkpoint: it means "the end of the log", and resuming from it skips events')
      }
      await client.appendToStream(checkpointStreamName(connectorId), jsonEvent({ type: checkpointEventType, data: encodeCheckpoint(checkpoint) as JSONType }), { streamState: ANY })
    },
    // A re-created connector must not read its former incarnation's checkpoints. That relies on KurrentDB's
    // undelete rule: metadata written to a soft-deleted stream is followed by one more `$metadata` with
    // `$tb` = last revision + 1, so the old checkpoints stay hidden (StorageWriterService `SoftUndeleteMetastream`;
    // KurrentDB's own connectors rely on it the same way). The undelete is acknowledged before it is indexed; the
    // `created` event create appends next is acknowledged after it, which closes that window. Never a tombstone:
    // a tombstoned checkpoint stream could never be written again.
    prepareCheckpointStream: async (connectorId) => {
      await client.setStreamMetadata(checkpointStreamName(connectorId), { maxCount: checkpointsKept })
    },
    deleteCheckpoints: async (connectorId) => {
      try {
        await client.deleteStream(checkpointStreamName(connectorId))
      } catch (error) {
        // Nothing to delete: a stream that never existed answers WrongExpectedVersion on a real server.
        if (!(error instanceof StreamNotFoundError) && !(error instanceof WrongExpectedVersionError)) throw error
      }
    },
  }
}

function encodeCheckpoint(checkpoint: StoredCheckpoint): StoredCheckpointData {
  if (checkpoint.kind === 'fromStart') return { fromStart: true }
  return {
    ...(checkpoint.position === undefined ? {} : { commitPosition: checkpoint.position.commit.toString(), preparePosition: checkpoint.position.prepare.toString() }),
    ...(checkpoint.revision === undefined ? {} : { streamRevision: checkpoint.revision.toString() }),
  }
}

function decodeCheckpoint(data: StoredCheckpointData): StoredCheckpoint | undefined {
  if (data.fromStart === true) return { kind: 'fromStart' }
  const commit = data.commitPosition === undefined ? undefined : parseUint64(data.commitPosition)
  const prepare = data.preparePosition === undefined ? commit : parseUint64(data.preparePosition)
  const revision = data.streamRevision === undefined ? undefined : parseUint64(data.streamRevision)
  // (2^64−1, 2^64−1) means "the end", never a place to resume after (see isEndOfLog): as if there were no position.
  const decoded = commit === undefined || prepare === undefined ? undefined : { commit, prepare }
  const position = decoded === undefined || isEndOfLog(decoded) ? undefined : decoded
  if (position === undefined && revision === undefined) return undefined
  return { kind: 'after', position, revision }
}

/** A UUID (v8 layout, from SHA-256) that is the same for the same command at the same revision. */
function commandEventId(connectorId: string, expectedRevision: bigint | undefined, idempotencyKey: string): string {
  const digest = createHash('sha256').update(`${connectorId}\n${expectedRevision ?? 'no-stream'}\n${idempotencyKey}`).digest()
  digest[6] = (digest[6]! & 0x0f) | 0x80
  digest[8] = (digest[8]! & 0x3f) | 0x80
  const hex = digest.subarray(0, 16).toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** The event without its timestamp (a retry builds it again, later). Settings carry sealed secrets, which differ on
 * every sealing: commands that store settings pass a key of their own (see the connectors service). */
function defaultIdempotencyKey(event: HistoryEvent): string {
  const { timestamp: _timestamp, ...rest } = event as HistoryEvent & { timestamp?: string }
  return JSON.stringify(rest)
}
