/**
 * The oracle of the model-based test must be able to fail: each rule, fed a topic that breaks it, reports it.
 * Pure: no rig, no sink.
 */
import { describe, expect, test } from 'bun:test'
import { activate, addIncarnation, evaluate, excuseResend, kafkaFault, newModel, resumeAfterRestart, runStreams, type ConnectorVariant, type DeliveredRecord, type SinkModel } from './model.ts'

const variant: ConnectorVariant = { filter: 'prefix', initialPosition: 'earliest', keySource: 'default', waitForBrokerAck: true, recordsThreshold: 1000 }
const streams = runStreams('ns')

function modelWith(events: readonly (readonly [stream: string, position: number])[], changes: Partial<ConnectorVariant> = {}): SinkModel {
  const model = newModel('ns', 'model-ns')
  events.forEach(([stream, position], index) => model.events.push({ id: `${stream}/${index}`, stream, position: BigInt(position), index }))
  addIncarnation(model, 'topic', { ...variant, ...changes })
  return model
}

const record = (eventId: string, offset: number, partition = 0): DeliveredRecord => ({ partition, offset, eventId })

describe('the oracle', () => {
  test('a complete, ordered topic passes and its figures add up', () => {
    const model = modelWith([[streams.order1, 10], [streams.order2, 20], [streams.other1, 30]])
    const incarnation = model.incarnations[0]!
    activate(model, incarnation, { kind: 'start' })
    const result = evaluate(model, incarnation, [record(`${streams.order1}/0`, 0), record(`${streams.order2}/1`, 0, 1)], { dueUpTo: 30n, checkpoint: 20n })
    expect(result.violations).toEqual([])
    expect(result.figures).toEqual({ due: 2, delivered: 2, lost: 0, duplicates: 0 })
  })

  test('a missing due event is lost; a checkpoint past it is reported', () => {
    const model = modelWith([[streams.order1, 10], [streams.order1, 20]])
    const incarnation = model.incarnations[0]!
    activate(model, incarnation, { kind: 'start' })
    const result = evaluate(model, incarnation, [record(`${streams.order1}/1`, 0)], { dueUpTo: 20n, checkpoint: 20n })
    expect(result.figures.lost).toBe(1)
    expect(result.violations.some((violation) => violation.includes('missing from Kafka'))).toBe(true)
    expect(result.violations.some((violation) => violation.includes('checkpoint 20 is past 1 event'))).toBe(true)
  })

  test('latest: events before the first start are forbidden, later ones due', () => {
    const model = modelWith([[streams.order1, 10]], { initialPosition: 'latest' })
    const incarnation = model.incarnations[0]!
    activate(model, incarnation, { kind: 'start' })
    model.events.push({ id: `${streams.order1}/1`, stream: streams.order1, position: 20n, index: 1 })
    const result = evaluate(model, incarnation, [record(`${streams.order1}/0`, 0)], { dueUpTo: 20n })
    expect(result.violations.some((violation) => violation.includes('at or before the start point 10'))).toBe(true)
    expect(result.figures).toMatchObject({ due: 1, lost: 1 })
  })

  test('a non-matching stream and an unknown record are reported', () => {
    const model = modelWith([[streams.other1, 10]])
    const incarnation = model.incarnations[0]!
    activate(model, incarnation, { kind: 'start' })
    const result = evaluate(model, incarnation, [record(`${streams.other1}/0`, 0), record('stranger', 1)], { dueUpTo: 10n })
    expect(result.violations.some((violation) => violation.includes('does not match'))).toBe(true)
    expect(result.violations.some((violation) => violation.includes('no event the model appended'))).toBe(true)
  })

  test('a duplicate needs a cause: none, a kill -9, or a Kafka fault until the next check', () => {
    const model = modelWith([[streams.order1, 10]])
    const incarnation = model.incarnations[0]!
    activate(model, incarnation, { kind: 'start' })
    const twice = [record(`${streams.order1}/0`, 0), record(`${streams.order1}/0`, 1)]
    expect(evaluate(model, incarnation, twice, { dueUpTo: 10n }).violations.some((violation) => violation.includes('2 times'))).toBe(true)
    kafkaFault(model)
    expect(evaluate(model, incarnation, twice, { dueUpTo: 10n }).violations).toEqual([])
    incarnation.retriedSendsPossible = false
    excuseResend(incarnation, model)
    const result = evaluate(model, incarnation, twice, { dueUpTo: 10n })
    expect(result.violations).toEqual([])
    expect(result.figures.duplicates).toBe(1)
  })

  test('after a Kafka fault, copies are explained in a mid-flight safety check too (nothing due yet)', () => {
    const model = modelWith([[streams.order1, 10]])
    const incarnation = model.incarnations[0]!
    activate(model, incarnation, { kind: 'start' })
    kafkaFault(model)
    const twice = [record(`${streams.order1}/0`, 0), record(`${streams.order1}/0`, 1)]
    expect(evaluate(model, incarnation, twice, { dueUpTo: -1n }).violations).toEqual([])
  })

  test('a Kafka fault before a re-create voids the order of the new incarnation when it does not wait for broker acks', () => {
    const model = modelWith([[streams.order1, 10], [streams.order1, 20]])
    kafkaFault(model)
    const recreated = addIncarnation(model, 'topic-2', { ...variant, waitForBrokerAck: false })
    activate(model, recreated, { kind: 'start' })
    const swapped = [record(`${streams.order1}/1`, 0), record(`${streams.order1}/0`, 1)]
    expect(evaluate(model, recreated, swapped, { dueUpTo: 20n }).violations).toEqual([])
  })

  test('first copies out of append order, or a stream over two partitions, are reported unless the order was voided', () => {
    const model = modelWith([[streams.order1, 10], [streams.order1, 20]])
    const incarnation = model.incarnations[0]!
    activate(model, incarnation, { kind: 'start' })
    const swapped = [record(`${streams.order1}/1`, 0), record(`${streams.order1}/0`, 1)]
    expect(evaluate(model, incarnation, swapped, { dueUpTo: 20n }).violations.some((violation) => violation.includes('out of append order'))).toBe(true)
    const split = [record(`${streams.order1}/0`, 0, 0), record(`${streams.order1}/1`, 0, 1)]
    expect(evaluate(model, incarnation, split, { dueUpTo: 20n }).violations.some((violation) => violation.includes('several partitions'))).toBe(true)
    incarnation.orderGuaranteed = false
    expect(evaluate(model, incarnation, swapped, { dueUpTo: 20n }).violations).toEqual([])
  })

  test('a reconfigured waitForBrokerAck takes effect when the process restarts: a later Kafka fault voids the order', () => {
    const model = modelWith([[streams.order1, 10], [streams.order1, 20]])
    const incarnation = model.incarnations[0]!
    activate(model, incarnation, { kind: 'start' })
    const swapped = [record(`${streams.order1}/1`, 0), record(`${streams.order1}/0`, 1)]
    incarnation.variant = { ...incarnation.variant, waitForBrokerAck: false }
    kafkaFault(model)
    // Still the running activation's setting (true): order holds through the fault.
    expect(evaluate(model, incarnation, swapped, { dueUpTo: 20n }).violations.some((violation) => violation.includes('out of append order'))).toBe(true)
    resumeAfterRestart(incarnation)
    expect(evaluate(model, incarnation, swapped, { dueUpTo: 20n }).violations).toEqual([])
  })

  test('a deleted incarnation: nothing appended after the delete may reach its topic', () => {
    const model = modelWith([[streams.order1, 10]])
    const incarnation = model.incarnations[0]!
    activate(model, incarnation, { kind: 'start' })
    incarnation.deletedAfter = 10n
    model.events.push({ id: `${streams.order1}/1`, stream: streams.order1, position: 20n, index: 1 })
    const result = evaluate(model, incarnation, [record(`${streams.order1}/0`, 0), record(`${streams.order1}/1`, 1)], { dueUpTo: -1n })
    expect(result.violations.some((violation) => violation.includes('after incarnation 1 was deleted'))).toBe(true)
  })

  test('start at a position: only later events are due, and earlier copies become requested re-deliveries', () => {
    const model = modelWith([[streams.order1, 10], [streams.order1, 20], [streams.order1, 30]])
    const incarnation = model.incarnations[0]!
    activate(model, incarnation, { kind: 'start' })
    incarnation.state = 'stopped'
    activate(model, incarnation, { kind: 'at', position: 20n })
    const records = [record(`${streams.order1}/0`, 0), record(`${streams.order1}/1`, 1), record(`${streams.order1}/2`, 2), record(`${streams.order1}/2`, 3)]
    const result = evaluate(model, incarnation, records, { dueUpTo: 30n })
    expect(result.violations).toEqual([])
    expect(result.figures).toEqual({ due: 1, delivered: 1, lost: 0, duplicates: 1 })
  })

  test('a start before the previous start point: what was never read comes after, later events keep their order', () => {
    // Order-1 at 10, 20, 30, 40. A reset at 20 reads 30 and 40; a start at 10 then reads 20 (never read before),
    // 30 and 40 again; 50 and 60 are appended after it.
    const model = modelWith([[streams.order1, 10], [streams.order1, 20], [streams.order1, 30], [streams.order1, 40]])
    const incarnation = model.incarnations[0]!
    activate(model, incarnation, { kind: 'at', position: 20n })
    incarnation.state = 'stopped'
    activate(model, incarnation, { kind: 'at', position: 10n })
    model.events.push({ id: `${streams.order1}/4`, stream: streams.order1, position: 50n, index: 4 })
    model.events.push({ id: `${streams.order1}/5`, stream: streams.order1, position: 60n, index: 5 })
    const [at20, at30, at40, at50, at60] = [1, 2, 3, 4, 5].map((index) => `${streams.order1}/${index}`) as [string, string, string, string, string]
    const asRead = [record(at30, 0), record(at40, 1), record(at20, 2), record(at30, 3), record(at40, 4), record(at50, 5), record(at60, 6)]
    expect(evaluate(model, incarnation, asRead, { dueUpTo: 60n }).violations).toEqual([])
    // Events appended after that start are still held to append order.
    const swappedLater = [record(at30, 0), record(at40, 1), record(at20, 2), record(at30, 3), record(at40, 4), record(at60, 5), record(at50, 6)]
    expect(evaluate(model, incarnation, swappedLater, { dueUpTo: 60n }).violations.some((violation) => violation.includes(`${at50} (offset 6) came after ${at60}`))).toBe(true)

    // A start after the previous start point excuses nothing.
    const forward = modelWith([[streams.order1, 10], [streams.order1, 20], [streams.order1, 30]])
    const forwardIncarnation = forward.incarnations[0]!
    activate(forward, forwardIncarnation, { kind: 'at', position: 10n })
    forwardIncarnation.state = 'stopped'
    activate(forward, forwardIncarnation, { kind: 'at', position: 20n })
    const swapped = [record(`${streams.order1}/2`, 0), record(`${streams.order1}/1`, 1)]
    expect(evaluate(forward, forwardIncarnation, swapped, { dueUpTo: 30n }).violations.some((violation) => violation.includes('out of append order'))).toBe(true)
  })
})
