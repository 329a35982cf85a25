/**
 * The one metrics registry: counters, gauges and histograms with labels, rendered in the Prometheus text format.
 * Metric names follow KurrentDB's connector metrics so existing dashboards keep working; every connector series
 * carries a `connector_id` label. Small on purpose: no client library is needed for a dozen series.
 */

type Labels = Readonly<Record<string, string>>

interface Series {
  readonly labels: Labels
  value: number
  /** histogram only: cumulative bucket counts, then sum and count */
  buckets?: number[]
  sum?: number
  count?: number
}

interface MetricFamily {
  readonly name: string
  readonly help: string
  readonly type: 'counter' | 'gauge' | 'histogram'
  readonly bucketBounds?: readonly number[]
  readonly series: Map<string, Series>
}

/** Handles bound to one label set, so the hot path does no label bookkeeping per observation. */
export interface Counter {
  labelled(labels: Labels): { increment(by?: number): void }
}
export interface Gauge {
  labelled(labels: Labels): { set(value: number): void }
}
export interface Histogram {
  labelled(labels: Labels): { observe(value: number): void }
}

export interface MetricsRegistry {
  counter(name: string, help: string): Counter
  gauge(name: string, help: string): Gauge
  histogram(name: string, help: string, bucketBounds: readonly number[]): Histogram
  /** A counter whose total is read from elsewhere at scrape time (CPU seconds): monotonic, so typed counter. */
  collectedCounter(name: string, help: string): Gauge
  /** Drops every series carrying this label value (a deleted connector's series). */
  forget(labelName: string, labelValue: string): void
  /** Gauges computed at scrape time (process memory, active connectors). */
  onCollect(collect: () => void): void
  render(): string
}

function labelKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((name) => `${name}=${labels[name]}`)
    .join(',')
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')
}

function formatLabels(labels: Labels, extra?: Labels): string {
  const all = { ...labels, ...extra }
  const names = Object.keys(all)
  if (names.length === 0) return ''
  return `{${names.map((name) => `${name}="${escapeLabelValue(all[name]!)}"`).join(',')}}`
}

function formatNumber(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return '+Inf'
  return Number.isInteger(value) ? value.toString() : value.toPrecision(12).replace(/\.?0+$/, '')
}

export function createMetricsRegistry(): MetricsRegistry {
  const families = new Map<string, MetricFamily>()
  const collectors: Array<() => void> = []

  const family = (name: string, help: string, type: MetricFamily['type'], bucketBounds?: readonly number[]): MetricFamily => {
    const existing = families.get(name)
    if (existing !== undefined) return existing
    const created: MetricFamily = { name, help, type, series: new Map(), ...(bucketBounds ? { bucketBounds } : {}) }
    families.set(name, created)
    return created
  }
  const seriesOf = (metric: MetricFamily, labels: Labels): Series => {
    const key = labelKey(labels)
    let series = metric.series.get(key)
    if (series === undefined) {
      series = { labels, value: 0 }
      if (metric.type === 'histogram') {
        series.buckets = metric.bucketBounds!.map(() => 0)
        series.sum = 0
        series.count = 0
      }
      metric.series.set(key, series)
    }
    return series
  }

  return {
    counter: (name, help) => {
      const metric = family(name, help, 'counter')
      return {
        labelled: (labels) => {
          const series = seriesOf(metric, labels)
          return { increment: (by = 1) => void (series.value += by) }
        },
      }
    },
    gauge: (name, help) => {
      const metric = family(name, help, 'gauge')
      return {
        labelled: (labels) => {
          const series = seriesOf(metric, labels)
          return { set: (value) => void (series.value = value) }
        },
      }
    },
    collectedCounter: (name, help) => {
      const metric = family(name, help, 'counter')
      return {
        labelled: (labels) => {
          const series = seriesOf(metric, labels)
          return { set: (value) => void (series.value = value) }
        },
      }
    },
    histogram: (name, help, bucketBounds) => {
      const metric = family(name, help, 'histogram', bucketBounds)
      return {
        labelled: (labels) => {
          const series = seriesOf(metric, labels)
          const buckets = series.buckets!
          return {
            observe: (value) => {
              for (let index = 0; index < bucketBounds.length; index++) if (value <= bucketBounds[index]!) buckets[index]!++
              series.sum! += value
              series.count!++
            },
          }
        },
      }
    },
    forget: (labelName, labelValue) => {
      for (const metric of families.values()) {
        for (const [key, series] of metric.series) if (series.labels[labelName] === labelValue) metric.series.delete(key)
      }
    },
    onCollect: (collect) => void collectors.push(collect),
    render: () => {
      for (const collect of collectors) collect()
      const lines: string[] = []
      for (const metric of families.values()) {
        lines.push(`# HELP ${metric.name} ${metric.help}`, `# TYPE ${metric.name} ${metric.type}`)
        for (const series of metric.series.values()) {
          if (metric.type !== 'histogram') {
            lines.push(`${metric.name}${formatLabels(series.labels)} ${formatNumber(series.value)}`)
            continue
          }
          metric.bucketBounds!.forEach((bound, index) => {
            lines.push(`${metric.name}_bucket${formatLabels(series.labels, { le: formatNumber(bound) })} ${series.buckets![index]}`)
          })
          lines.push(`${metric.name}_bucket${formatLabels(series.labels, { le: '+Inf' })} ${series.count}`)
          lines.push(`${metric.name}_sum${formatLabels(series.labels)} ${formatNumber(series.sum!)}`)
          lines.push(`${metric.name}_count${formatLabels(series.labels)} ${series.count}`)
        }
      }
      return lines.join('\n') + '\n'
    },
  }
}

const latencyBucketsSeconds = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
const batchSizeBuckets = [1, 10, 100, 500, 1_000, 2_000, 5_000, 10_000]

/** What a running connector reports; one instance per connector id. */
export interface ConnectorMetrics {
  recordsWritten(count: number): void
  writeLatency(seconds: number): void
  sinkError(): void
  messagesConsumed(count: number): void
  commitLatency(seconds: number): void
  consumerLag(positions: number): void
  producerQueueLength(records: number): void
  messagesProduced(count: number): void
  produceDuration(seconds: number): void
  processorError(): void
  checkpointCommitFailed(): void
  stalled(isStalled: boolean): void
}

export interface SinkMetrics {
  forConnector(connectorId: string): ConnectorMetrics
  forget(connectorId: string): void
  setActiveConnectors(count: number): void
  /** This instance claimed a lease another instance held before (it expired or was released). */
  ownershipTakeover(): void
  /** A renewal of a held lease did not reach KurrentDB (it is retried). */
  leaseRenewalFailed(): void
  /** A held lease went to another instance: the run here was stopped. */
  ownershipLost(): void
  readonly registry: MetricsRegistry
}

/** The connector metrics of KurrentDB's connectors (names as of its current docs), plus process metrics. */
export function createSinkMetrics(registry: MetricsRegistry = createMetricsRegistry()): SinkMetrics {
  const active = registry.gauge('kurrent_connector_active_total', 'Connectors currently running in this process.')
  const written = registry.histogram('kurrent_sink_written_total_records', 'Records written to Kafka, observed per confirmed batch.', batchSizeBuckets)
  const errors = registry.counter('kurrent_sink_errors_total', 'Errors writing to Kafka (transient ones included).')
  const writeLatency = registry.histogram('kurrent_sink_write_latency_s', 'Seconds from an event being created in KurrentDB to Kafka confirming it.', latencyBucketsSeconds)
  const consumed = registry.counter('messaging_kurrent_consumer_message_count', 'Events read from KurrentDB.')
  const commitLatency = registry.histogram('messaging_kurrent_consumer_commit_latency_s', 'Seconds from reading an event to committing a checkpoint that covers it.', latencyBucketsSeconds)
  const lag = registry.gauge('messaging_kurrent_consumer_lag', 'Log positions between the end of $all and the last event read.')
  const queue = registry.gauge('messaging_kurrent_producer_queue_length', 'Records read but not yet confirmed by Kafka.')
  const produced = registry.counter('messaging_kurrent_producer_message_count', 'Messages confirmed by Kafka.')
  const produceDuration = registry.histogram('messaging_kurrent_producer_produce_duration_s', 'Seconds one Kafka send took, retries excluded.', latencyBucketsSeconds)
  const processorErrors = registry.counter('messaging_kurrent_processor_error_count', 'Connector failures (the connector stopped with an error).')
  // Ours, beyond KurrentDB's names: failures that would otherwise only be visible in the log.
  const commitFailures = registry.counter('kafka_sink_checkpoint_commit_failures_total', 'Checkpoint commits to KurrentDB that failed (each is retried).')
  const stalledGauge = registry.gauge('kafka_sink_connector_stalled', '1 while the connector has events to deliver and its confirmed position has not moved for the stall time, else 0.')

  const takeovers = registry.counter('kafka_sink_connector_takeovers_total', 'Connector leases this instance took over from another instance.')
  const renewalFailures = registry.counter('kafka_sink_lease_renewal_failures_total', 'Lease renewals that did not reach KurrentDB (retried).')
  const leasesLost = registry.counter('kafka_sink_leases_lost_total', 'Leases that went to another instance while this one ran the connector.')

  const startTimeSeconds = Math.floor(Date.now() / 1000 - process.uptime())
  const residentMemory = registry.gauge('process_resident_memory_bytes', 'Resident memory size in bytes.')
  const heapUsed = registry.gauge('process_heap_used_bytes', 'JavaScript heap in use, in bytes.')
  const cpuSeconds = registry.collectedCounter('process_cpu_seconds_total', 'User and system CPU time spent, in seconds.')
  const startTime = registry.gauge('process_start_time_seconds', 'Start time of the process since the Unix epoch, in seconds.')
  const processLabels = {}
  // Bound once, so each counter shows 0 before its first event.
  const takeoverCount = takeovers.labelled(processLabels)
  const renewalFailureCount = renewalFailures.labelled(processLabels)
  const leasesLostCount = leasesLost.labelled(processLabels)
  registry.onCollect(() => {
    const memory = process.memoryUsage()
    residentMemory.labelled(processLabels).set(memory.rss)
    heapUsed.labelled(processLabels).set(memory.heapUsed)
    const cpu = process.cpuUsage()
    cpuSeconds.labelled(processLabels).set((cpu.user + cpu.system) / 1e6)
    startTime.labelled(processLabels).set(startTimeSeconds)
  })

  return {
    registry,
    setActiveConnectors: (count) => active.labelled(processLabels).set(count),
    ownershipTakeover: () => takeoverCount.increment(),
    leaseRenewalFailed: () => renewalFailureCount.increment(),
    ownershipLost: () => leasesLostCount.increment(),
    forget: (connectorId) => registry.forget('connector_id', connectorId),
    forConnector: (connectorId) => {
      const labels = { connector_id: connectorId }
      const bound = {
        written: written.labelled(labels),
        writeLatency: writeLatency.labelled(labels),
        errors: errors.labelled(labels),
        consumed: consumed.labelled(labels),
        commitLatency: commitLatency.labelled(labels),
        lag: lag.labelled(labels),
        queue: queue.labelled(labels),
        produced: produced.labelled(labels),
        produceDuration: produceDuration.labelled(labels),
        processorErrors: processorErrors.labelled(labels),
        commitFailures: commitFailures.labelled(labels),
        stalled: stalledGauge.labelled(labels),
      }
      return {
        recordsWritten: (count) => bound.written.observe(count),
        writeLatency: (seconds) => bound.writeLatency.observe(seconds),
        sinkError: () => bound.errors.increment(),
        messagesConsumed: (count) => bound.consumed.increment(count),
        commitLatency: (seconds) => bound.commitLatency.observe(seconds),
        consumerLag: (positions) => bound.lag.set(positions),
        producerQueueLength: (records) => bound.queue.set(records),
        messagesProduced: (count) => bound.produced.increment(count),
        produceDuration: (seconds) => bound.produceDuration.observe(seconds),
        processorError: () => bound.processorErrors.increment(),
        checkpointCommitFailed: () => bound.commitFailures.increment(),
        stalled: (isStalled) => bound.stalled.set(isStalled ? 1 : 0),
      }
    },
  }
}
