// The supervisor's races, through its public contract (activate / deactivate) with the real connector store on the
// in-process KurrentDB emulator. The lease is the hook that holds a run inside `prepare`: preparing writes the
// start checkpoint, and that write waits for `lease.untilValid()`.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { randomUUID } from 'node:crypto'
import { createConnectorStore } from '../../../src/connectors/connector-store.ts'
import { createConnectorSupervisor, type ConnectorSupervisor, type RunReport } from '../../../src/connectors/connector-supervisor.ts'
import type { LeaseHandle } from '../../../src/connectors/ownership-coordinator.ts'
import { silentLogger } from '../../../src/observability/logger.ts'
import { createSinkMetrics } from '../../../src/observability/metrics.ts'
import type { KafkaPort, KafkaProducerConfig } from '../../../src/sink/kafka/port.ts'
import { connectToKurrentDb, type KurrentDbConnection } from '../../../src/source/kurrentdb-connection.ts'
import { startKurrentDbEmulator, type KurrentDbEmulator } from '../../support/kurrentdb-emulator.ts'
import { appendSequence, scriptedKafka, type ScriptedKafka } from './scripted-kafka.ts'

let emulator: KurrentDbEmulator
let connection: KurrentDbConnection
beforeAll(async () => {
  emulator = await startKurrentDbEmulator()
  connection = connectToKurrentDb(emulator.connectionString)
})
afterAll(async () => {
  await connection?.dispose()
  await emulator?.close()
})

/** A lease that is valid, except that `untilValid` waits while `hold` is set. */
function scriptedLease(connectorId: string) {
  let release: () => void = () => {}
  let held: Promise<void> | undefined
  let untilValidCalled: () => void = () => {}
  const calledOnce = new Promise<void>((resolve) => (untilValidCalled = resolve))
  const lease: LeaseHandle = {
    connectorId,
    term: 1,
    isValid: () => held === undefined,
    untilValid: () => {
      untilValidCalled()
      return held ?? Promise.resolve()
    },
    confirm: async () => true,
    lost: new Promise(() => {}),
  }
  return {
    lease,
    untilValidCalled: calledOnce,
    hold: () => void (held = new Promise<void>((resolve) => (release = resolve))),
    release: () => {
      held = undefined
      release()
    },
  }
}

function recordingReport() {
  const events: string[] = []
  let onRunning: () => void = () => {}
  const running = new Promise<void>((resolve) => (onRunning = resolve))
  const report: RunReport = {
    onRunning: () => {
      events.push('running')
      onRunning()
    },
    onCommitted: () => void events.push('committed'),
    onStalled: () => {},
    onEnded: (outcome) => void events.push(outcome.failure === undefined ? `ended requested=${outcome.requested}` : `failed ${outcome.failure.code}`),
  }
  return { report, events, running }
}

function supervisorWith(openKafka: (config: KafkaProducerConfig) => KafkaPort): ConnectorSupervisor {
  return createConnectorSupervisor({ connection, store: createConnectorStore(connection), secretBox: undefined, openKafka, logger: silentLogger, metrics: createSinkMetrics(), tuning: { stopGraceMs: 500 } })
}

const settingsFor = (stream: string) => ({
  instanceTypeName: 'kafka-sink',
  topic: 'orders',
  bootstrapServers: 'localhost:9092',
  'subscription:filter:scope': 'stream',
  'subscription:filter:filterType': 'streamId',
  'subscription:filter:expression': stream,
})

describe('connector supervisor races', () => {
  test('a stop while the run is preparing ends it before Kafka is opened', async () => {
    const connectorId = `prep-${randomUUID().slice(0, 8)}`
    const stream = `prep-${randomUUID().slice(0, 8)}`
    await appendSequence(connection.client, stream, 3)
    let opened = 0
    const kafka = scriptedKafka()
    const supervisor = supervisorWith(() => {
      opened++
      return kafka.open()
    })
    const lease = scriptedLease(connectorId)
    lease.hold()
    const { report, events } = recordingReport()
    supervisor.activate({ connectorId, settings: settingsFor(stream), activation: 1, explicitStart: undefined, lease: lease.lease, report })
    await lease.untilValidCalled // inside prepare, writing the start checkpoint
    const stopped = supervisor.deactivate(connectorId)
    lease.release()
    await stopped
    expect(opened).toBe(0)
    expect(supervisor.isActive(connectorId)).toBe(false)
    expect(events).toEqual(['ended requested=true'])
  })

  test('a start while the previous run is ending waits for it to end before opening Kafka', async () => {
    const connectorId = `overlap-${randomUUID().slice(0, 8)}`
    const controlId = `control-${randomUUID().slice(0, 8)}`
    const stream = `overlap-${randomUUID().slice(0, 8)}`
    await appendSequence(connection.client, stream, 3)
    const timeline: string[] = []
    const kafkas: ScriptedKafka[] = []
    let releaseFirstClose!: () => void
    const firstCloseHeld = new Promise<void>((resolve) => (releaseFirstClose = resolve))
    const supervisor = supervisorWith((config) => {
      const kafka = scriptedKafka()
      kafka.behaviour = (send) => send.answer('deliverAll')
      if (config.clientId === `kafka-sink-${controlId}`) {
        timeline.push('open control')
        return kafka.open()
      }
      const run = kafkas.push(kafka)
      timeline.push(`open ${run}`)
      const port = kafka.open()
      return {
        ...port,
        close: async (options) => {
          timeline.push(`close ${run}`)
          if (run === 1) await firstCloseHeld
          await port.close(options)
          timeline.push(`closed ${run}`)
        },
      }
    })
    const first = recordingReport()
    supervisor.activate({ connectorId, settings: settingsFor(stream), activation: 1, explicitStart: undefined, lease: scriptedLease(connectorId).lease, report: first.report })
    await first.running
    const firstStopped = supervisor.deactivate(connectorId)
    const second = recordingReport()
    supervisor.activate({ connectorId, settings: settingsFor(stream), activation: 2, explicitStart: undefined, lease: scriptedLease(connectorId).lease, report: second.report })
    // A positive marker: another connector activated after the second run has prepared and opened Kafka, so the
    // second run, had it not waited, would have opened Kafka too.
    const control = recordingReport()
    supervisor.activate({ connectorId: controlId, settings: settingsFor(stream), activation: 1, explicitStart: undefined, lease: scriptedLease(controlId).lease, report: control.report })
    await control.running
    expect(timeline.includes('close 1')).toBe(true)
    expect(timeline.filter((entry) => entry.startsWith('open'))).toEqual(['open 1', 'open control'])
    releaseFirstClose()
    await firstStopped
    await second.running
    expect(timeline.indexOf('open 2')).toBeGreaterThan(timeline.indexOf('closed 1'))
    expect(supervisor.activeActivation(connectorId)).toBe(2)
    await Promise.all([supervisor.deactivate(connectorId), supervisor.deactivate(controlId)])
  })

  test('a stop while waiting for the previous run to end: the new run never starts', async () => {
    const connectorId = `queued-${randomUUID().slice(0, 8)}`
    const stream = `queued-${randomUUID().slice(0, 8)}`
    await appendSequence(connection.client, stream, 1)
    let opened = 0
    let releaseClose!: () => void
    const closeHeld = new Promise<void>((resolve) => (releaseClose = resolve))
    let closing!: () => void
    const closeCalled = new Promise<void>((resolve) => (closing = resolve))
    const supervisor = supervisorWith(() => {
      opened++
      const kafka = scriptedKafka()
      kafka.behaviour = (send) => send.answer('deliverAll')
      const port = kafka.open()
      return { ...port, close: async () => (closing(), closeHeld) }
    })
    const first = recordingReport()
    supervisor.activate({ connectorId, settings: settingsFor(stream), activation: 1, explicitStart: undefined, lease: scriptedLease(connectorId).lease, report: first.report })
    await first.running
    const firstStopped = supervisor.deactivate(connectorId)
    await closeCalled
    const second = recordingReport()
    supervisor.activate({ connectorId, settings: settingsFor(stream), activation: 2, explicitStart: undefined, lease: scriptedLease(connectorId).lease, report: second.report })
    const secondStopped = supervisor.deactivate(connectorId)
    releaseClose()
    await Promise.all([firstStopped, secondStopped])
    expect(opened).toBe(1)
    expect(second.events).toEqual(['ended requested=true'])
    expect(supervisor.isActive(connectorId)).toBe(false)
  })
})
