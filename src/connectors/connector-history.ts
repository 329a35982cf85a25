/**
 * A connector's history: the events stored in its stream `$kafka-sink/{id}` and the pure fold that turns them into
 * its current record. Event types start with `$kafka-sink-` so KurrentDB treats them as system events and no
 * default subscription (ours included) forwards them.
 */
import type { ConnectorStateName } from './connector-service.ts'

export const connectorStreamPrefix = '$kafka-sink/'
export const connectorEventTypePrefix = '$kafka-sink-'

export function historyStreamName(connectorId: string): string {
  return `${connectorStreamPrefix}${connectorId}`
}
export function checkpointStreamName(connectorId: string): string {
  return `${connectorStreamPrefix}${connectorId}/checkpoints`
}
/**
 * Lists every connector id ever created, so start-up reads a few small streams instead of scanning `$all`.
 * `$` cannot appear in a connector id, so this name never collides with a connector's own stream.
 */
export const connectorIndexStreamName = `${connectorStreamPrefix}$index`
export const connectorRegisteredEventType = `${connectorEventTypePrefix}connector-registered`
export const checkpointEventType = `${connectorEventTypePrefix}checkpoint`

export interface ErrorDetails {
  readonly code: string
  readonly message: string
}

/** Stored settings: the flat map as the user sent it, values as strings, secrets encrypted. */
export type StoredSettings = Readonly<Record<string, string>>

export type HistoryEvent =
  | { readonly type: 'created'; readonly name: string; readonly settings: StoredSettings; readonly timestamp: string }
  | { readonly type: 'reconfigured'; readonly settings: StoredSettings; readonly timestamp: string }
  | { readonly type: 'renamed'; readonly name: string; readonly timestamp: string }
  /**
   * `activation` numbers the runs, so late news from an old run is recognised as stale. `start` is where the run
   * begins when it was given (start/{position}, reset): whichever instance owns the connector applies it once.
   */
  | { readonly type: 'activating'; readonly activation: number; readonly start?: RequestedStart; readonly timestamp: string }
  | { readonly type: 'running'; readonly activation: number; readonly timestamp: string }
  | { readonly type: 'deactivating'; readonly timestamp: string }
  | { readonly type: 'stopped'; readonly activation: number; readonly timestamp: string }
  | { readonly type: 'failed'; readonly activation: number; readonly errorDetails: ErrorDetails; readonly timestamp: string }
  | { readonly type: 'deleted'; readonly timestamp: string }

/** An explicit start as stored in the history: from the beginning, or after a commit position (uint64 as text). */
export type RequestedStart = { readonly fromStart: true } | { readonly afterPosition: string }

export const historyEventTypes = ['created', 'reconfigured', 'renamed', 'activating', 'running', 'deactivating', 'stopped', 'failed', 'deleted'] as const

/** Events the runtime records about itself; every other one is a user's command. */
export function isRuntimeEvent(event: HistoryEvent): boolean {
  return event.type === 'running' || event.type === 'stopped' || event.type === 'failed'
}

export function storedEventType(event: HistoryEvent['type']): string {
  return `${connectorEventTypePrefix}connector-${event}`
}

export function historyEventTypeOf(storedType: string): HistoryEvent['type'] | undefined {
  const prefix = `${connectorEventTypePrefix}connector-`
  if (!storedType.startsWith(prefix)) return undefined
  const type = storedType.slice(prefix.length)
  return (historyEventTypes as readonly string[]).includes(type) ? (type as HistoryEvent['type']) : undefined
}

export interface ConnectorRecord {
  readonly connectorId: string
  readonly name: string
  readonly state: ConnectorStateName
  readonly stateUpdateTime: string
  readonly settings: StoredSettings
  readonly settingsUpdateTime: string
  readonly createTime: string
  readonly updateTime: string
  readonly deleteTime: string | undefined
  readonly errorDetails: ErrorDetails | undefined
  /** The number of the current (or last) run; 0 before the first start. */
  readonly activation: number
  /** The explicit start of the current activation, if it was given one. */
  readonly requestedStart: RequestedStart | undefined
  /** Revision of the last event folded in: the expected revision of the next append. */
  readonly revision: bigint
}

/**
 * Folds one event into the record. `revision` is the event's revision in the stream. Deleted connectors keep their
 * record (GET settings still answers, as in KurrentDB) until a create starts a new life.
 */
export function applyHistoryEvent(record: ConnectorRecord | undefined, connectorId: string, event: HistoryEvent, revision: bigint): ConnectorRecord | undefined {
  if (event.type === 'created') {
    return {
      connectorId,
      name: event.name,
      state: 'CONNECTOR_STATE_STOPPED',
      stateUpdateTime: event.timestamp,
      settings: event.settings,
      settingsUpdateTime: event.timestamp,
      createTime: event.timestamp,
      updateTime: event.timestamp,
      deleteTime: undefined,
      errorDetails: undefined,
      activation: record?.activation ?? 0,
      requestedStart: undefined,
      revision,
    }
  }
  if (record === undefined) return undefined
  const touched = { ...record, revision, updateTime: event.timestamp }
  switch (event.type) {
    case 'reconfigured':
      return { ...touched, settings: event.settings, settingsUpdateTime: event.timestamp }
    case 'renamed':
      return { ...touched, name: event.name }
    case 'activating':
      return { ...touched, state: 'CONNECTOR_STATE_ACTIVATING', stateUpdateTime: event.timestamp, activation: event.activation, requestedStart: event.start, errorDetails: undefined }
    case 'running':
      return { ...touched, state: 'CONNECTOR_STATE_RUNNING', stateUpdateTime: event.timestamp, errorDetails: undefined }
    case 'deactivating':
      return { ...touched, state: 'CONNECTOR_STATE_DEACTIVATING', stateUpdateTime: event.timestamp }
    case 'stopped':
      return { ...touched, state: 'CONNECTOR_STATE_STOPPED', stateUpdateTime: event.timestamp, errorDetails: undefined }
    case 'failed':
      return { ...touched, state: 'CONNECTOR_STATE_STOPPED', stateUpdateTime: event.timestamp, errorDetails: event.errorDetails }
    case 'deleted':
      return { ...touched, deleteTime: event.timestamp }
  }
}

/**
 * Whether a runtime event still describes the current run. A run that was stopped (or replaced by a newer start)
 * may report late; recording that would, say, show RUNNING for a connector the user just stopped.
 */
export function isCurrentRuntimeEvent(record: ConnectorRecord, event: HistoryEvent): boolean {
  if (!isRuntimeEvent(event) || !('activation' in event) || event.activation !== record.activation || record.deleteTime !== undefined) return false
  if (event.type === 'running') return record.state === 'CONNECTOR_STATE_ACTIVATING'
  return record.state !== 'CONNECTOR_STATE_STOPPED'
}
