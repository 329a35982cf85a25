import { describe, expect, test } from 'bun:test'
import { applyHistoryEvent, historyEventTypeOf, isCurrentRuntimeEvent, storedEventType, type ConnectorRecord, type HistoryEvent } from '../../../src/connectors/connector-history.ts'

function fold(events: HistoryEvent[]): ConnectorRecord | undefined {
  let record: ConnectorRecord | undefined
  events.forEach((event, revision) => (record = applyHistoryEvent(record, 'orders', event, BigInt(revision))))
  return record
}

const created: HistoryEvent = { type: 'created', name: 'Orders', settings: { topic: 'a' }, timestamp: 't0' }

describe('connector history', () => {
  test('the lifecycle: created → activating → running → deactivating → stopped', () => {
    const record = fold([
      created,
      { type: 'activating', activation: 1, timestamp: 't1' },
      { type: 'running', activation: 1, timestamp: 't2' },
      { type: 'reconfigured', settings: { topic: 'b' }, timestamp: 't3' },
      { type: 'deactivating', timestamp: 't4' },
      { type: 'stopped', activation: 1, timestamp: 't5' },
    ])!
    expect(record).toMatchObject({ state: 'CONNECTOR_STATE_STOPPED', stateUpdateTime: 't5', settings: { topic: 'b' }, settingsUpdateTime: 't3', createTime: 't0', updateTime: 't5', activation: 1, revision: 5n })
  })

  test('a failure stops the connector with its error; the next start clears it', () => {
    const failed = fold([created, { type: 'activating', activation: 1, timestamp: 't1' }, { type: 'failed', activation: 1, errorDetails: { code: 'MESSAGE_TOO_LARGE', message: 'm' }, timestamp: 't2' }])!
    expect(failed.state).toBe('CONNECTOR_STATE_STOPPED')
    expect(failed.errorDetails).toEqual({ code: 'MESSAGE_TOO_LARGE', message: 'm' })
    const restarted = applyHistoryEvent(failed, 'orders', { type: 'activating', activation: 2, timestamp: 't3' }, 3n)!
    expect(restarted.errorDetails).toBeUndefined()
  })

  test('deleted keeps the record; a new create starts a new life but keeps counting runs', () => {
    const deleted = fold([created, { type: 'activating', activation: 1, timestamp: 't1' }, { type: 'stopped', activation: 1, timestamp: 't2' }, { type: 'deleted', timestamp: 't3' }])!
    expect(deleted.deleteTime).toBe('t3')
    const recreated = applyHistoryEvent(deleted, 'orders', created, 4n)!
    expect(recreated.deleteTime).toBeUndefined()
    expect(recreated.activation).toBe(1)
  })

  test('news from an older run is stale and must not be recorded', () => {
    const running = fold([created, { type: 'activating', activation: 2, timestamp: 't1' }, { type: 'running', activation: 2, timestamp: 't2' }])!
    expect(isCurrentRuntimeEvent(running, { type: 'stopped', activation: 1, timestamp: 't3' })).toBe(false)
    expect(isCurrentRuntimeEvent(running, { type: 'stopped', activation: 2, timestamp: 't3' })).toBe(true)
    expect(isCurrentRuntimeEvent(running, { type: 'running', activation: 2, timestamp: 't3' })).toBe(false)
    const stopped = applyHistoryEvent(running, 'orders', { type: 'stopped', activation: 2, timestamp: 't3' }, 3n)!
    expect(isCurrentRuntimeEvent(stopped, { type: 'failed', activation: 2, errorDetails: { code: 'x', message: 'y' }, timestamp: 't4' })).toBe(false)
  })

  test('event types are $kafka-sink-connector-<type> and read back', () => {
    expect(storedEventType('created')).toBe('$kafka-sink-connector-created')
    expect(historyEventTypeOf('$kafka-sink-connector-running')).toBe('running')
    expect(historyEventTypeOf('$kafka-sink-checkpoint')).toBeUndefined()
  })
})
