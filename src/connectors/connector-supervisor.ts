/**
 * Runs connectors: one pipeline per active connector, each isolated (a failure stops only its own connector).
 * It turns a stored connector into a running pipeline (decrypt and validate its settings, find its start point)
 * and reports what happens to the run through callbacks; recording those facts is the service's job.
 */
import { Subject } from 'rxjs'
import { silentLogger, type Logger } from '../observability/logger.ts'
import type { SinkMetrics } from '../observability/metrics.ts'
import { parseSinkSettings } from '../settings/parse-sink-settings.ts'
import type { KafkaSinkSettings } from '../settings/kafka-sink-settings.ts'
import { runConnector, type PipelineTuning, type Stall } from '../pipeline/run-connector.ts'
import type { ResumePoint } from '../pipeline/work-item.ts'
import type { KafkaPort, KafkaProducerConfig } from '../sink/kafka/port.ts'
import type { KurrentDbConnection } from '../source/kurrentdb-connection.ts'
import { planRead } from '../source/read-plan.ts'
import type { ErrorDetails, StoredSettings } from './connector-history.ts'
import type { ConnectorStore, StoredCheckpoint } from './connector-store.ts'
import { describeFailure } from './failure-details.ts'
import { openSealedSettings, type SecretBox } from './secret-box.ts'
import { resolveLatestCheckpoint, resolveStart } from './start-point.ts'
import { isEndOfLog } from '../source/positions.ts'
import { unsupportedServerVersion } from '../source/server-version.ts'

export interface RunReport {
  onRunning(): void
  onCommitted(resume: ResumePoint): void
  /** The run has work and no confirmed progress for the stall time (`stall`), or progresses again (undefined). */
  onStalled(stall: Stall | undefined): void
  /** The run ended; `failure` is set when it ended by itself with an error, `requested` when it was asked to stop. */
  onEnded(outcome: { readonly failure: ErrorDetails | undefined; readonly requested: boolean }): void
}

export interface ActivationRequest {
  readonly connectorId: string
  readonly settings: StoredSettings
  /** Written as the checkpoint before the run starts (explicit start position, or reset). */
  readonly explicitStart: StoredCheckpoint | undefined
  readonly report: RunReport
}

export interface ConnectorSupervisor {
  activate(request: ActivationRequest): void
  /** Asks the run to stop gracefully; resolves when it has ended. */
  deactivate(connectorId: string): Promise<void>
  isActive(connectorId: string): boolean
  /** Stops every run for a process shutdown: flushed and committed, but recorded as still running. */
  shutdown(): Promise<void>
}

export interface SupervisorDependencies {
  readonly connection: KurrentDbConnection
  readonly store: ConnectorStore
  readonly secretBox: SecretBox | undefined
  readonly openKafka: (config: KafkaProducerConfig, logger: Logger) => KafkaPort
  readonly logger: Logger
  readonly metrics: SinkMetrics
  readonly tuning?: Partial<PipelineTuning>
}

interface ActiveRun {
  readonly stop$: Subject<void>
  readonly ended: Promise<void>
  stopRequested: boolean
  shuttingDown: boolean
}

export function createConnectorSupervisor(dependencies: SupervisorDependencies): ConnectorSupervisor {
  const runs = new Map<string, ActiveRun>()
  const { logger, metrics } = dependencies
  let shuttingDown = false

  // Asked once per process; a failed answer is asked again by the next activation.
  let serverVersionCheck: Promise<void> | undefined
  const checkServerVersion = (): Promise<void> =>
    (serverVersionCheck ??= dependencies.connection.readServerVersion().then(
      (version) => {
        const refusal = unsupportedServerVersion(version)
        if (refusal !== undefined) throw new UnsupportedServerError(refusal)
      },
      (error: unknown) => {
        serverVersionCheck = undefined
        throw error
      },
    ))

  const prepare = async (request: ActivationRequest): Promise<{ settings: KafkaSinkSettings; start: Awaited<ReturnType<typeof resolveStart>> }> => {
    // Validated again: settings stored by an older version may not satisfy today's rules.
    await checkServerVersion()
    const parsed = parseSinkSettings(await openSealedSettings(request.settings, dependencies.secretBox))
    if (!parsed.ok) throw new InvalidStoredSettingsError(parsed.violations.map((violation) => `${violation.field}: ${violation.description}`).join('; '))
    const target = planRead(parsed.settings.subscription.filter).target
    let explicitStart = request.explicitStart
    // A start at (2^64−1, 2^64−1) means "from the end": resolved now, so what is stored is a real position.
    if (explicitStart?.kind === 'after' && explicitStart.position !== undefined && isEndOfLog(explicitStart.position)) {
      explicitStart = await resolveLatestCheckpoint(dependencies.connection, target)
    }
    if (explicitStart !== undefined) await dependencies.store.writeCheckpoint(request.connectorId, explicitStart)
    let checkpoint = await dependencies.store.readCheckpoint(request.connectorId)
    const { initialPosition } = parsed.settings.subscription
    if (checkpoint === undefined && initialPosition === 'latest') {
      // Durable before RUNNING: a stop or a crash before the first event must resume from this end, not a later one.
      checkpoint = await resolveLatestCheckpoint(dependencies.connection, target)
      await dependencies.store.writeCheckpoint(request.connectorId, checkpoint)
    }
    return { settings: parsed.settings, start: await resolveStart(dependencies.connection, checkpoint, initialPosition, target) }
  }

  const updateActiveGauge = () => metrics.setActiveConnectors(runs.size)

  return {
    activate: (request) => {
      const { connectorId, report } = request
      const previous = runs.get(connectorId)
      const stop$ = new Subject<void>()
      let resolveEnded!: () => void
      // Activated after the shutdown began (a command or the connectors file racing it): stopped as it starts, and
      // recorded as still running, like the others.
      const run: ActiveRun = { stop$, ended: new Promise<void>((resolve) => (resolveEnded = resolve)), stopRequested: shuttingDown, shuttingDown }
      runs.set(connectorId, run)
      updateActiveGauge()
      const connectorLogger = logger.child({ connectorId })
      // The connector's own lines (starts, stops, retries, reconnects); `logging:enabled=false` silences them once
      // its settings are read. A failure is logged either way: it is also recorded in the connector's state.
      let runLogger = connectorLogger

      const end = (failure: ErrorDetails | undefined) => {
        if (runs.get(connectorId) === run) runs.delete(connectorId)
        updateActiveGauge()
        if (failure !== undefined) connectorLogger.error('connector failed', { code: failure.code, reason: failure.message })
        else runLogger.info('connector stopped')
        if (!run.shuttingDown) report.onEnded({ failure, requested: run.stopRequested })
        resolveEnded()
      }

      void (async () => {
        // A new run waits for the previous one of the same connector to flush and commit: never two at once.
        await previous?.ended
        if (run.stopRequested) return end(undefined)
        let prepared
        try {
          prepared = await prepare(request)
        } catch (error) {
          return end(describeFailure(error))
        }
        if (run.stopRequested) return end(undefined)
        if (!prepared.settings.logging.enabled) runLogger = silentLogger
        runLogger.info('connector starting', { start: prepared.start, topic: prepared.settings.topic })
        runConnector(
          {
            connection: dependencies.connection,
            openKafka: dependencies.openKafka,
            commitCheckpoint: (resume) => dependencies.store.writeCheckpoint(connectorId, { kind: 'after', position: resume.position, revision: resume.revision }),
            logger: runLogger,
            metrics: metrics.forConnector(connectorId),
          },
          { connectorId, settings: prepared.settings, start: prepared.start, stop$, ...(dependencies.tuning ? { tuning: dependencies.tuning } : {}) },
        ).subscribe({
          next: (signal) => {
            if (signal.kind === 'running') {
              runLogger.info('connector running')
              report.onRunning()
            } else if (signal.kind === 'committed') report.onCommitted(signal.resume)
            else if (signal.kind === 'stalled') {
              if (signal.stall !== undefined) runLogger.warn('connector stalled: events to deliver and no confirmed progress', { since: signal.stall.since.toISOString(), lastError: signal.stall.lastError })
              else runLogger.info('connector progressing again')
              report.onStalled(signal.stall)
            }
            else if (signal.kind === 'caughtUp') runLogger.info('connector caught up; now live')
          },
          error: (error: unknown) => end(describeFailure(error)),
          complete: () => end(undefined),
        })
      })()
    },
    deactivate: async (connectorId) => {
      const run = runs.get(connectorId)
      if (run === undefined) return
      run.stopRequested = true
      run.stop$.next()
      await run.ended
    },
    isActive: (connectorId) => runs.has(connectorId),
    shutdown: async () => {
      shuttingDown = true
      // Until none is left: a run activated while the first ones were stopping gets its final commit too.
      while (runs.size > 0) {
        const ending = [...runs.values()].map((run) => {
          run.shuttingDown = true
          run.stopRequested = true
          run.stop$.next()
          return run.ended
        })
        await Promise.all(ending)
      }
    },
  }
}

export class InvalidStoredSettingsError extends Error {
  override readonly name = 'InvalidSettings'
}

export class UnsupportedServerError extends Error {
  override readonly name = 'UnsupportedServerVersion'
}
