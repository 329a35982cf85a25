/**
 * The commands of the model-based test: management API calls, appends, process and infrastructure faults, and the
 * check that compares Kafka (read with kcat) with the model. Each command states what the documentation says the
 * answer is, applies the documented effect to the model, and fails with the reason when the sink disagrees.
 */
import fc from 'fast-check'
import { uniqueTopicName, type KafkaErrorName } from '../../support/kafka-test-broker.ts'
import type { ApiResponse } from '../../support/sink-process.ts'
import {
  activate,
  addIncarnation,
  allStreams,
  connectorSettings,
  currentIncarnation,
  evaluate,
  excuseResend,
  resumeAfterRestart,
  head,
  kafkaFault,
  matches,
  type Activation,
  type ConnectorVariant,
  type Incarnation,
  type Reconfiguration,
  type SinkModel,
} from './model.ts'
import type { ModelSystem } from './system.ts'

export type SinkCommand = fc.AsyncCommand<SinkModel, ModelSystem>

/** How long a fault lasts: long enough for the sink to meet it with records in flight. */
const faultMs = 1_500
const running = 'CONNECTOR_STATE_RUNNING'
const stopped = 'CONNECTOR_STATE_STOPPED'

class ModelViolation extends Error {}

function expectStatus(response: ApiResponse, expected: number, what: string): void {
  if (response.status !== expected) throw new ModelViolation(`${what}: expected HTTP ${expected}, got ${response.status} ${response.text.slice(0, 300)}`)
}

/** The status the documentation gives a command on an id that does not exist or was deleted. */
const notFound = 404
/** A command the connector's state does not allow (FailedPrecondition). */
const wrongState = 400

async function waitForState(system: ModelSystem, model: SinkModel, state: string): Promise<Record<string, unknown>> {
  const connector = await system.api().waitForState(model.connectorId, state, 30_000)
  if (connector.errorDetails !== undefined) throw new ModelViolation(`connector ${model.connectorId} is ${state} with errorDetails ${JSON.stringify(connector.errorDetails)}`)
  return connector
}

async function committedPosition(system: ModelSystem, model: SinkModel): Promise<bigint | undefined> {
  return positionOf(await system.api().connector(model.connectorId))
}

/** The committed position a connector's API view shows, if it has one. */
function positionOf(connector: { readonly position?: unknown } | undefined): bigint | undefined {
  const position = connector?.position
  return typeof position === 'string' || typeof position === 'number' ? BigInt(position) : undefined
}

/** What Kafka holds must be consistent with the model even mid-flight: nothing forbidden, checkpoint covered. */
async function checkSafety(system: ModelSystem, model: SinkModel, incarnation: Incarnation, checkpoint: bigint | undefined, when: string): Promise<void> {
  const records = await system.readTopic(incarnation.topic)
  const { violations } = evaluate(model, incarnation, records, { dueUpTo: -1n, checkpoint })
  if (violations.length > 0) throw new ModelViolation(`${when}: ${violations.join('; ')}`)
}

export class CreateCommand implements SinkCommand {
  constructor(readonly variant: ConnectorVariant) {}
  check = () => true
  async run(model: SinkModel, system: ModelSystem): Promise<void> {
    const existing = currentIncarnation(model)
    const topic = uniqueTopicName('model')
    const settings = connectorSettings(this.variant, model.namespace, topic, system.rig.broker.bootstrapServers)
    if (existing !== undefined) {
      expectStatus(await system.api().request('POST', `/connectors/${model.connectorId}`, { settings }), 409, 'create of an existing id')
      return
    }
    await system.rig.broker.createTopic(topic, { partitions: 3, replicationFactor: 3 })
    expectStatus(await system.api().request('POST', `/connectors/${model.connectorId}`, { settings }), 200, 'create')
    addIncarnation(model, topic, this.variant)
  }
  toString = () => `create(${JSON.stringify(this.variant)})`
}

export class ActivateCommand implements SinkCommand {
  constructor(readonly kind: 'start' | 'reset', readonly pick: number | undefined) {}
  check = (model: Readonly<SinkModel>) => this.pick === undefined || model.events.length > 0
  async run(model: SinkModel, system: ModelSystem): Promise<void> {
    const incarnation = currentIncarnation(model)
    const position = this.pick === undefined ? undefined : model.events[this.pick % model.events.length]!.position
    const path = `/connectors/${model.connectorId}/${this.kind}${position === undefined ? '' : `/${position}`}`
    const response = await system.api().request('POST', path)
    if (incarnation === undefined) return expectStatus(response, notFound, `${this.kind} of a missing connector`)
    if (incarnation.state === 'running') return expectStatus(response, wrongState, `${this.kind} of a running connector`)
    expectStatus(response, 200, `POST ${path}`)
    const activation: Activation = position !== undefined ? { kind: 'at', position } : { kind: this.kind }
    activate(model, incarnation, activation)
    await waitForState(system, model, running)
  }
  toString = () => `${this.kind}${this.pick === undefined ? '' : `At(event #${this.pick})`}`
}

export class StopCommand implements SinkCommand {
  check = () => true
  async run(model: SinkModel, system: ModelSystem): Promise<void> {
    const incarnation = currentIncarnation(model)
    const response = await system.api().request('POST', `/connectors/${model.connectorId}/stop`)
    if (incarnation === undefined) return expectStatus(response, notFound, 'stop of a missing connector')
    expectStatus(response, 200, 'stop')
    const wasRunning = incarnation.state === 'running'
    incarnation.state = 'stopped'
    await waitForState(system, model, stopped)
    if (wasRunning) await checkSafety(system, model, incarnation, await committedPosition(system, model), 'after a graceful stop')
  }
  toString = () => 'stop'
}

export class ReconfigureCommand implements SinkCommand {
  constructor(readonly change: Reconfiguration) {}
  check = () => true
  async run(model: SinkModel, system: ModelSystem): Promise<void> {
    const incarnation = currentIncarnation(model)
    const base = incarnation?.variant ?? { filter: 'prefix', initialPosition: 'earliest', keySource: 'default', waitForBrokerAck: true, recordsThreshold: 1000 }
    const variant: ConnectorVariant = { ...base, ...this.change }
    const settings = connectorSettings(variant, model.namespace, incarnation?.topic ?? uniqueTopicName('model'), system.rig.broker.bootstrapServers)
    const response = await system.api().request('PUT', `/connectors/${model.connectorId}/settings`, settings)
    if (incarnation === undefined) return expectStatus(response, notFound, 'reconfigure of a missing connector')
    expectStatus(response, 200, 'reconfigure')
    incarnation.variant = variant
  }
  toString = () => `reconfigure(${JSON.stringify(this.change)})`
}

export class DeleteCommand implements SinkCommand {
  check = () => true
  async run(model: SinkModel, system: ModelSystem): Promise<void> {
    const incarnation = currentIncarnation(model)
    const response = await system.api().request('DELETE', `/connectors/${model.connectorId}`)
    if (incarnation === undefined) return expectStatus(response, notFound, 'delete of a missing connector')
    if (incarnation.state === 'running') return expectStatus(response, wrongState, 'delete of a running connector')
    expectStatus(response, 200, 'delete')
    incarnation.deletedAfter = head(model)
  }
  toString = () => 'delete'
}

/** Stop (when running), delete, and create again with the same id and new settings: a new incarnation. */
export class RecreateCommand implements SinkCommand {
  constructor(readonly variant: ConnectorVariant) {}
  check = (model: Readonly<SinkModel>) => currentIncarnation(model as SinkModel) !== undefined
  async run(model: SinkModel, system: ModelSystem): Promise<void> {
    if (currentIncarnation(model)!.state === 'running') await new StopCommand().run(model, system)
    await new DeleteCommand().run(model, system)
    await new CreateCommand(this.variant).run(model, system)
  }
  toString = () => `recreate(${JSON.stringify(this.variant)})`
}

export class AppendCommand implements SinkCommand {
  constructor(readonly streamPick: number, readonly count: number) {}
  check = () => true
  async run(model: SinkModel, system: ModelSystem): Promise<void> {
    const stream = allStreams(model.streams)[this.streamPick % 3]!
    for (let index = 0; index < this.count; index++) await system.append(model, stream)
  }
  toString = () => `append(${['Order-1', 'Order-2', 'Other-1'][this.streamPick % 3]}, ${this.count})`
}

export class RestartSinkCommand implements SinkCommand {
  /** `appendWhileDown` events go to Order-1 between the end of the old process and the start of the new one. */
  constructor(readonly signal: 'SIGKILL' | 'SIGTERM', readonly appendWhileDown: number = 0) {}
  check = () => true
  async run(model: SinkModel, system: ModelSystem): Promise<void> {
    model.faults += 1
    const incarnation = currentIncarnation(model)
    const checkpoint = incarnation?.state === 'running' ? await committedPosition(system, model) : undefined
    await system.restartSink(this.signal, async () => {
      if (this.signal === 'SIGKILL') excuseResend(incarnation, model)
      if (this.appendWhileDown > 0) await new AppendCommand(0, this.appendWhileDown).run(model, system)
    })
    if (incarnation === undefined) return
    resumeAfterRestart(incarnation)
    await checkSafety(system, model, incarnation, checkpoint, `after ${this.signal}`)
    // Running connectors resume when the process starts again; stopped ones stay stopped.
    await waitForState(system, model, incarnation.state === 'running' ? running : stopped)
  }
  toString = () => `restartSink(${this.signal}${this.appendWhileDown > 0 ? `, append Order-1 ×${this.appendWhileDown} while down` : ''})`
}

export class AllBrokersDownCommand implements SinkCommand {
  constructor(readonly streamPick: number) {}
  check = () => true
  async run(model: SinkModel, system: ModelSystem): Promise<void> {
    kafkaFault(model)
    await system.rig.broker.setAllBrokersDown()
    try {
      await new AppendCommand(this.streamPick, 2).run(model, system)
      await Bun.sleep(faultMs)
    } finally {
      await system.rig.broker.setAllBrokersUp()
    }
  }
  toString = () => `allBrokersDownThenUp(append ${['Order-1', 'Order-2', 'Other-1'][this.streamPick % 3]} ×2)`
}

export class OneBrokerDownCommand implements SinkCommand {
  constructor(readonly brokerId: number, readonly streamPick: number) {}
  check = () => true
  async run(model: SinkModel, system: ModelSystem): Promise<void> {
    kafkaFault(model)
    await system.rig.broker.setBrokerDown(this.brokerId)
    try {
      await new AppendCommand(this.streamPick, 2).run(model, system)
      await Bun.sleep(faultMs)
    } finally {
      await system.rig.broker.setBrokerUp(this.brokerId)
    }
  }
  toString = () => `brokerDownThenUp(${this.brokerId})`
}

/** Transient errors: the ones the documentation lists as retried, plus Kafka's retriable leadership error and a dropped connection. */
export const transientProduceErrors: readonly KafkaErrorName[] = ['UNKNOWN_PRODUCER_ID', 'OUT_OF_ORDER_SEQUENCE_NUMBER', 'NOT_LEADER_OR_FOLLOWER', 'DISCONNECT']

export class ProduceErrorsCommand implements SinkCommand {
  constructor(readonly errors: readonly KafkaErrorName[], readonly streamPick: number) {}
  check = () => true
  async run(model: SinkModel, system: ModelSystem): Promise<void> {
    kafkaFault(model)
    await system.rig.broker.pushRequestErrors('Produce', this.errors)
    await new AppendCommand(this.streamPick, 2).run(model, system)
  }
  toString = () => `produceErrors(${this.errors.join(',')})`
}

export class KurrentDbDownCommand implements SinkCommand {
  check = () => true
  async run(model: SinkModel, system: ModelSystem): Promise<void> {
    model.faults += 1
    await system.rig.emulator.down()
    try {
      await Bun.sleep(faultMs)
    } finally {
      await system.rig.emulator.up()
    }
  }
  toString = () => 'kurrentDbDownThenUp'
}

/**
 * The oracle: with the connector running, append a marker to every stream it matches, wait until kcat sees them
 * (a positive bound for every negative check), read the committed position, read the topic again, and compare.
 */
export class CheckCommand implements SinkCommand {
  check = (model: Readonly<SinkModel>) => currentIncarnation(model as SinkModel)?.state === 'running'
  async run(model: SinkModel, system: ModelSystem): Promise<void> {
    await checkRunningIncarnation(model, system)
  }
  toString = () => 'check'
}

export async function checkRunningIncarnation(model: SinkModel, system: ModelSystem): Promise<void> {
  const incarnation = currentIncarnation(model)!
  const markers = []
  for (const stream of allStreams(model.streams)) {
    if (matches(incarnation.variant.filter, model.namespace, stream)) markers.push(await system.append(model, stream))
  }
  const dueUpTo = head(model)
  const markerIds = new Set(markers.map((marker) => marker.id))
  await system.readTopic(incarnation.topic, (records) => [...markerIds].every((id) => records.some((record) => record.eventId === id)))
  if (!incarnation.orderGuaranteed && markers.length > 0) {
    // Without per-key order (no broker acks, after a Kafka fault) a re-sent earlier event may land after the markers
    // (the README's waitForBrokerAck), so their arrival bounds nothing before them. The committed position does: it
    // moves only past events Kafka confirmed, so once it covers the last marker every due event is in Kafka, and an
    // event it passes that Kafka lacks is lost. Bounded: if it never gets there, the events still absent are reported.
    // The markers were appended last: the head is the last marker's position.
    const deadline = Date.now() + 30_000
    while (((await committedPosition(system, model)) ?? -1n) < dueUpTo && Date.now() < deadline) await Bun.sleep(200)
  }
  system.sampleRss()
  const connector = await system.api().connector(model.connectorId)
  const checkpoint = positionOf(connector)
  const records = await system.readTopic(incarnation.topic)
  const evaluation = evaluate(model, incarnation, records, { dueUpTo, checkpoint })
  const violations = [...evaluation.violations]
  incarnation.lastFigures = evaluation.figures
  if (connector?.state !== running) violations.push(`connector is ${String(connector?.state)}, not RUNNING`)
  if (connector?.errorDetails !== undefined) violations.push(`connector shows errorDetails ${JSON.stringify(connector.errorDetails)}`)
  // It just delivered the markers: its confirmed position moved, so it must not call itself stalled.
  if (connector?.stalled !== undefined) violations.push(`connector shows stalled ${JSON.stringify(connector.stalled)} right after delivering`)
  if (violations.length > 0) {
    const warnings = system.sink().lines().filter((line) => /"level":"(warn|error)"/.test(line)).slice(-3)
    throw new ModelViolation(`check of incarnation ${incarnation.number} (${JSON.stringify(incarnation.variant)}, from ${incarnation.from}): ${violations.join('; ')}${warnings.length > 0 ? `; last sink warnings: ${warnings.join(' ')}` : ''}`)
  }
  // Every queued error was met or is dropped now: later copies need a new fault to be explained.
  await system.rig.broker.clearRequestErrors('Produce')
  if (incarnation.retriedSendsPossible) excuseResend(incarnation, model)
  incarnation.retriedSendsPossible = false
  model.kafkaFaultOpen = false
}

/** The end of every run: faults healed, the connector running, one last check; deleted topics got nothing new. */
export async function finalCheck(model: SinkModel, system: ModelSystem): Promise<void> {
  await system.heal()
  const incarnation = currentIncarnation(model)
  if (incarnation !== undefined) {
    if (incarnation.state === 'stopped') await new ActivateCommand('start', undefined).run(model, system)
    await checkRunningIncarnation(model, system)
  }
  for (const old of model.incarnations) {
    if (old.deletedAfter !== undefined) await checkSafety(system, model, old, undefined, `topic of deleted incarnation ${old.number}`)
  }
}

/** Best effort: stop and delete the run's connector so later runs do not share the machine with it. */
export async function cleanUp(model: SinkModel, system: ModelSystem): Promise<void> {
  const api = system.api()
  await api.request('POST', `/connectors/${model.connectorId}/stop`).catch(() => undefined)
  await api.waitForState(model.connectorId, stopped, 30_000).catch(() => undefined)
  await api.request('DELETE', `/connectors/${model.connectorId}`).catch(() => undefined)
}

export const variantArbitrary: fc.Arbitrary<ConnectorVariant> = fc.record({
  filter: fc.constantFrom('streamId', 'prefix', 'regex'),
  initialPosition: fc.constantFrom('latest', 'earliest'),
  keySource: fc.constantFrom('default', 'stream', 'streamSuffix', 'headers'),
  waitForBrokerAck: fc.boolean(),
  recordsThreshold: fc.constantFrom(1, 3, 1000),
})

export interface CommandWeights {
  /** Weight of each fault command (process restarts, Kafka and KurrentDB outages, injected errors). */
  readonly fault: number
}

export function commandArbitrary(weights: CommandWeights): fc.Arbitrary<SinkCommand> {
  const stream = fc.nat({ max: 2 })
  const pick = fc.nat({ max: 1_000 })
  const command = <T extends SinkCommand>(weight: number, arbitrary: fc.Arbitrary<T>) => ({ weight, arbitrary: arbitrary as fc.Arbitrary<SinkCommand> })
  return fc.oneof(
    command(6, fc.tuple(stream, fc.integer({ min: 1, max: 4 })).map(([streamPick, count]) => new AppendCommand(streamPick, count))),
    command(4, fc.constant(null).map(() => new ActivateCommand('start', undefined))),
    command(3, fc.constant(null).map(() => new CheckCommand())),
    command(2, fc.constant(null).map(() => new StopCommand())),
    command(1, pick.map((index) => new ActivateCommand('start', index))),
    command(1, fc.constant(null).map(() => new ActivateCommand('reset', undefined))),
    command(1, pick.map((index) => new ActivateCommand('reset', index))),
    command(1, fc.record({ waitForBrokerAck: fc.boolean(), recordsThreshold: fc.constantFrom(1, 3, 1000) }).map((change) => new ReconfigureCommand(change))),
    command(1, fc.constant(null).map(() => new DeleteCommand())),
    command(1, variantArbitrary.map((variant) => new CreateCommand(variant))),
    command(2, variantArbitrary.map((variant) => new RecreateCommand(variant))),
    command(weights.fault, fc.tuple(fc.constantFrom<'SIGKILL' | 'SIGTERM'>('SIGKILL', 'SIGTERM'), fc.nat({ max: 3 })).map(([signal, count]) => new RestartSinkCommand(signal, count))),
    command(weights.fault, stream.map((streamPick) => new AllBrokersDownCommand(streamPick))),
    command(weights.fault, fc.tuple(fc.integer({ min: 1, max: 3 }), stream).map(([id, streamPick]) => new OneBrokerDownCommand(id, streamPick))),
    command(weights.fault, fc.tuple(fc.subarray([...transientProduceErrors], { minLength: 1 }), stream).map(([errors, streamPick]) => new ProduceErrorsCommand(errors, streamPick))),
    command(weights.fault, fc.constant(null).map(() => new KurrentDbDownCommand())),
  )
}
