/**
 * The connectors service: loads every connector from KurrentDB, resumes those that were running, and serves the
 * commands and queries of connector-service.ts. Commands validate, check the connector's state, append one event to
 * its history stream with the expected revision, and start or stop the runtime.
 */
import { createHmac } from 'node:crypto'
import type { Logger } from '../observability/logger.ts'
import type { SinkMetrics } from '../observability/metrics.ts'
import type { PipelineTuning, Stall } from '../pipeline/run-connector.ts'
import { nestSettings } from '../settings/flatten-configuration.ts'
import { parseSinkSettings } from '../settings/parse-sink-settings.ts'
import { isSecretSettingKey, redactedValue, redactSettings } from '../settings/secrets.ts'
import { readRawSetting } from '../settings/settings-lookup.ts'
import { createKafkaPort } from '../sink/kafka/create-kafka-port.ts'
import type { KafkaPort, KafkaProducerConfig } from '../sink/kafka/port.ts'
import type { KurrentDbConnection } from '../source/kurrentdb-connection.ts'
import { accessRefusedMessage, isAccessRefused } from '../source/kurrentdb-access.ts'
import { endOfLogCommitPosition } from '../source/positions.ts'
import type { FieldViolation } from '../settings/parse-sink-settings.ts'
import { ConnectorError, connectorNotFound, invalidArgument } from './connector-errors.ts'
import {
  applyHistoryEvent,
  checkpointStreamName,
  connectorStreamPrefix,
  historyEventTypeOf,
  isCurrentRuntimeEvent,
  isRuntimeEvent,
  type ConnectorRecord,
  type HistoryEvent,
  type RequestedStart,
  type StoredSettings,
} from './connector-history.ts'
import { connectorIdViolations, connectorNameViolations } from './connector-identity.ts'
import { ConcurrentChangeError, createConnectorStore, type StoredCheckpoint } from './connector-store.ts'
import { createConnectorSupervisor, type RunReport } from './connector-supervisor.ts'
import { createOwnershipCoordinator, type OwnershipOptions } from './ownership-coordinator.ts'
import { connectorIdOfLeaseStream, createOwnershipStore, decodeHeartbeat, decodeLeaseClaim, memberStreamName, parseEventData } from './ownership-store.ts'
import { parseUint64 } from '../source/positions.ts'
import type { SourceEvent } from '../source/read-response-decoder.ts'
import { createSecretBox, isSealed, openSealedSettings } from './secret-box.ts'
import type { ConnectorDeclaration, ConnectorService, ConnectorStateName, ConnectorView, DeclarationOutcome, ListQuery, RawSettings, RunningConnectorService } from './connector-service.ts'

export interface ConnectorServiceDependencies {
  readonly connection: KurrentDbConnection
  readonly dataProtectionToken: string | undefined
  readonly logger: Logger
  readonly metrics: SinkMetrics
  readonly openKafka?: (config: KafkaProducerConfig, logger: Logger) => KafkaPort
  readonly tuning?: Partial<PipelineTuning>
  /** Which instance this is and how long its leases last (see ownership.ts). */
  readonly ownership: OwnershipOptions
}

const maxConflictRetries = 5
/** gRPC status INVALID_ARGUMENT (3): what KurrentDB answers a read from a position inside a record. */
const grpcInvalidArgument = 3
const supportedStatesForStart = new Set<ConnectorStateName>(['CONNECTOR_STATE_STOPPED', 'CONNECTOR_STATE_DEACTIVATING'])
const stateLabels: Record<ConnectorStateName, string> = {
  CONNECTOR_STATE_ACTIVATING: 'Activating',
  CONNECTOR_STATE_RUNNING: 'Running',
  CONNECTOR_STATE_DEACTIVATING: 'Deactivating',
  CONNECTOR_STATE_STOPPED: 'Stopped',
}

/**
 * Loads every connector from KurrentDB, resumes those that were running, and serves commands. Commands use
 * optimistic concurrency on the connector's stream: of two concurrent commands one wins and the other gets ABORTED,
 * but an event the runtime recorded in between (running, stopped) does not count as a conflict.
 */
export async function createConnectorService(dependencies: ConnectorServiceDependencies): Promise<RunningConnectorService> {
  const { logger, metrics } = dependencies
  const store = createConnectorStore(dependencies.connection)
  const secretBox = dependencies.dataProtectionToken === undefined ? undefined : await createSecretBox(dependencies.dataProtectionToken)
  const supervisor = createConnectorSupervisor({
    connection: dependencies.connection,
    store,
    secretBox,
    openKafka: dependencies.openKafka ?? createKafkaPort,
    logger,
    metrics,
    ...(dependencies.tuning ? { tuning: dependencies.tuning } : {}),
  })
  const ownershipStore = createOwnershipStore(dependencies.connection)
  const coordinator = createOwnershipCoordinator({ store: ownershipStore, options: dependencies.ownership, logger, metrics })
  // Where following starts: read before the connectors, so nothing written while they load is missed (what is read
  // twice is folded once: memory never goes back a revision).
  const followFrom = await dependencies.connection.readHeadPosition()
  const records = await store.loadAll()
  const stalls = new Map<string, Stall>()
  /** Connectors with a runtime fact still being written (KurrentDB unreachable): readiness names them. */
  const unrecorded = new Map<string, number>()
  let shuttingDown = false
  const positions = new Map<string, bigint | undefined>()
  await Promise.all([...records.keys()].map(async (connectorId) => positions.set(connectorId, commitPositionOf(await store.readCheckpoint(connectorId)))))
  await coordinator.start()

  const now = () => new Date().toISOString()

  /**
   * What makes a settings command the same command when it is retried: the request as sent, secrets included but
   * only as an HMAC under the data-protection token (the stored, sealed form differs on every sealing).
   */
  const requestKey = (type: string, name: string | undefined, raw: RawSettings): string =>
    createHmac('sha256', dependencies.dataProtectionToken ?? 'kafka-sink').update(JSON.stringify({ type, name, settings: raw })).digest('hex')

  /** Folds events newer than what memory holds; appends can complete out of order, so memory never goes back. */
  const remember = (connectorId: string, events: ReadonlyArray<{ event: HistoryEvent; revision: bigint }>): ConnectorRecord | undefined => {
    let record = records.get(connectorId)
    for (const { event, revision } of events) {
      if (record !== undefined && revision <= record.revision) continue
      record = applyHistoryEvent(record, connectorId, event, revision)
    }
    if (record !== undefined) records.set(connectorId, record)
    return record
  }

  const existing = (connectorId: string): ConnectorRecord => {
    const violations = connectorIdViolations(connectorId)
    if (violations.length > 0) throw invalidArgument(violations)
    const record = records.get(connectorId)
    if (record === undefined) throw connectorNotFound(connectorId)
    if (record.deleteTime !== undefined) throw new ConnectorError('NOT_FOUND', `Connector ${connectorId} deleted at ${record.deleteTime}`, { connectorId })
    return record
  }

  /**
   * Decides and appends one command's event against the connector's current revision. On a conflict it reads what
   * was appended meanwhile: runtime facts only → decide again on the fresh state; another command → ABORTED.
   */
  const execute = async (connectorId: string, decide: (record: ConnectorRecord) => HistoryEvent | undefined, idempotencyKey?: string): Promise<HistoryEvent | undefined> => {
    let record = existing(connectorId)
    for (let attempt = 0; ; attempt++) {
      const event = decide(record)
      if (event === undefined) return undefined
      try {
        const revision = await store.append(connectorId, event, record.revision, idempotencyKey)
        remember(connectorId, [{ event, revision }])
        return event
      } catch (error) {
        if (!(error instanceof ConcurrentChangeError)) throw unavailable(error)
        // An outage while reading what won is an outage (503), not an internal error.
        const newer = await store.readHistory(connectorId, record.revision).catch((readError: unknown) => {
          throw unavailable(readError)
        })
        const refreshed = remember(connectorId, newer)
        if (attempt >= maxConflictRetries || newer.some(({ event: other }) => !isRuntimeEvent(other)) || refreshed === undefined) {
          throw new ConnectorError('ABORTED', `Connector ${connectorId} was changed by another request at the same time; read it again and retry`, { connectorId })
        }
        record = existing(connectorId)
      }
    }
  }

  /**
   * Appends a runtime fact unless it is stale (an older run reporting late); retries conflicts and outages until it
   * is written. Never gives up: a dropped `failed` or `stopped` would leave the connector showing RUNNING with no
   * errorDetails. Meanwhile readiness names the connector. Only a process shutdown ends the attempts (a restart
   * loads the state as last written and resumes the run).
   */
  const recordRuntime = async (connectorId: string, makeEvent: () => HistoryEvent): Promise<void> => {
    // Counted only once an attempt failed: a fact being written normally must not flicker readiness.
    let failing = false
    try {
      for (let attempt = 1; !shuttingDown; attempt++) {
        const record = records.get(connectorId)
        const event = makeEvent()
        if (record === undefined || !isCurrentRuntimeEvent(record, event)) return
        try {
          const revision = await store.append(connectorId, event, record.revision)
          remember(connectorId, [{ event, revision }])
          return
        } catch (error) {
          if (error instanceof ConcurrentChangeError) remember(connectorId, await store.readHistory(connectorId, record.revision).catch(() => []))
          else {
            if (!failing) unrecorded.set(connectorId, (unrecorded.get(connectorId) ?? 0) + 1)
            failing = true
            logger.warn('recording the connector state failed; retrying until it is written', { connectorId, event: event.type, attempt, error })
            await Bun.sleep(Math.min(5_000, 200 * 2 ** Math.min(attempt, 5)))
          }
        }
      }
    } finally {
      if (failing) {
        const pending = (unrecorded.get(connectorId) ?? 1) - 1
        if (pending > 0) unrecorded.set(connectorId, pending)
        else unrecorded.delete(connectorId)
      }
    }
  }

  const reportFor = (connectorId: string, activation: number): RunReport => ({
    onRunning: () => void recordRuntime(connectorId, () => ({ type: 'running', activation, timestamp: now() })),
    onCommitted: (resume) => positions.set(connectorId, resume.position?.commit),
    onStalled: (stall) => {
      if (stall === undefined) stalls.delete(connectorId)
      else stalls.set(connectorId, stall)
    },
    onEnded: ({ failure }) =>
      void recordRuntime(connectorId, () =>
        failure === undefined ? { type: 'stopped', activation, timestamp: now() } : { type: 'failed', activation, errorDetails: failure, timestamp: now() },
      ),
  })

  /**
   * Makes this instance do its part for one connector: claim it and run it, hand it over, stop it, or record that it
   * stopped, as ownership.ts decides from its state, its lease and the live instances. One at a time per connector;
   * a request that comes while one is under way runs again after it.
   */
  let closed = false
  const reconciling = new Map<string, Promise<void>>()
  const reconcileAgain = new Set<string>()
  const reconcile = (connectorId: string): Promise<void> => {
    const current = reconciling.get(connectorId)
    if (current !== undefined) {
      reconcileAgain.add(connectorId)
      return current
    }
    const work = reconcileOnce(connectorId)
      .catch((error: unknown) => logger.warn('deciding where a connector runs failed; trying again shortly', { connectorId, error }))
      .finally(() => {
        reconciling.delete(connectorId)
        if (reconcileAgain.delete(connectorId)) void reconcile(connectorId)
      })
    reconciling.set(connectorId, work)
    return work
  }
  const reconcileAll = () => {
    for (const connectorId of records.keys()) void reconcile(connectorId)
  }

  const reconcileOnce = async (connectorId: string): Promise<void> => {
    const record = records.get(connectorId)
    if (record === undefined || closed) return
    const live = record.deleteTime === undefined
    const wantsToRun = live && (record.state === 'CONNECTOR_STATE_ACTIVATING' || record.state === 'CONNECTOR_STATE_RUNNING')
    const deactivating = live && record.state === 'CONNECTOR_STATE_DEACTIVATING'
    if (wantsToRun || deactivating) await coordinator.ensureObserved(connectorId)
    const activeActivation = supervisor.activeActivation(connectorId)
    // A run of an older activation is ending (stop, then start again): the new activation needs its own run.
    const runningHere = activeActivation !== undefined && !(wantsToRun && activeActivation < record.activation)
    const action = coordinator.decide({ connectorId, wantsToRun, deactivating, runningHere })
    switch (action.kind) {
      case 'acquire': {
        const lease = await coordinator.acquire(connectorId)
        if (lease === undefined || closed) return
        const fresh = records.get(connectorId)!
        if (fresh.activation !== record.activation || supervisor.activeActivation(connectorId) === fresh.activation) return void reconcile(connectorId)
        const explicitStart = toStoredCheckpoint(fresh.requestedStart)
        if (explicitStart !== undefined) positions.set(connectorId, commitPositionOf(explicitStart))
        logger.info('running connector on this instance', { connectorId, instanceId: coordinator.instanceId, term: lease.term })
        supervisor.activate({ connectorId, settings: fresh.settings, activation: fresh.activation, explicitStart, lease, report: reportFor(connectorId, fresh.activation) })
        return
      }
      case 'handOver':
        logger.info('handing connector over to another instance', { connectorId, to: action.to })
        await supervisor.handOver(connectorId)
        await coordinator.release(connectorId)
        return
      case 'relinquish':
        await supervisor.deactivate(connectorId)
        await coordinator.release(connectorId)
        return
      case 'recordStopped':
        await recordRuntime(connectorId, () => ({ type: 'stopped', activation: record.activation, timestamp: now() }))
        return
      case 'release':
        await coordinator.release(connectorId)
        return
      case 'none':
        return
    }
  }

  /** What another instance (or this one) wrote to the sink's streams: connector histories, checkpoints, leases, members. */
  const applyFollowedEvent = (event: SourceEvent) => {
    if (event.streamId === memberStreamName) {
      const heartbeat = decodeHeartbeat(parseEventData(event))
      if (heartbeat !== undefined) {
        coordinator.observeHeartbeat(heartbeat)
        reconcileAll()
      }
      return
    }
    const leaseOf = connectorIdOfLeaseStream(event.streamId)
    if (leaseOf !== undefined) {
      coordinator.observeLease(leaseOf, decodeLeaseClaim(parseEventData(event)), event.revision)
      void reconcile(leaseOf)
      return
    }
    if (!event.streamId.startsWith(connectorStreamPrefix)) return
    const connectorId = event.streamId.slice(connectorStreamPrefix.length)
    if (connectorId.endsWith('/checkpoints')) {
      const id = connectorId.slice(0, -'/checkpoints'.length)
      const commit = (parseEventData(event) as { commitPosition?: unknown } | undefined)?.commitPosition
      if (event.streamId === checkpointStreamName(id) && typeof commit === 'string' && !supervisor.isActive(id)) positions.set(id, parseUint64(commit))
      return
    }
    const type = historyEventTypeOf(event.type)
    if (type === undefined || connectorId.includes('/') || connectorId.includes('$')) return
    const data = parseEventData(event)
    if (data === null || typeof data !== 'object') return
    const before = records.get(connectorId)
    remember(connectorId, [{ event: { ...(data as object), type } as HistoryEvent, revision: event.revision }])
    if (before === undefined && type === 'created') positions.set(connectorId, undefined)
    void reconcile(connectorId)
  }

  /**
   * Raw settings → what is stored: values as strings, secrets encrypted, `***` for a secret keeping the stored
   * value. Everything is validated as one complete configuration before anything is written.
   */
  const prepareSettings = async (raw: RawSettings, previous: StoredSettings | undefined): Promise<StoredSettings> => {
    const violations: FieldViolation[] = []
    const stored: Record<string, string> = {}
    const forValidation: Record<string, string> = {}
    for (const [key, value] of Object.entries(raw)) {
      let text: string
      if (typeof value === 'string') text = value
      else if (typeof value === 'number' || typeof value === 'boolean') text = String(value)
      else if (value !== null && typeof value === 'object' && !Array.isArray(value) && key.toLowerCase() === 'defaultheaders') text = JSON.stringify(value)
      else {
        violations.push({ field: key, description: `'${key}' must be a string, a number or a boolean` })
        continue
      }
      stored[key] = text
      forValidation[key] = text
      if (!isSecretSettingKey(key) || text === '') continue
      if (text === redactedValue) {
        const kept = previous === undefined ? undefined : Object.entries(previous).find(([previousKey]) => previousKey.toLowerCase() === key.toLowerCase())?.[1]
        if (kept === undefined) violations.push({ field: key, description: `'${redactedValue}' stands for the stored secret, and there is none: send the real value` })
        else {
          stored[key] = kept
          forValidation[key] = 'kept-secret'
        }
      } else if (secretBox === undefined) {
        violations.push({
          field: key,
          description: `storing '${key}' needs a data-protection token to encrypt it: start kafka-sink with --data-protection-token-file FILE (or --data-protection-token / KAFKA_SINK_DATA_PROTECTION_TOKEN)`,
        })
      }
    }
    const parsed = parseSinkSettings(forValidation)
    if (!parsed.ok) violations.push(...parsed.violations)
    if (violations.length > 0) throw invalidArgument(violations)
    for (const [key, value] of Object.entries(stored)) {
      if (isSecretSettingKey(key) && value !== '' && !isSealed(value)) stored[key] = await secretBox!.seal(value, key)
    }
    return stored
  }

  const toView = (record: ConnectorRecord, query: Pick<ListQuery, 'includeSettings' | 'includeConfiguration'>): ConnectorView => {
    const position = positions.get(record.connectorId)
    const owner = record.deleteTime === undefined ? coordinator.holder(record.connectorId) : undefined
    const redacted = redactSettings(record.settings)
    return {
      connectorId: record.connectorId,
      instanceTypeName: instanceTypeNameOf(record),
      name: record.name,
      state: record.state,
      stateUpdateTime: record.stateUpdateTime,
      ...(query.includeConfiguration
        ? { configuration: nestSettings(redacted), configurationUpdateTime: record.settingsUpdateTime }
        : { ...(query.includeSettings ? { settings: redacted } : {}), settingsUpdateTime: record.settingsUpdateTime }),
      ...(position === undefined ? {} : { position: position.toString() }),
      createTime: record.createTime,
      updateTime: record.updateTime,
      ...(record.deleteTime === undefined ? {} : { deleteTime: record.deleteTime }),
      ...(record.errorDetails === undefined ? {} : { errorDetails: record.errorDetails }),
      ...stalledView(stalls.get(record.connectorId)),
      ...(owner === undefined ? {} : { ownerInstanceId: owner }),
    }
  }

  // Follow every instance's writes, and decide again periodically: leases expire by the clock, not by an event.
  let followedBefore = false
  const following = ownershipStore.follow(followFrom, logger.child({ component: 'follower' })).subscribe({
    next: (item) => {
      if (item.kind === 'subscribed') {
        if (followedBefore) coordinator.restartObservationClocks()
        followedBefore = true
      } else if (item.kind === 'event') applyFollowedEvent(item.event)
    },
    error: (error: unknown) => logger.error('following the connector streams stopped; other instances\' changes are not seen until a restart', { error }),
  })
  const reconcileTimer = setInterval(reconcileAll, Math.max(200, Math.min(1_000, Math.floor(dependencies.ownership.leaseDurationMs / 5))))
  // Resume what was running when the process stopped, where this instance should; finish what was stopping.
  reconcileAll()

  const startRun = async (connectorId: string, start: RequestedStart | undefined, allowed: (record: ConnectorRecord) => void) => {
    const event = await execute(connectorId, (record) => {
      allowed(record)
      return { type: 'activating', activation: record.activation + 1, ...(start === undefined ? {} : { start }), timestamp: now() }
    })
    if (event !== undefined) void reconcile(connectorId)
  }

  /**
   * Stored settings with secrets opened: what a declaration is compared with. A secret that cannot be opened leaves
   * the map as stored, so the comparison sees a difference and the declaration is applied again.
   */
  const plainSettings = (settings: StoredSettings): Promise<Record<string, string>> =>
    openSealedSettings(settings, secretBox).catch(() => ({ ...settings }))

  /**
   * KurrentDB refuses to read from a position inside a record (INVALID_ARGUMENT), and a run stored at one would fail
   * at once: the API call is refused instead. (2^64−1) means "the end" and is resolved when the run starts.
   */
  const requireEventBoundary = async (position: bigint): Promise<void> => {
    if (position === endOfLogCommitPosition) return
    try {
      await dependencies.connection.readEventAt({ commit: position, prepare: position })
    } catch (error) {
      if ((error as { code?: unknown }).code !== grpcInvalidArgument) throw unavailable(error)
      throw invalidArgument([
        {
          field: 'Position',
          description: `${position} is not the position of an event in KurrentDB's log (KurrentDB answered: ${(error as { details?: string }).details ?? (error as Error).message}); use the commit position of an event, e.g. a record's esdb-record-log-position header`,
        },
      ])
    }
  }

  const service: RunningConnectorService = {
    create: async (connectorId, request) => {
      // A missing or blank name means the id, as in KurrentDB; a name that is given must fit the rules.
      const violations = [...connectorIdViolations(connectorId), ...(request.name === undefined || request.name.trim() === '' ? [] : connectorNameViolations(request.name))]
      if (violations.length > 0) throw invalidArgument(violations)
      const previous = records.get(connectorId)
      if (previous !== undefined && previous.deleteTime === undefined) throw new ConnectorError('ALREADY_EXISTS', `Connector ${connectorId} already exists`, { connectorId })
      const settings = await prepareSettings(request.settings, undefined)
      const name = request.name === undefined || request.name.trim() === '' ? connectorId : request.name.trim()
      try {
        if (previous === undefined) await store.register(connectorId)
        // Removed again: the delete of the former incarnation may have failed to remove them (it said so then).
        else await store.deleteCheckpoints(connectorId)
        await store.prepareCheckpointStream(connectorId)
        const event: HistoryEvent = { type: 'created', name, settings, timestamp: now() }
        const revision = await store.append(connectorId, event, previous?.revision, requestKey('created', name, request.settings))
        remember(connectorId, [{ event, revision }])
        positions.set(connectorId, undefined)
      } catch (error) {
        if (error instanceof ConcurrentChangeError) throw new ConnectorError('ALREADY_EXISTS', `Connector ${connectorId} already exists`, { connectorId })
        throw unavailable(error)
      }
      logger.info('connector created', { connectorId, settings: redactSettings(settings) })
    },
    reconfigure: async (connectorId, raw) => {
      const settings = await prepareSettings(raw, existing(connectorId).settings)
      await execute(connectorId, () => ({ type: 'reconfigured', settings, timestamp: now() }), requestKey('reconfigured', undefined, raw))
      logger.info('connector reconfigured', { connectorId, settings: redactSettings(settings) })
    },
    rename: async (connectorId, name) => {
      const violations = connectorNameViolations(name)
      if (violations.length > 0) throw invalidArgument(violations)
      await execute(connectorId, (record) => (record.name === name.trim() ? undefined : { type: 'renamed', name: name.trim(), timestamp: now() }))
    },
    start: async (connectorId, position) => {
      existing(connectorId)
      if (position !== undefined) await requireEventBoundary(position)
      return startRun(connectorId, position === undefined ? undefined : { afterPosition: position.toString() }, (record) => {
        if (!supportedStatesForStart.has(record.state)) throw new ConnectorError('FAILED_PRECONDITION', `Connector ${connectorId} already running...`, { connectorId })
      })
    },
    reset: async (connectorId, position) => {
      existing(connectorId)
      if (position !== undefined) await requireEventBoundary(position)
      return startRun(connectorId, position === undefined ? { fromStart: true } : { afterPosition: position.toString() }, (record) => {
        if (record.state !== 'CONNECTOR_STATE_STOPPED') throw mustBeStopped(connectorId, record)
      })
    },
    stop: async (connectorId) => {
      const event = await execute(connectorId, (record) =>
        record.state === 'CONNECTOR_STATE_RUNNING' || record.state === 'CONNECTOR_STATE_ACTIVATING' ? { type: 'deactivating', timestamp: now() } : undefined,
      )
      // The instance that runs it stops it and records STOPPED; if none does, whoever sees it free records it.
      if (event !== undefined) void reconcile(connectorId)
    },
    delete: async (connectorId) => {
      await execute(connectorId, (record) => {
        if (record.state !== 'CONNECTOR_STATE_STOPPED') throw mustBeStopped(connectorId, record)
        return { type: 'deleted', timestamp: now() }
      })
      positions.delete(connectorId)
      metrics.forget(connectorId)
      try {
        await store.deleteCheckpoints(connectorId)
      } catch (error) {
        // The connector is deleted; its checkpoints are not. Said to the caller: creating the id again removes them
        // first, and until then they do no harm.
        logger.warn('deleting the checkpoints failed', { connectorId, error })
        throw new ConnectorError(
          'UNAVAILABLE',
          `Connector ${connectorId} was deleted, but removing its checkpoints failed because KurrentDB could not be reached; creating ${connectorId} again removes them first`,
          { connectorId, cause: error },
        )
      }
    },
    list: async (query) => {
      const matching = [...records.values()]
        .filter((record) => query.showDeleted || record.deleteTime === undefined)
        .filter((record) => query.states.length === 0 || query.states.includes(record.state))
        .filter((record) => query.instanceTypeNames.length === 0 || query.instanceTypeNames.includes(instanceTypeNameOf(record)))
        .filter((record) => query.connectorIds.length === 0 || query.connectorIds.includes(record.connectorId))
        .sort((left, right) => left.createTime.localeCompare(right.createTime) || left.connectorId.localeCompare(right.connectorId))
      const page = matching.slice((query.page - 1) * query.pageSize, query.page * query.pageSize)
      return { items: page.map((record) => toView(record, query)), totalSize: matching.length }
    },
    getSettings: async (connectorId) => {
      const record = existing(connectorId)
      return { settings: redactSettings(record.settings), settingsUpdateTime: record.settingsUpdateTime }
    },
    getConfiguration: async (connectorId) => {
      const record = existing(connectorId)
      return { configuration: nestSettings(redactSettings(record.settings)), configurationUpdateTime: record.settingsUpdateTime }
    },
    declare: async (connectorId, declaration) => {
      const record = records.get(connectorId)
      let outcome: DeclarationOutcome = 'unchanged'
      if (record === undefined || record.deleteTime !== undefined) {
        await service.create(connectorId, { name: declaration.name, settings: declaration.settings })
        outcome = 'created'
      } else {
        const declared = stringifySettings(declaration.settings)
        if (!sameSettings(declared, await plainSettings(record.settings))) {
          await service.reconfigure(connectorId, declaration.settings)
          outcome = 'updated'
        }
        if (declaration.name !== undefined && declaration.name.trim() !== record.name) {
          await service.rename(connectorId, declaration.name)
          outcome = 'updated'
        }
      }
      const state = existing(connectorId).state
      const running = state === 'CONNECTOR_STATE_RUNNING' || state === 'CONNECTOR_STATE_ACTIVATING'
      if (declaration.state === 'running' && !running) {
        await service.start(connectorId)
        if (outcome === 'unchanged') outcome = 'updated'
      } else if (declaration.state === 'stopped' && running) {
        await service.stop(connectorId)
        if (outcome === 'unchanged') outcome = 'updated'
      }
      return outcome
    },
    shutdown: async () => {
      closed = true
      clearInterval(reconcileTimer)
      following.unsubscribe()
      await supervisor.shutdown()
      shuttingDown = true
      // Decisions under way finish now (state writes give up, no run starts once closed); none is left holding a lease.
      await Promise.allSettled(reconciling.values())
      // Released after the final commits, so whoever takes over starts from them, at once rather than at expiry.
      await coordinator.releaseAll()
      await coordinator.leave()
    },
    health: () => ({ unrecordedStates: [...unrecorded.keys()], stalled: [...stalls.keys()] }),
  }
  return service
}

function stalledView(stall: Stall | undefined): Pick<ConnectorView, 'stalled'> {
  if (stall === undefined) return {}
  return { stalled: { since: stall.since.toISOString(), ...(stall.lastError === undefined ? {} : { lastError: stall.lastError }) } }
}

function stringifySettings(raw: RawSettings): Record<string, string> {
  const strings: Record<string, string> = {}
  for (const [key, value] of Object.entries(raw)) strings[key] = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value)
  return strings
}

function sameSettings(left: Readonly<Record<string, string>>, right: Readonly<Record<string, string>>): boolean {
  const leftKeys = Object.keys(left)
  return leftKeys.length === Object.keys(right).length && leftKeys.every((key) => right[key] === left[key])
}

function instanceTypeNameOf(record: ConnectorRecord): string {
  const value = readRawSetting(record.settings, 'instanceTypeName')
  return typeof value === 'string' ? value : ''
}

function toStoredCheckpoint(start: RequestedStart | undefined): StoredCheckpoint | undefined {
  if (start === undefined) return undefined
  if ('fromStart' in start) return { kind: 'fromStart' }
  const position = parseUint64(start.afterPosition)
  return position === undefined ? undefined : { kind: 'after', position: { commit: position, prepare: position }, revision: undefined }
}

function commitPositionOf(checkpoint: StoredCheckpoint | undefined): bigint | undefined {
  return checkpoint?.kind === 'after' ? checkpoint.position?.commit : undefined
}

function mustBeStopped(connectorId: string, record: ConnectorRecord): ConnectorError {
  return new ConnectorError('FAILED_PRECONDITION', `Connector ${connectorId} must be stopped. Current state: ${stateLabels[record.state]}`, { connectorId })
}

function unavailable(error: unknown): ConnectorError {
  if (error instanceof ConnectorError) return error
  if (isAccessRefused(error)) return new ConnectorError('UNAVAILABLE', accessRefusedMessage(error), { cause: error })
  return new ConnectorError('UNAVAILABLE', 'KurrentDB could not be reached; try again', { cause: error })
}
