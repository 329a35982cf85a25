/**
 * Where a run starts: the stored checkpoint if there is one (an explicit start or reset writes one first), else
 * `subscription:initialPosition`. Single-stream reads resume from a stream revision; a checkpoint that only has a
 * log position (written while the connector read `$all`) is translated by reading the stream.
 */
import { FORWARDS, StreamNotFoundError } from '@kurrent/kurrentdb-client'
import type { KurrentDbConnection } from '../source/kurrentdb-connection.ts'
import { readLogEnd } from '../source/log-end.ts'
import type { LogPosition, StartPoint } from '../source/positions.ts'
import type { ReadTarget } from '../source/read-plan.ts'
import type { StoredCheckpoint } from './connector-store.ts'

export type StartDecision = { readonly kind: 'ready'; readonly start: StartPoint } | { readonly kind: 'streamRevisionAt'; readonly streamName: string; readonly position: LogPosition }

/** Pure part: decides, or says which stream revision must be looked up first. */
export function decideStart(checkpoint: StoredCheckpoint | undefined, initialPosition: 'latest' | 'earliest', target: ReadTarget): StartDecision {
  if (checkpoint === undefined) return { kind: 'ready', start: initialPosition === 'earliest' ? { kind: 'start' } : { kind: 'end' } }
  if (checkpoint.kind === 'fromStart') return { kind: 'ready', start: { kind: 'start' } }
  if (target.kind === 'all') {
    return { kind: 'ready', start: checkpoint.position === undefined ? { kind: 'start' } : { kind: 'after', position: checkpoint.position } }
  }
  if (checkpoint.revision !== undefined) return { kind: 'ready', start: { kind: 'afterRevision', revision: checkpoint.revision } }
  if (checkpoint.position === undefined) return { kind: 'ready', start: { kind: 'start' } }
  return { kind: 'streamRevisionAt', streamName: target.streamName, position: checkpoint.position }
}

export async function resolveStart(connection: KurrentDbConnection, checkpoint: StoredCheckpoint | undefined, initialPosition: 'latest' | 'earliest', target: ReadTarget): Promise<StartPoint> {
  const decision = decideStart(checkpoint, initialPosition, target)
  if (decision.kind === 'ready') return decision.start
  // The last event of the stream at or before the position: resuming after it delivers everything later.
  let revision: bigint | undefined
  try {
    for await (const resolved of connection.client.readStream(decision.streamName, { direction: FORWARDS, fromRevision: 'start' })) {
      const event = resolved.event
      if (event?.position === undefined || event.position.commit > decision.position.commit) break
      revision = event.revision
    }
  } catch (error) {
    if (!(error instanceof StreamNotFoundError)) throw error
  }
  return revision === undefined ? { kind: 'start' } : { kind: 'afterRevision', revision }
}

/**
 * The checkpoint a first start with `latest` writes before it reports RUNNING: the last event the target holds now.
 * "latest" then means the end at the first start, and a stop, crash or redeploy before the first event resumes
 * from here instead of from a later end. Read from the log itself, not from `caught_up`, which carries no position
 * before KurrentDB 24.10.5 / 25.0.1 / 25.1.0.
 */
export async function resolveLatestCheckpoint(connection: KurrentDbConnection, target: ReadTarget): Promise<StoredCheckpoint> {
  const end = await readLogEnd(connection, target)
  return end === undefined ? { kind: 'fromStart' } : { kind: 'after', position: end.position, revision: end.revision }
}
