/**
 * The running connector: assembles source → filter/map → batch → deliver → track → commit into one Observable.
 *
 *   KurrentDB ─subscribe─▶ read batches (what one network read decoded)
 *     ├▶ lifecycleSignals (running, caught up)
 *     └▶ toWorkItems (numbered; filtered-out events stay as position-only markers) ▶ takeCredits (the in-flight
 *        window) ▶ batchWork (count, bytes, linger) ▶ deliverBatch (retry transient failures; 1 in flight with
 *        broker acks, several without) ▶ confirm: checkpoint tracker (contiguous confirmed position), credits back
 *        ▶ commit (interval, threshold, caught-up, stop)
 *
 * The source pauses while the credit window is exhausted, so memory stays bounded when Kafka is slow or down.
 * It emits `running` once KurrentDB confirmed the subscription, completes after a requested stop has flushed and
 * committed, and errors with the typed cause when the connector cannot go on (the last confirmed position is
 * committed first, so a restart resumes right before the failing record).
 */
import { BehaviorSubject, concat, defer, EMPTY, filter, finalize, ignoreElements, map, merge, mergeMap, Observable, share, Subject, switchMap, take, takeUntil, tap, timer, type Observable as ObservableType } from 'rxjs'
import type { Logger } from '../observability/logger.ts'
import type { ConnectorMetrics } from '../observability/metrics.ts'
import type { KafkaSinkSettings } from '../settings/kafka-sink-settings.ts'
import type { KafkaSendError } from '../sink/kafka/errors.ts'
import type { KafkaPort, KafkaProducerConfig, KafkaMessage } from '../sink/kafka/port.ts'
import { toProducerConfig } from '../sink/kafka/producer-config.ts'
import { createPartitionKeyExtractor } from '../sink/partition-key.ts'
import { createRecordMapper } from '../sink/record-mapping.ts'
import type { KurrentDbConnection } from '../source/kurrentdb-connection.ts'
import type { StartPoint } from '../source/positions.ts'
import { createEventPredicate, planRead } from '../source/read-plan.ts'
import { subscribeToSource, type SourceBatch } from '../source/subscribe.ts'
import { batchWork } from './batch-work.ts'
import { confirmRange, hasUncommitted, initialTrackerState, markCommitted, rangeOfBatch, shouldCommit } from './checkpoint-tracker.ts'
import { createCreditWindow } from './credit-window.ts'
import { DeliveryAbortedError, deliverBatch, type DeliveryPolicy } from './deliver-batch.ts'
import { messageSize, type ResumePoint, type WorkBatch, type WorkItem } from './work-item.ts'

export interface ConnectorDependencies {
  readonly connection: KurrentDbConnection
  readonly openKafka: (config: KafkaProducerConfig, logger: Logger) => KafkaPort
  /** Appends a checkpoint to the connector's checkpoint stream. */
  readonly commitCheckpoint: (resume: ResumePoint) => Promise<void>
  readonly logger: Logger
  readonly metrics: ConnectorMetrics
}

/** Internal limits, not settings: they bound memory and shape batches, whatever the connector's settings. */
export interface PipelineTuning {
  readonly maxBatchMessages: number
  readonly maxBatchBytes: number
  readonly lingerMs: number
  readonly maxInFlightItems: number
  readonly maxInFlightBytes: number
  /** Batches in flight at once when `waitForBrokerAck` is false (true always means one). */
  readonly pipelinedBatches: number
  /** After a stop request, how long in-flight deliveries may keep retrying before they are abandoned. */
  readonly stopGraceMs: number
  /** Checkpoint commits failing for this long end the run with CheckpointCommitFailedError (`--commit-failure-limit`). */
  readonly commitFailureLimitMs: number
  /** Work outstanding and no confirmed progress for this long: the run reports itself stalled (`--stall-after`). */
  readonly stallAfterMs: number
  /** How often the consumer lag is sampled (each sample is a read of the end of $all). */
  readonly lagSampleIntervalMs: number
}

export const defaultPipelineTuning: PipelineTuning = {
  maxBatchMessages: 2_000,
  maxBatchBytes: 1024 * 1024,
  lingerMs: 5,
  maxInFlightItems: 8_000,
  maxInFlightBytes: 16 * 1024 * 1024,
  pipelinedBatches: 5,
  stopGraceMs: 10_000,
  commitFailureLimitMs: 60_000,
  stallAfterMs: 60_000,
  lagSampleIntervalMs: 5_000,
}

export interface ConnectorRun {
  readonly connectorId: string
  readonly settings: KafkaSinkSettings
  readonly start: StartPoint
  /** Emits when the connector should stop gracefully: stop reading, flush, commit. */
  readonly stop$: ObservableType<unknown>
  readonly tuning?: Partial<PipelineTuning>
}

/** A run with events to deliver whose confirmed position has not moved since `since`. */
export interface Stall {
  /** When the confirmed position last moved, or when work arrived at an idle run. */
  readonly since: Date
  /** The latest delivery error retried meanwhile, if any. */
  readonly lastError: string | undefined
}

export type ConnectorSignal =
  | { readonly kind: 'running' }
  | { readonly kind: 'caughtUp' }
  | { readonly kind: 'committed'; readonly resume: ResumePoint }
  /** `stall` undefined: progressing again (or no work left). */
  | { readonly kind: 'stalled'; readonly stall: Stall | undefined }

/** Checkpoint commits kept failing for longer than `commitFailureLimitMs`; `cause` is the latest failure. */
export class CheckpointCommitFailedError extends Error {
  override readonly name = 'CheckpointCommitFailedError'
  constructor(failingForMs: number, cause: unknown) {
    super(`checkpoint commits to KurrentDB have failed for ${Math.round(failingForMs / 1000)} s; the last error: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
  }
}

export function runConnector(dependencies: ConnectorDependencies, run: ConnectorRun): ObservableType<ConnectorSignal> {
  return new Observable<ConnectorSignal>((subscriber) => {
    const { settings, connectorId } = run
    const { logger, metrics } = dependencies
    const tuning: PipelineTuning = { ...defaultPipelineTuning, ...run.tuning }
    const plan = planRead(settings.subscription.filter)
    const forward = createEventPredicate(plan)
    const toRecord = createRecordMapper({
      connectorId,
      defaultHeaders: settings.defaultHeaders,
      ignoreSystemHeaders: settings.headers.ignoreSystem,
      partitionKey: createPartitionKeyExtractor(settings.partitionKeyExtraction),
      keyUsesMetadata: settings.partitionKeyExtraction.enabled && settings.partitionKeyExtraction.source === 'headers',
    })
    const window = createCreditWindow({ maxItems: tuning.maxInFlightItems, maxBytes: tuning.maxInFlightBytes })
    const port = dependencies.openKafka(toProducerConfig(settings, connectorId), logger)
    const deliveryPolicy: DeliveryPolicy = {
      retriesEnabled: settings.resilience.enabled,
      maxRetries: settings.resilience.maxRetries,
      delay: { transientErrorDelayMs: settings.resilience.transientErrorDelayMs, backoffMaxMs: settings.resilience.reconnectBackoffMaxMs },
    }
    const commitPolicy = { enabled: settings.autocommit.enabled, intervalMs: settings.autocommit.intervalMs, recordsThreshold: settings.autocommit.recordsThreshold }
    // The one stop signal: not asked; asked (stop reading, flush, commit); past the grace period (abandon retries).
    // It remembers its phase: parts of the pipeline subscribe later (the source only after Kafka connected), and a
    // stop that came before they subscribed must still end them.
    const stop = new BehaviorSubject<'none' | 'requested' | 'abandoned'>('none')
    const stopRequested$ = stop.pipe(filter((phase) => phase !== 'none'))
    const abandoned$ = stop.pipe(filter((phase) => phase === 'abandoned'))

    let tracker = initialTrackerState()
    let lastCommitAt = performance.now()
    let commitInProgress: Promise<void> | undefined
    let sequence = 0
    let running = false
    let commitFailingSince: number | undefined
    let ended = false
    // Stall watch: when the confirmed position last moved (or work arrived while idle), the latest retried error,
    // and whether a stall is being reported.
    let progressAt = performance.now()
    let lastDeliveryError: string | undefined
    let stall: Stall | undefined

    /** Ends the run from outside the pipeline (commits that keep failing), as a pipeline error would. */
    const failRun = (error: Error) => {
      if (ended) return
      subscription.unsubscribe()
      void finish(error)
    }

    const commitNow = async (): Promise<void> => {
      if (!hasUncommitted(tracker)) return
      const resume = tracker.committable!
      const readAt = tracker.committableReadAt
      try {
        await dependencies.commitCheckpoint(resume)
        commitFailingSince = undefined
        tracker = markCommitted(tracker, resume)
        lastCommitAt = performance.now()
        metrics.commitLatency((lastCommitAt - readAt) / 1000)
        if (!subscriber.closed) subscriber.next({ kind: 'committed', resume })
      } catch (error) {
        // The position stays uncommitted and the next trigger tries again; a restart would only replay more. But a
        // run that can never checkpoint replays ever more after a restart, and looks healthy: past the limit it fails.
        metrics.checkpointCommitFailed()
        const now = performance.now()
        commitFailingSince ??= now
        const failingForMs = now - commitFailingSince
        logger.warn('checkpoint commit failed; will retry', { error, failingForMs: Math.round(failingForMs), limitMs: tuning.commitFailureLimitMs })
        if (failingForMs >= tuning.commitFailureLimitMs) failRun(new CheckpointCommitFailedError(failingForMs, error))
      }
    }
    const commitIfDue = () => {
      if (commitInProgress !== undefined) return
      if (!shouldCommit(tracker, commitPolicy, performance.now() - lastCommitAt)) return
      commitInProgress = commitNow().finally(() => {
        commitInProgress = undefined
      })
    }
    const commitTimer = setInterval(commitIfDue, Math.min(commitPolicy.intervalMs, 1_000))
    const reportStall = (next: Stall | undefined) => {
      if (next === undefined && stall === undefined) return
      stall = next
      metrics.stalled(next !== undefined)
      if (!subscriber.closed) subscriber.next({ kind: 'stalled', stall: next })
    }
    const stallTimer = setInterval(() => {
      const now = performance.now()
      const idle = window.inFlight().items === 0
      if (idle || now - progressAt < tuning.stallAfterMs) return reportStall(undefined)
      const since = Date.now() - (now - progressAt)
      // The pipeline's own retries come after the engine's, which can take a whole delivery timeout: until then the
      // engine's latest retried error is the explanation.
      const retried = port.lastRetriedError?.()
      const lastError = lastDeliveryError ?? (retried !== undefined && retried.at >= since ? retried.error.message : undefined)
      // Refreshed while stalled, so the reported last error stays current.
      if (stall === undefined || stall.lastError !== lastError) reportStall({ since: new Date(since), lastError })
    }, Math.min(1_000, Math.max(50, tuning.stallAfterMs / 4)))
    metrics.stalled(false)
    // Lag in log positions between the end of $all and what was read: sampled, as it needs a read of its own.
    const lagTimer = setInterval(() => {
      dependencies.connection.readHeadPosition().then(
        (head) => {
          // A read that answers after the run was torn down must not report for it (a next run may be reporting).
          if (subscriber.closed) return
          metrics.consumerLag(head === undefined || lastReadPosition === undefined ? 0 : Math.max(0, Number(head.commit - lastReadPosition)))
        },
        () => {},
      )
    }, tuning.lagSampleIntervalMs)

    let lastReadPosition: bigint | undefined
    const revisionsResume = plan.target.kind === 'stream'
    /** Source items as numbered work items, events mapped to Kafka records (or to position-only markers). */
    const toWorkItems = (batch: SourceBatch): WorkItem[] => {
      const readAt = performance.now()
      const work: WorkItem[] = []
      let consumed = 0
      for (const item of batch) {
        switch (item.kind) {
          case 'subscribed':
            break
          case 'caughtUp':
            work.push({ sequence: sequence++, resume: undefined, message: undefined, bytes: 0, caughtUp: true, readAt })
            break
          case 'checkpoint':
            lastReadPosition = item.position.commit
            work.push({ sequence: sequence++, resume: { position: item.position, revision: undefined }, message: undefined, bytes: 0, caughtUp: false, readAt })
            break
          case 'event': {
            const { event } = item
            consumed++
            const message = forward(event) ? toRecord(event) : undefined
            lastReadPosition = event.position.commit
            work.push({
              sequence: sequence++,
              resume: { position: event.position, revision: revisionsResume ? event.revision : undefined },
              message,
              bytes: message === undefined ? 0 : messageSize(message),
              caughtUp: false,
              readAt,
            })
            break
          }
        }
      }
      if (consumed > 0) metrics.messagesConsumed(consumed)
      return work
    }
    /** What the source's items say about the run itself: subscribed (the first time), caught up. */
    const lifecycleSignals = (batch: SourceBatch): ConnectorSignal[] => {
      const signals: ConnectorSignal[] = []
      for (const item of batch) {
        if (item.kind === 'subscribed' && !running) {
          running = true
          signals.push({ kind: 'running' })
        } else if (item.kind === 'caughtUp') signals.push({ kind: 'caughtUp' })
      }
      return signals
    }
    /** Read work takes credits from the window; the source pauses while it is exhausted, until confirmations give back. */
    const takeCredits = tap((work: readonly WorkItem[]) => {
      if (work.length === 0) return
      if (window.inFlight().items === 0) progressAt = performance.now()
      let bytes = 0
      for (const item of work) bytes += item.bytes
      window.take(work.length, bytes)
    })

    const send = async (messages: readonly KafkaMessage[]) => {
      const started = performance.now()
      const outcomes = await port.send(settings.topic, messages)
      metrics.produceDuration((performance.now() - started) / 1000)
      return outcomes
    }
    const onRetry = (error: KafkaSendError, attempt: number, delayMs: number) => {
      metrics.sinkError()
      lastDeliveryError = error.message
      logger.warn('Kafka delivery failed; retrying', { error, attempt, delayMs })
    }

    const confirm = (batch: WorkBatch) => {
      tracker = confirmRange(tracker, rangeOfBatch(batch))
      progressAt = performance.now()
      lastDeliveryError = undefined
      let bytes = 0
      let sent = 0
      const nowMillis = Date.now()
      for (const item of batch) {
        bytes += item.bytes
        if (item.message === undefined) continue
        sent++
        metrics.writeLatency(Math.max(0, nowMillis - Number(item.message.timestamp)) / 1000)
      }
      window.give(batch.length, bytes)
      if (sent > 0) {
        metrics.recordsWritten(sent)
        metrics.messagesProduced(sent)
      }
      metrics.producerQueueLength(window.inFlight().items)
      commitIfDue()
    }

    const connectKafka = defer(async () => {
      try {
        await port.connect()
      } catch (error) {
        if ((error as KafkaSendError).transient !== true) throw error
        // Brokers down at start is not a reason to refuse: sends will retry until they are back.
        logger.warn('Kafka is not reachable yet; records will be retried until it is', { error })
      }
    })

    const read$ = subscribeToSource(dependencies.connection, {
      target: plan.target,
      start: run.start,
      checkpointEvery: settings.autocommit.recordsThreshold,
      paused$: window.exhausted$,
      emitEachItem: window.nearlyFull,
      logger,
    }).pipe(takeUntil(stopRequested$), share())

    const concurrency = settings.waitForBrokerAck ? 1 : tuning.pipelinedBatches
    // Sends in flight, so a batch keeps filling while none can start (batchWork's sendSlots). The freed signal comes
    // a microtask after a send ends, once mergeMap has started any batch it was holding.
    let sendsInFlight = 0
    const sendSlotFreed$ = new Subject<void>()
    const sendSlots = { hasFree: () => sendsInFlight < concurrency, freed$: sendSlotFreed$ }
    const deliverCounted = (batch: WorkBatch) => {
      sendsInFlight++
      return deliverBatch(batch, send, deliveryPolicy, { abort$: abandoned$, onRetry }).pipe(
        finalize(() => {
          sendsInFlight--
          queueMicrotask(() => sendSlotFreed$.next())
        }),
      )
    }
    const deliver$ = read$.pipe(
      map(toWorkItems),
      takeCredits,
      batchWork({ maxMessages: tuning.maxBatchMessages, maxBytes: tuning.maxBatchBytes, lingerMs: tuning.lingerMs }, undefined, sendSlots),
      mergeMap(deliverCounted, concurrency),
      tap(confirm),
      ignoreElements(),
    )
    const lifecycle$ = read$.pipe(mergeMap(lifecycleSignals))

    // A stop while still connecting (brokers unreachable, a TLS handshake that hangs) ends the run without reading.
    const pipeline = concat(
      connectKafka.pipe(ignoreElements(), takeUntil(stopRequested$)),
      defer(() => (stop.value !== 'none' ? EMPTY : merge(lifecycle$, deliver$))),
    )

    /** A client that fails to close cannot be helped here: logged, never a rejection nobody handles. */
    const closePort = (flush: boolean) => port.close({ flush }).catch((closeError: unknown) => logger.warn('closing the Kafka client failed', { error: closeError }))

    const stopping = run.stop$
      .pipe(
        take(1),
        tap(() => stop.next('requested')),
        switchMap(() => timer(tuning.stopGraceMs)),
      )
      .subscribe(() => {
        logger.warn('stop grace period over; abandoning undelivered records (they will be re-read on restart)', { graceMs: tuning.stopGraceMs })
        stop.next('abandoned')
        // Closing the client makes a send that is still waiting on the broker settle now.
        void closePort(false)
      })

    const finish = async (error: unknown) => {
      if (ended) return
      ended = true
      clearInterval(commitTimer)
      clearInterval(stallTimer)
      reportStall(undefined)
      clearInterval(lagTimer)
      stopping.unsubscribe()
      await commitInProgress
      await commitNow()
      // After a clean end nothing is in flight any more: a flushing close just closes, where closing without flush
      // would report "closed without flush" as if records had been abandoned. A failure abandons what is left.
      await closePort(error === undefined)
      if (error === undefined || (stop.value !== 'none' && error instanceof DeliveryAbortedError)) subscriber.complete()
      else {
        metrics.processorError()
        subscriber.error(error)
      }
    }

    const subscription = pipeline.subscribe({ next: (signal) => subscriber.next(signal), error: (error: unknown) => void finish(error), complete: () => void finish(undefined) })

    return () => {
      subscription.unsubscribe()
      stopping.unsubscribe()
      clearInterval(commitTimer)
      clearInterval(stallTimer)
      clearInterval(lagTimer)
      // A run that ended has closed the client already (finish); one unsubscribed while going closes it now.
      if (!ended) void closePort(false)
    }
  })
}

