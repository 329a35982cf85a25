/**
 * The connectors service's contract: every management command and query, independent of HTTP, and the shapes they
 * answer with. Kept apart from the implementation (create-connector-service.ts) so the HTTP layer can be loaded, and
 * listen, without loading the KurrentDB and Kafka clients, which take most of the start-up time.
 */


export type ConnectorStateName = 'CONNECTOR_STATE_ACTIVATING' | 'CONNECTOR_STATE_RUNNING' | 'CONNECTOR_STATE_DEACTIVATING' | 'CONNECTOR_STATE_STOPPED'

export const connectorStateNames: readonly ConnectorStateName[] = [
  'CONNECTOR_STATE_ACTIVATING',
  'CONNECTOR_STATE_RUNNING',
  'CONNECTOR_STATE_DEACTIVATING',
  'CONNECTOR_STATE_STOPPED',
]

/** One connector as `GET /connectors` shows it (proto3 JSON names; timestamps RFC 3339; uint64 as strings). */
export interface ConnectorView {
  readonly connectorId: string
  readonly instanceTypeName: string
  readonly name: string
  readonly state: ConnectorStateName
  readonly stateUpdateTime: string
  /** Only with `includeSettings`; secrets show as "***". */
  readonly settings?: Readonly<Record<string, string>>
  readonly settingsUpdateTime?: string
  /** Only with `includeConfiguration` (then `settings` and `settingsUpdateTime` are left out). */
  readonly configuration?: Readonly<Record<string, unknown>>
  readonly configurationUpdateTime?: string
  /** Commit position of the last checkpoint; absent before the first one. */
  readonly position?: string
  readonly createTime: string
  readonly updateTime: string
  readonly deleteTime?: string
  readonly errorDetails?: { readonly code: string; readonly message: string }
  /** Only while the connector has events to deliver and its confirmed position has not moved for the stall time. */
  readonly stalled?: { readonly since: string; readonly lastError?: string }
  /** The instance whose lease covers the connector now (an extra field: KurrentDB clients ignore it). */
  readonly ownerInstanceId?: string
}

export interface ListQuery {
  readonly states: readonly ConnectorStateName[]
  readonly instanceTypeNames: readonly string[]
  readonly connectorIds: readonly string[]
  readonly includeSettings: boolean
  readonly includeConfiguration: boolean
  readonly showDeleted: boolean
  /** 1-based */
  readonly page: number
  /** 1–100 */
  readonly pageSize: number
}

export interface ListResult {
  readonly items: readonly ConnectorView[]
  /** All connectors matching the filters, not just this page (KurrentDB reports the page's count). */
  readonly totalSize: number
}

/** Raw settings as the user sent them: a flat map of `a:b:c` keys; values may be strings, numbers or booleans. */
export type RawSettings = Readonly<Record<string, unknown>>

export interface ConnectorService {
  create(connectorId: string, request: { readonly name?: string | undefined; readonly settings: RawSettings }): Promise<void>
  /** Replaces every setting (nothing is merged); a secret sent as "***" keeps its stored value. */
  reconfigure(connectorId: string, settings: RawSettings): Promise<void>
  rename(connectorId: string, name: string): Promise<void>
  /** From the checkpoint (or `subscription:initialPosition`), or after `position` when given. */
  start(connectorId: string, position?: bigint): Promise<void>
  /** Only when stopped: starts again from the beginning, or after `position`. */
  reset(connectorId: string, position?: bigint): Promise<void>
  stop(connectorId: string): Promise<void>
  delete(connectorId: string): Promise<void>
  list(query: ListQuery): Promise<ListResult>
  getSettings(connectorId: string): Promise<{ readonly settings: Readonly<Record<string, string>>; readonly settingsUpdateTime: string }>
  getConfiguration(connectorId: string): Promise<{ readonly configuration: Readonly<Record<string, unknown>>; readonly configurationUpdateTime: string }>
}

/** A connector as a configuration file declares it. */
export interface ConnectorDeclaration {
  readonly name?: string | undefined
  readonly settings: RawSettings
  /** `running` (the default) starts it if needed; `stopped` stops it if needed. */
  readonly state: 'running' | 'stopped'
}

export type DeclarationOutcome = 'created' | 'updated' | 'unchanged'

export interface RunningConnectorService extends ConnectorService {
  /** Makes a connector match its declaration: create or reconfigure, rename, then start or stop; no-op when equal. */
  declare(connectorId: string, declaration: ConnectorDeclaration): Promise<DeclarationOutcome>
  /** Stops every run (flushed, committed) without recording them as stopped, so a restart resumes them. */
  shutdown(): Promise<void>
  /** What readiness reports: connectors whose state change is not yet written, and stalled connectors. */
  health(): { readonly unrecordedStates: readonly string[]; readonly stalled: readonly string[] }
}
