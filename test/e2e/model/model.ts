/**
 * The model of what must reach Kafka, written from the user documentation and the connectors API reference only
 * (README, seed/kafka-sink.md, connectors-spec.md), never from the sink's code. It is pure: the commands update it,
 * and `evaluate` compares what kcat read from a topic with what the model says that topic must and must not hold.
 *
 * The rules it encodes (each from the documentation):
 * - a connector delivers every event of a stream its filter matches, after its start point, at least once;
 * - the start point of an activation: a plain start resumes from the checkpoint, or, with no checkpoint yet,
 *   `subscription:initialPosition` (`earliest` = the beginning, `latest` = the end at the first start);
 *   `start/{P}` and `reset/{P}` resume after the event at P; `reset` starts from the beginning;
 * - nothing at or before the lowest start point an incarnation ever had, nothing of a non-matching stream;
 * - delete, then create again with the same id: a new incarnation that reads none of the old one's checkpoints;
 * - per stream, the first copies of its events are in append order (one partition per stream: the partition key
 *   of every source is derived from the stream or from per-stream headers);
 * - the committed checkpoint never points past an event Kafka does not hold;
 * - a copy beyond the first is allowed only for events a kill -9, a requested re-delivery (reset, start at an
 *   earlier position) or a retried send (a Kafka fault) may have sent twice.
 */

export type FilterKind = 'streamId' | 'prefix' | 'regex'
export type KeySource = 'default' | 'stream' | 'streamSuffix' | 'headers'
export type InitialPosition = 'latest' | 'earliest'

export interface ConnectorVariant {
  readonly filter: FilterKind
  readonly initialPosition: InitialPosition
  readonly keySource: KeySource
  readonly waitForBrokerAck: boolean
  /** `autocommit:recordsThreshold`: small values make checkpoints move often. */
  readonly recordsThreshold: number
}

/** What a reconfigure may change: settings that do not alter which events are due or how they are keyed. */
export interface Reconfiguration {
  readonly waitForBrokerAck: boolean
  readonly recordsThreshold: number
}

/** The three streams of a run: which of them a filter matches is what the filter variants differ in. */
export interface RunStreams {
  /** `<ns>Order-1`: matched by streamId and prefix. */
  readonly order1: string
  /** `<ns>Order-2`: matched by prefix and regex. */
  readonly order2: string
  /** `<ns>Other-1`: matched by regex only. */
  readonly other1: string
}

export function runStreams(namespace: string): RunStreams {
  return { order1: `${namespace}Order-1`, order2: `${namespace}Order-2`, other1: `${namespace}Other-1` }
}

export function allStreams(streams: RunStreams): readonly string[] {
  return [streams.order1, streams.order2, streams.other1]
}

/** The documented filter settings of each variant. */
export function filterSettings(filter: FilterKind, namespace: string): Record<string, string> {
  const streams = runStreams(namespace)
  switch (filter) {
    case 'streamId':
      return { 'subscription:filter:scope': 'stream', 'subscription:filter:filterType': 'streamId', 'subscription:filter:expression': streams.order1 }
    case 'prefix':
      return { 'subscription:filter:scope': 'stream', 'subscription:filter:filterType': 'prefix', 'subscription:filter:expression': `${namespace}Order-` }
    case 'regex':
      return { 'subscription:filter:scope': 'stream', 'subscription:filter:filterType': 'regex', 'subscription:filter:expression': `^${namespace}(Order-2|Other-1)$` }
  }
}

/** Which streams a filter matches, from the filter's documented meaning (exact id, prefix, regex on the id). */
export function matches(filter: FilterKind, namespace: string, stream: string): boolean {
  const streams = runStreams(namespace)
  switch (filter) {
    case 'streamId':
      return stream === streams.order1
    case 'prefix':
      return stream.startsWith(`${namespace}Order-`)
    case 'regex':
      return stream === streams.order2 || stream === streams.other1
  }
}

export function keySettings(keySource: KeySource): Record<string, string> {
  switch (keySource) {
    case 'default':
      return {}
    case 'stream':
      return { 'partitionKeyExtraction:enabled': 'true', 'partitionKeyExtraction:source': 'stream', 'partitionKeyExtraction:expression': '^(.*)-[0-9]+$' }
    case 'streamSuffix':
      return { 'partitionKeyExtraction:enabled': 'true', 'partitionKeyExtraction:source': 'streamSuffix' }
    case 'headers':
      return { 'partitionKeyExtraction:enabled': 'true', 'partitionKeyExtraction:source': 'headers', 'partitionKeyExtraction:expression': 'tenant,region' }
  }
}

/** The full settings of a connector (a reconfigure resends them all: nothing is merged). */
export function connectorSettings(variant: ConnectorVariant, namespace: string, topic: string, bootstrapServers: string): Record<string, string> {
  return {
    instanceTypeName: 'kafka-sink',
    topic,
    bootstrapServers,
    'subscription:initialPosition': variant.initialPosition,
    ...filterSettings(variant.filter, namespace),
    ...keySettings(variant.keySource),
    waitForBrokerAck: String(variant.waitForBrokerAck),
    'autocommit:recordsThreshold': String(variant.recordsThreshold),
    'autocommit:interval': '500',
    // Brokers come back within a second or two in the model: do not wait the default 20 s to find out.
    'resilience:reconnectBackoffMaxMs': '1000',
  }
}

export interface ModelEvent {
  readonly id: string
  readonly stream: string
  readonly position: bigint
  /** Append order within the run. */
  readonly index: number
}

export interface Incarnation {
  readonly number: number
  readonly topic: string
  variant: ConnectorVariant
  state: 'stopped' | 'running'
  /** Activations so far (a plain start after the first one resumes from the checkpoint). */
  activations: number
  /** Every matching event after this position is due; undefined until the first activation. */
  from: bigint | undefined
  /** The lowest `from` ever: nothing at or before it may reach Kafka. */
  lowestFrom: bigint | undefined
  /** Extra copies of events at or before this position are allowed (kill -9, re-delivery, retried sends). */
  excusedUpTo: bigint
  /** A Kafka fault happened since the last check: a send may have been retried, so extra copies are allowed. */
  retriedSendsPossible: boolean
  /** `waitForBrokerAck` of the running activation (a reconfigure takes effect at the next start). */
  runningWaitForBrokerAck: boolean
  /**
   * Per-stream order of first copies holds: always with `waitForBrokerAck: true`; with false, the README says a
   * later batch can land before a re-sent earlier one after a failure, so a Kafka fault then voids it.
   */
  orderGuaranteed: boolean
  /**
   * First copies of events at or before this position may come out of append order: a start or reset at a position
   * before the previous start point asks for events no earlier activation read (those between the two points, and
   * any the previous activation skipped), and they reach Kafka after what the earlier activations delivered.
   */
  orderExcusedUpTo: bigint
  /** The position of the last appended event when this incarnation was deleted. */
  deletedAfter: bigint | undefined
  /** The last evaluation of its topic. */
  lastFigures: Figures | undefined
}

export interface SinkModel {
  readonly namespace: string
  readonly connectorId: string
  readonly streams: RunStreams
  readonly events: ModelEvent[]
  readonly incarnations: Incarnation[]
  faults: number
  /**
   * A Kafka fault since the last check. Injected Produce errors wait in the brokers for whichever producer sends
   * next, so a connector created (or re-created) meanwhile may meet them too.
   */
  kafkaFaultOpen: boolean
}

export function newModel(namespace: string, connectorId: string): SinkModel {
  return { namespace, connectorId, streams: runStreams(namespace), events: [], incarnations: [], faults: 0, kafkaFaultOpen: false }
}

/** The incarnation the connector id currently names, if it exists and is not deleted. */
export function currentIncarnation(model: SinkModel): Incarnation | undefined {
  const last = model.incarnations.at(-1)
  return last !== undefined && last.deletedAfter === undefined ? last : undefined
}

/** The position of the last event the model appended (0 before any). */
export function head(model: SinkModel): bigint {
  return model.events.at(-1)?.position ?? 0n
}

export function addIncarnation(model: SinkModel, topic: string, variant: ConnectorVariant): Incarnation {
  const incarnation: Incarnation = {
    number: model.incarnations.length + 1,
    topic,
    variant,
    state: 'stopped',
    activations: 0,
    from: undefined,
    lowestFrom: undefined,
    excusedUpTo: -1n,
    retriedSendsPossible: model.kafkaFaultOpen,
    runningWaitForBrokerAck: variant.waitForBrokerAck,
    orderGuaranteed: true,
    orderExcusedUpTo: -1n,
    deletedAfter: undefined,
    lastFigures: undefined,
  }
  model.incarnations.push(incarnation)
  return incarnation
}

export type Activation = { readonly kind: 'start' } | { readonly kind: 'reset' } | { readonly kind: 'at'; readonly position: bigint }

/** Applies a successful start, reset or start/reset at a position to the model. */
export function activate(model: SinkModel, incarnation: Incarnation, activation: Activation): void {
  let from: bigint
  if (activation.kind === 'start') {
    // A plain start resumes from the checkpoint; only the very first one uses the initial position, and
    // "latest" is the end at that first start (the setting's own description).
    if (incarnation.from !== undefined) from = incarnation.from
    else from = incarnation.variant.initialPosition === 'earliest' ? 0n : head(model)
  } else {
    from = activation.kind === 'reset' ? 0n : activation.position
    // Events the connector may already have sent are asked for again: their second copies are requested.
    if (incarnation.activations > 0) incarnation.excusedUpTo = maxBigInt(incarnation.excusedUpTo, head(model))
    // Back before the previous start point: what lies between was never read, and is delivered after all of it.
    if (incarnation.from !== undefined && from < incarnation.from) incarnation.orderExcusedUpTo = maxBigInt(incarnation.orderExcusedUpTo, head(model))
  }
  incarnation.from = from
  incarnation.lowestFrom = incarnation.lowestFrom === undefined ? from : minBigInt(incarnation.lowestFrom, from)
  incarnation.activations += 1
  incarnation.state = 'running'
  incarnation.runningWaitForBrokerAck = incarnation.variant.waitForBrokerAck
  if (incarnation.retriedSendsPossible && !incarnation.runningWaitForBrokerAck) incarnation.orderGuaranteed = false
}

/**
 * The sink process started again: a running connector resumes as a new run, with the settings it has now (a
 * reconfigure takes effect at the next start, and a process start is one).
 */
export function resumeAfterRestart(incarnation: Incarnation): void {
  if (incarnation.state !== 'running') return
  incarnation.runningWaitForBrokerAck = incarnation.variant.waitForBrokerAck
  if (incarnation.retriedSendsPossible && !incarnation.runningWaitForBrokerAck) incarnation.orderGuaranteed = false
}

/** A Kafka fault: a send may be retried, so events may be sent twice (and, without broker acks, out of order). */
export function kafkaFault(model: SinkModel): void {
  model.faults += 1
  model.kafkaFaultOpen = true
  const incarnation = currentIncarnation(model)
  if (incarnation === undefined) return
  incarnation.retriedSendsPossible = true
  if (incarnation.state === 'running' && !incarnation.runningWaitForBrokerAck) incarnation.orderGuaranteed = false
}

/** A kill -9 may lose the last checkpoint: whatever was appended so far may be sent again. */
export function excuseResend(incarnation: Incarnation | undefined, model: SinkModel): void {
  if (incarnation !== undefined) incarnation.excusedUpTo = maxBigInt(incarnation.excusedUpTo, head(model))
}

export interface Figures {
  /** Events that were due in the topic at the evaluation. */
  readonly due: number
  /** Of those, how many Kafka holds. */
  readonly delivered: number
  readonly lost: number
  /** Copies beyond the first, over all events in the topic. */
  readonly duplicates: number
}

export interface Evaluation {
  readonly figures: Figures
  readonly violations: readonly string[]
}

/** One Kafka record as the oracle needs it: where it sits and which model event it carries. */
export interface DeliveredRecord {
  readonly partition: number
  readonly offset: number
  /** The `id` of the event's JSON data, or undefined when the value is not one of the model's events. */
  readonly eventId: string | undefined
}

/**
 * Compares an incarnation's topic with the model. `dueUpTo`: events after this position are not due yet (the
 * check appended markers up to it and waited for them). `checkpoint`: the committed position read before `records`
 * were read, so every due event at or before it must be among them.
 */
export function evaluate(
  model: SinkModel,
  incarnation: Incarnation,
  records: readonly DeliveredRecord[],
  options: { readonly dueUpTo: bigint; readonly checkpoint?: bigint | undefined },
): Evaluation {
  const violations: string[] = []
  const eventsById = new Map(model.events.map((event) => [event.id, event]))
  const copies = new Map<string, DeliveredRecord[]>()
  for (const record of records) {
    const event = record.eventId === undefined ? undefined : eventsById.get(record.eventId)
    if (event === undefined) {
      violations.push(`record at partition ${record.partition} offset ${record.offset} is no event the model appended (${record.eventId ?? 'unreadable value'})`)
      continue
    }
    let list = copies.get(event.id)
    if (list === undefined) copies.set(event.id, (list = []))
    list.push(record)
  }

  const isMatching = (event: ModelEvent) => matches(incarnation.variant.filter, model.namespace, event.stream)
  const isDue = (event: ModelEvent) => incarnation.from !== undefined && isMatching(event) && event.position > incarnation.from && event.position <= options.dueUpTo

  let duplicates = 0
  // A retried send may have copied anything appended so far, whether or not it is due yet.
  const excusedUpTo = incarnation.retriedSendsPossible ? maxBigInt(head(model), incarnation.excusedUpTo) : incarnation.excusedUpTo
  for (const [eventId, list] of copies) {
    const event = eventsById.get(eventId)!
    const where = `${event.id} (position ${event.position})`
    if (!isMatching(event)) violations.push(`${where} of a stream the filter does not match reached Kafka`)
    else if (incarnation.lowestFrom === undefined) violations.push(`${where} reached Kafka before the connector was ever started`)
    else if (event.position <= incarnation.lowestFrom) violations.push(`${where} is at or before the start point ${incarnation.lowestFrom} yet reached Kafka`)
    if (incarnation.deletedAfter !== undefined && event.position > incarnation.deletedAfter) {
      violations.push(`${where} was appended after incarnation ${incarnation.number} was deleted, yet reached its topic`)
    }
    if (list.length > 1) {
      duplicates += list.length - 1
      if (event.position > excusedUpTo) violations.push(`${where} is in Kafka ${list.length} times with no kill -9, re-delivery or retried send to explain it`)
    }
  }

  let due = 0
  let delivered = 0
  const missing: ModelEvent[] = []
  for (const event of model.events) {
    if (!isDue(event)) continue
    due += 1
    if (copies.has(event.id)) delivered += 1
    else missing.push(event)
  }
  if (missing.length > 0) {
    violations.push(`${missing.length} due event(s) missing from Kafka: ${missing.slice(0, 10).map((event) => `${event.id} (position ${event.position})`).join(', ')}`)
  }

  if (options.checkpoint !== undefined && incarnation.from !== undefined) {
    const uncovered = model.events.filter((event) => isMatching(event) && event.position > incarnation.from! && event.position <= options.checkpoint! && !copies.has(event.id))
    if (uncovered.length > 0) {
      violations.push(`the committed checkpoint ${options.checkpoint} is past ${uncovered.length} event(s) Kafka does not hold, e.g. ${uncovered.slice(0, 5).map((event) => event.id).join(', ')}`)
    }
  }

  if (incarnation.orderGuaranteed) violations.push(...orderViolations(records, eventsById, incarnation.orderExcusedUpTo))
  return { figures: { due, delivered, lost: missing.length, duplicates }, violations }
}

/**
 * Per stream: one partition, and reading it by offset, first copies come in append order; events at or before
 * `excusedUpTo` (asked for again by a start before the previous start point) are left out of the comparison.
 */
function orderViolations(records: readonly DeliveredRecord[], eventsById: ReadonlyMap<string, ModelEvent>, excusedUpTo: bigint): string[] {
  const violations: string[] = []
  const byStream = new Map<string, { record: DeliveredRecord; event: ModelEvent }[]>()
  for (const record of records) {
    const event = record.eventId === undefined ? undefined : eventsById.get(record.eventId)
    if (event === undefined) continue
    let list = byStream.get(event.stream)
    if (list === undefined) byStream.set(event.stream, (list = []))
    list.push({ record, event })
  }
  for (const [stream, list] of byStream) {
    const partitions = new Set(list.map(({ record }) => record.partition))
    if (partitions.size > 1) {
      violations.push(`stream ${stream} was written to several partitions (${[...partitions].join(', ')}), so its order is lost`)
      continue
    }
    list.sort((a, b) => a.record.offset - b.record.offset)
    const seen = new Set<string>()
    let last: ModelEvent | undefined
    for (const { record, event } of list) {
      if (seen.has(event.id) || event.position <= excusedUpTo) continue
      seen.add(event.id)
      if (last !== undefined && event.index < last.index) {
        violations.push(`stream ${stream}: ${event.id} (offset ${record.offset}) came after ${last.id}, out of append order`)
        break
      }
      last = event
    }
  }
  return violations
}

export function sumFigures(figures: readonly Figures[]): Figures {
  return figures.reduce((sum, next) => ({
    due: sum.due + next.due,
    delivered: sum.delivered + next.delivered,
    lost: sum.lost + next.lost,
    duplicates: sum.duplicates + next.duplicates,
  }), { due: 0, delivered: 0, lost: 0, duplicates: 0 })
}

function maxBigInt(a: bigint, b: bigint): bigint {
  return a > b ? a : b
}

function minBigInt(a: bigint, b: bigint): bigint {
  return a < b ? a : b
}
