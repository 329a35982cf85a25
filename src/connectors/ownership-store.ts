/**
 * The I/O of ownership: lease streams, the member stream and the feed every instance follows. Lease appends use an
 * expected revision, so of two instances claiming one lease exactly one succeeds; heartbeats append with `any`.
 * Streams and event types carry the sink's prefixes, so no subscription of a connector ever forwards them.
 */
import { ANY, BACKWARDS, END, jsonEvent, NO_STREAM, StreamNotFoundError, WrongExpectedVersionError, type JSONType } from '@kurrent/kurrentdb-client'
import { BehaviorSubject, type Observable } from 'rxjs'
import type { Logger } from '../observability/logger.ts'
import type { KurrentDbConnection } from '../source/kurrentdb-connection.ts'
import type { LogPosition } from '../source/positions.ts'
import type { SourceEvent } from '../source/read-response-decoder.ts'
import { ownStreamPrefix } from '../source/read-plan.ts'
import { subscribeToSource, type SourceItem } from '../source/subscribe.ts'
import { connectorEventTypePrefix, connectorStreamPrefix } from './connector-history.ts'
import type { LeaseClaim } from './ownership.ts'

export const leaseEventType = `${connectorEventTypePrefix}lease`
export const memberEventType = `${connectorEventTypePrefix}member`
/** `$` cannot appear in a connector id, so this never collides with a connector's streams. */
export const memberStreamName = `${connectorStreamPrefix}$members`
const leaseSuffix = '/lease'
/** Only the latest claim matters; a few are kept to read what happened. */
const leasesKept = 5
const heartbeatsKept = 200

export function leaseStreamName(connectorId: string): string {
  return `${connectorStreamPrefix}${connectorId}${leaseSuffix}`
}

/** The connector id of a lease stream, or undefined for any other stream. */
export function connectorIdOfLeaseStream(streamName: string): string | undefined {
  if (!streamName.startsWith(connectorStreamPrefix) || !streamName.endsWith(leaseSuffix)) return undefined
  const id = streamName.slice(connectorStreamPrefix.length, -leaseSuffix.length)
  return id === '' || id.includes('/') ? undefined : id
}

export interface MemberHeartbeat {
  readonly instanceId: string
  readonly durationMs: number
  readonly leaving: boolean
}

export type LeaseAppendOutcome = { readonly written: true; readonly revision: bigint } | { readonly written: false }

export interface OwnershipStore {
  readLease(connectorId: string): Promise<{ readonly claim: LeaseClaim | undefined; readonly revision: bigint | undefined }>
  /** Appends a claim if the lease stream is still at `expectedRevision` (undefined: no event yet). */
  appendLease(connectorId: string, claim: LeaseClaim, expectedRevision: bigint | undefined): Promise<LeaseAppendOutcome>
  appendHeartbeat(heartbeat: MemberHeartbeat): Promise<void>
  prepareMemberStream(): Promise<void>
  /** Every event written to the sink's own streams after `from`, live, reconnecting on failure. */
  follow(from: LogPosition | undefined, logger: Logger): Observable<SourceItem>
}

export function decodeLeaseClaim(data: unknown): LeaseClaim | undefined {
  const claim = data as Partial<LeaseClaim> | undefined
  if (typeof claim?.owner !== 'string' || typeof claim.term !== 'number' || typeof claim.durationMs !== 'number') return undefined
  return { owner: claim.owner, term: claim.term, durationMs: claim.durationMs, released: claim.released === true }
}

export function decodeHeartbeat(data: unknown): MemberHeartbeat | undefined {
  const heartbeat = data as Partial<MemberHeartbeat> | undefined
  if (typeof heartbeat?.instanceId !== 'string' || typeof heartbeat.durationMs !== 'number') return undefined
  return { instanceId: heartbeat.instanceId, durationMs: heartbeat.durationMs, leaving: heartbeat.leaving === true }
}

/** The JSON body of a followed event, or undefined when it is not JSON. */
export function parseEventData(event: SourceEvent): unknown {
  try {
    return JSON.parse(Buffer.from(event.data.buffer, event.data.byteOffset, event.data.byteLength).toString('utf8'))
  } catch {
    return undefined
  }
}

export function createOwnershipStore(connection: KurrentDbConnection): OwnershipStore {
  const { client } = connection
  return {
    readLease: async (connectorId) => {
      try {
        for await (const resolved of client.readStream(leaseStreamName(connectorId), { direction: BACKWARDS, fromRevision: END, maxCount: 1 })) {
          const event = resolved.event
          if (event === undefined) continue
          return { claim: event.type === leaseEventType ? decodeLeaseClaim(event.data) : undefined, revision: event.revision }
        }
      } catch (error) {
        if (!(error instanceof StreamNotFoundError)) throw error
      }
      return { claim: undefined, revision: undefined }
    },
    appendLease: async (connectorId, claim, expectedRevision) => {
      const streamName = leaseStreamName(connectorId)
      try {
        if (expectedRevision === undefined) await client.setStreamMetadata(streamName, { maxCount: leasesKept })
        const result = await client.appendToStream(streamName, jsonEvent({ type: leaseEventType, data: { ...claim } as JSONType }), {
          streamState: expectedRevision ?? NO_STREAM,
        })
        return { written: true, revision: result.nextExpectedRevision }
      } catch (error) {
        if (error instanceof WrongExpectedVersionError) return { written: false }
        throw error
      }
    },
    appendHeartbeat: async (heartbeat) => {
      await client.appendToStream(memberStreamName, jsonEvent({ type: memberEventType, data: { ...heartbeat } as JSONType }), { streamState: ANY })
    },
    prepareMemberStream: async () => {
      await client.setStreamMetadata(memberStreamName, { maxCount: heartbeatsKept })
    },
    follow: (from, logger) =>
      subscribeToSource(connection, {
        target: { kind: 'all', filter: { on: 'streamName', prefixes: [ownStreamPrefix] } },
        start: from === undefined ? { kind: 'start' } : { kind: 'after', position: from },
        checkpointEvery: 1_000,
        paused$: new BehaviorSubject(false),
        logger,
      }),
  }
}
