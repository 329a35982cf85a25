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
import { gateKafkaPort, openFencedCheckpoints, type FencedCheckpoints } from './lease-gate.ts'
import { OwnershipLostError, type LeaseHandle } from './ownership-coordinator.ts'
import { openSealedSettings, type SecretBox } from './secret-box.ts'
import { resolveLatestCheckpoint, resolveStart } from './start-point.ts'
import { isEndOfLog } from '../source/positions.ts'
import { unsupportedServerVersion } from '../source/server-version.ts'

export interface RunReport {
  onRunning(): void
  onCommitted(resume: ResumePoint): void
  /** The run has work and no confirmed progress for the stall time (`stall`), or progresses again (undefined). */
  onStalled(stall: Stall | undefined): void
  /**
   * The run ended; `failure` is set when it ended by itself with an error, `requested` when it was asked to stop.
   * Not called when the run ended because the process shuts down, the connector was handed over, or its lease went
   * to another instance: then the state is not this run's to record.
   */
  onEnded(outcome: { readonly failure: ErrorDetails | undefined; readonly requested: boolean }): void
}

export interface ActivationRequest {
  readonly connectorId: string
  readonly settings: StoredSettings
  /** The run's number: an explicit start applies once per activation. */
  readonly activation: number
  /** Where this activation starts when it is its first run (explicit start position, or reset). */
  readonly explicitStart: StoredCheckpoint | undefined
  /** The connector's lease, held by this instance: sends and checkpoints wait for it, and losing it ends the run. */
  readonly lease: LeaseHandle
  readonly report: RunReport
}

export interface ConnectorSupervisor {
  activate(request: ActivationRequest): void
  /** Asks the run to stop gracefully; resolves when it has ended. */
  deactivate(connectorId: string): Promise<void>
  /** Stops the run gracefully (flushed, committed) for another instance to take over; nothing is recorded. */
  handOver(connectorId: string): Promise<void>
  isActive(connectorId: string): boolean
  /** The activation of the run this process has of the connector (starting, running or ending), if any. */
  activeActivation(connectorId: string): number | undefined
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
  readonly activation: number
  readonly stop$: Subject<void>
  readonly ended: Promise<void>
  stopRequested: boolean
  /** Shutdown, handover or a lost lease: the run ends without recording a state. */
  silent: boolean
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

  const prepare = async (
    request: ActivationRequest,
  ): Promise<{ settings: KafkaSinkSettings; start: Awaited<ReturnType<typeof resolveStart>>; checkpoints: FencedCheckpoints }> => {
    // Validated again: settings stored by an older version may not satisfy today's rules.
    await checkServerVersion()
    const parsed = parseSinkSettings(await openSealedSettings(request.settings, dependencies.secretBox))
    if (!parsed.ok) throw new InvalidStoredSettingsError(parsed.violations.map((violation) => `${violation.field}: ${violation.description}`).join('; '))
    const target = planRead(parsed.settings.subscription.filter).target
    const { initialPosition } = parsed.settings.subscription
    const checkpoints = await openFencedCheckpoints(dependencies.store, request.connectorId, request.lease, async (last) => {
      // An explicit start (start/{position}, reset) applies once per activation: a later owner of the same activation
      // resumes from the checkpoints written since, instead of starting over.
      let start = request.explicitStart !== undefined && (last.activation ?? 0) < request.activation ? request.explicitStart : last.checkpoint
      // A start at (2^64−1, 2^64−1) means "from the end": resolved now, so what is stored is a real position.
      if (start?.kind === 'after' && start.position !== undefined && isEndOfLog(start.position)) start = await resolveLatestCheckpoint(dependencies.connection, target)
      // Durable before RUNNING (the fence writes it): a stop or a crash before the first event must resume from this
      // end, not a later one.
      if (start === undefined && initialPosition === 'latest') start = await resolveLatestCheckpoint(dependencies.connection, target)
      return start
    }, request.activation)
    const start = await resolveStart(dependencies.connection, checkpoints.startFrom, initialPosition, target)
    return { settings: parsed.settings, start, checkpoints }
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
      const run: ActiveRun = {
        activation: request.activation,
        stop$,
        ended: new Promise<void>((resolve) => (resolveEnded = resolve)),
        stopRequested: shuttingDown,
        silent: shuttingDown,
      }
      runs.set(connectorId, run)
      updateActiveGauge()
      const connectorLogger = logger.child({ connectorId })
      // The connector's own lines (starts, stops, retries, reconnects); `logging:enabled=false` silences them once
      // its settings are read. A failure is logged either way: it is also recorded in the connector's state.
      let runLogger = connectorLogger

      const end = (error: unknown) => {
        if (runs.get(connectorId) === run) runs.delete(connectorId)
        updateActiveGauge()
        const lost = error instanceof OwnershipLostError
        const failure = error === undefined || lost ? undefined : describeFailure(error)
        if (failure !== undefined) connectorLogger.error('connector failed', { code: failure.code, reason: failure.message })
        else if (lost) connectorLogger.warn('connector run stopped: another instance owns it now', { reason: (error as Error).message })
        else runLogger.info('connector stopped')
        // A stall belongs to this run: whoever runs the connector next reports its own.
        report.onStalled(undefined)
        if (!run.silent && !lost) report.onEnded({ failure, requested: run.stopRequested })
        resolveEnded()
      }
      // Another instance holds the lease now: stop reading and sending here; the checkpoint fence refuses our commits.
      void request.lease.lost.then(() => {
        run.silent = true
        run.stopRequested = true
        run.stop$.next()
      })

      void (async () => {
        // A new run waits for the previous one of the same connector to flush and commit: never two at once.
        await previous?.ended
        if (run.stopRequested) return end(undefined)
        let prepared
        try {
          prepared = await prepare(request)
        } catch (error) {
          return end(error)
        }
        if (run.stopRequested) return end(undefined)
        if (!prepared.settings.logging.enabled) runLogger = silentLogger
        runLogger.info('connector starting', { start: prepared.start, topic: prepared.settings.topic })
        runConnector(
          {
            connection: dependencies.connection,
            openKafka: (config, kafkaLogger) => gateKafkaPort(dependencies.openKafka(config, kafkaLogger), request.lease),
            commitCheckpoint: (resume) => prepared.checkpoints.write({ kind: 'after', position: resume.position, revision: resume.revision }),
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
          error: (error: unknown) => end(error),
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
    handOver: async (connectorId) => {
      const run = runs.get(connectorId)
      if (run === undefined) return
      run.silent = true
      run.stopRequested = true
      run.stop$.next()
      await run.ended
    },
    isActive: (connectorId) => runs.has(connectorId),
    activeActivation: (connectorId) => runs.get(connectorId)?.activation,
    shutdown: async () => {
      shuttingDown = true
      // Until none is left: a run activated while the first ones were stopping gets its final commit too.
      while (runs.size > 0) {
        const ending = [...runs.values()].map((run) => {
          run.silent = true
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
