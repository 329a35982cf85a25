/**
 * The end of what a read target covers, as a position to resume after: the last event of `$all`, or the last event
 * of the stream for a single-stream read. Resolving `end` this way, instead of asking the server to start at its
 * end, gives a position that can be stored and reconnected from: a subscription started at `end` that drops before
 * its first item would otherwise start at the (later) end again and skip what was written in between. It works on
 * every server version; `caught_up` carries a position only from 24.10.5 / 25.0.1 / 25.1.0 on.
 */
import { BACKWARDS, END, StreamNotFoundError } from '@kurrent/kurrentdb-client'
import type { KurrentDbConnection } from './kurrentdb-connection.ts'
import type { LogPosition, StartPoint } from './positions.ts'
import type { ReadTarget } from './read-plan.ts'

/** The last event the target holds now; undefined when it holds none (everything from now on is new). */
export interface LogEnd {
  readonly position: LogPosition
  /** Set for single-stream reads: the stream revision of that event. */
  readonly revision: bigint | undefined
}

export async function readLogEnd(connection: KurrentDbConnection, target: ReadTarget): Promise<LogEnd | undefined> {
  if (target.kind === 'all') {
    const head = await connection.readHeadPosition()
    return head === undefined ? undefined : { position: head, revision: undefined }
  }
  try {
    for await (const resolved of connection.client.readStream(target.streamName, { direction: BACKWARDS, fromRevision: END, maxCount: 1 })) {
      const event = resolved.event
      if (event?.position !== undefined) return { position: event.position, revision: event.revision }
    }
  } catch (error) {
    if (!(error instanceof StreamNotFoundError)) throw error
  }
  return undefined
}

/** Where a read resumes so that it delivers exactly what comes after `end`. */
export function startAfter(end: LogEnd | undefined, target: ReadTarget): StartPoint {
  if (end === undefined) return { kind: 'start' }
  if (target.kind === 'stream' && end.revision !== undefined) return { kind: 'afterRevision', revision: end.revision }
  return { kind: 'after', position: end.position }
}
