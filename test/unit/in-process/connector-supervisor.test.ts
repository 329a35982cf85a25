// The supervisor's races, through its public contract (activate / deactivate) with the real connector store on the
// in-process KurrentDB emulator. The lease is the hook that holds a run inside `prepare`: preparing writes the
// start checkpoint, and that write waits for `lease.untilValid()`.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { randomUUID } from 'node:crypto'
import { createConnectorStore } from '../../../src/connectors/connector-store.ts'
import { createConnectorSupervisor, type ConnectorSupervisor, type RunReport } from '../../../src/connectors/connector-supervisor.ts'
import type { LeaseHandle } from '../../../src/connectors/ownership-coordinator.ts'
import type { StoredCheckpoint } from '../../../src/connectors/connector-store.ts'
import type { ResumePoint } from '../../../src/pipeline/work-item.ts'
import { createLogger, silentLogger, type Logger } from '../../../src/observability/logger.ts'
import { createSinkMetrics, type SinkMetrics } from '../../../src/observability/metrics.ts'
import type { PipelineTuning } from '../../../src/pipeline/run-connector.ts'
import { OwnershipLostError } from '../../../src/connectors/ownership-coordinator.ts'
import type { KafkaPort, KafkaProducerConfig } from '../../../src/sink/kafka/port.ts'
import { connectToKurrentDb, type KurrentDbConnection } from '../../../src/source/kurrentdb-connection.ts'
import { startKurrentDbEmulator, type KurrentDbEmulator } from '../../support/kurrentdb-emulator.ts'
import { appendSequence, revisionOf, scriptedKafka, type ScriptedKafka } from './scripted-kafka.ts'

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

function supervisorWith(openKafka: (config: KafkaProducerConfig) => KafkaPort, options: { logger?: Logger; metrics?: SinkMetrics; tuning?: Partial<PipelineTuning> } = {}): ConnectorSupervisor {
  return createConnectorSupervisor({
    connection,
    store: createConnectorStore(connection),
    secretBox: undefined,
    openKafka,
    logger: options.logger ?? silentLogger,
    metrics: options.metrics ?? createSinkMetrics(),
    tuning: { stopGraceMs: 500, ...options.tuning },
  })
}

/** Log lines as objects, and a logger writing them. */
function recordingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = []
  return { logger: createLogger({ level: 'info', write: (line) => void lines.push(JSON.parse(line)) }), lines }
}

const delivering = () => {
  const kafka = scriptedKafka()
  kafka.behaviour = (send) => send.answer('deliverAll')
  return kafka.open()
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

describe('connector supervisor: what a run reports and logs', () => {
  const activation = (connectorId: string, stream: string, report: RunReport, overrides: Partial<Parameters<ConnectorSupervisor['activate']>[0]> = {}) => ({
    connectorId,
    settings: settingsFor(stream),
    activation: 1,
    explicitStart: undefined,
    lease: scriptedLease(connectorId).lease,
    report,
    ...overrides,
  })

  test('a run logs its start, running and stop with its connector id, and counts in the active gauge while it runs', async () => {
    const connectorId = `logs-${randomUUID().slice(0, 8)}`
    const { logger, lines } = recordingLogger()
    const gauge: number[] = []
    const metrics = createSinkMetrics()
    const supervisor = supervisorWith(delivering, { logger, metrics: { ...metrics, setActiveConnectors: (count) => void gauge.push(count) } })
    const { report, running, events } = recordingReport()
    supervisor.activate(activation(connectorId, `s-${connectorId}`, report))
    expect(supervisor.isActive(connectorId)).toBe(true)
    expect(supervisor.activeActivation(connectorId)).toBe(1)
    await running
    await supervisor.deactivate(connectorId)
    const mine = lines.filter((line) => line.connectorId === connectorId).map((line) => line.message)
    expect(mine).toEqual(expect.arrayContaining(['connector starting', 'connector running', 'connector stopped']))
    expect(mine.indexOf('connector starting')).toBeLessThan(mine.indexOf('connector running'))
    expect(mine.indexOf('connector running')).toBeLessThan(mine.indexOf('connector stopped'))
    expect(lines.find((line) => line.message === 'connector starting')).toMatchObject({ topic: 'orders' })
    expect(gauge[0]).toBe(1)
    expect(gauge.at(-1)).toBe(0)
    expect(events).toEqual(['running', 'ended requested=true'])
    expect(supervisor.isActive(connectorId)).toBe(false)
    expect(supervisor.activeActivation(connectorId)).toBeUndefined()
  })

  test('logging:enabled=false silences the run, but a failure is still logged', async () => {
    const connectorId = `quiet-${randomUUID().slice(0, 8)}`
    const { logger, lines } = recordingLogger()
    const kafka = scriptedKafka()
    kafka.connect = async () => {
      throw Object.assign(new Error('SASL authentication failed'), { transient: false })
    }
    const supervisor = supervisorWith(() => kafka.open(), { logger })
    const { report, events } = recordingReport()
    let ended!: () => void
    const endedPromise = new Promise<void>((resolve) => (ended = resolve))
    supervisor.activate(activation(connectorId, `s-${connectorId}`, { ...report, onEnded: (outcome) => (report.onEnded(outcome), ended()) }, { settings: { ...settingsFor(`s-${connectorId}`), 'logging:enabled': 'false' } }))
    await endedPromise
    const mine = lines.filter((line) => line.connectorId === connectorId)
    expect(mine.map((line) => line.message)).toEqual(['connector failed'])
    expect(mine[0]).toMatchObject({ level: 'error', code: 'Error', reason: 'SASL authentication failed' })
    expect(events).toEqual(['failed Error'])
  })

  test('stored settings that no longer validate end the run with InvalidSettings, naming the field', async () => {
    const connectorId = `invalid-${randomUUID().slice(0, 8)}`
    let opened = 0
    const supervisor = supervisorWith(() => (opened++, delivering()))
    let outcome: { failure: { code: string; message: string } | undefined; requested: boolean } | undefined
    let ended!: () => void
    const endedPromise = new Promise<void>((resolve) => (ended = resolve))
    const stalls: unknown[] = []
    const report: RunReport = { onRunning: () => {}, onCommitted: () => {}, onStalled: (stall) => void stalls.push(stall), onEnded: (result) => ((outcome = result), ended()) }
    supervisor.activate(activation(connectorId, 'x', report, { settings: { instanceTypeName: 'kafka-sink', topic: 'orders', 'compression:type': 'brotli', brokerAddressFamily: 'v5' } }))
    await endedPromise
    expect(outcome?.failure?.code).toBe('InvalidSettings')
    expect(outcome?.failure?.message).toMatch(/^(compression:type|brokerAddressFamily): .+; (compression:type|brokerAddressFamily): .+$/)
    // Whatever ended the run, no stall of it stays reported.
    expect(stalls).toEqual([undefined])
    expect(outcome?.requested).toBe(false)
    expect(opened).toBe(0)
  })

  test('shutdown and handover end runs without recording an ending; a lost lease ends it silently too', async () => {
    const supervisor = supervisorWith(delivering)
    const ids = ['shutdown', 'handover', 'lost'].map((kind) => `${kind}-${randomUUID().slice(0, 8)}`)
    const reports = ids.map(() => recordingReport())
    let loseLease!: (error: OwnershipLostError) => void
    const lostLease: LeaseHandle = { ...scriptedLease(ids[2]!).lease, lost: new Promise((resolve) => (loseLease = resolve)) }
    ids.forEach((connectorId, index) => supervisor.activate(activation(connectorId, `s-${connectorId}`, reports[index]!.report, index === 2 ? { lease: lostLease } : {})))
    await Promise.all(reports.map((report) => report.running))
    await supervisor.handOver(ids[1]!)
    expect(supervisor.isActive(ids[1]!)).toBe(false)
    loseLease(new OwnershipLostError('another instance owns it now'))
    while (supervisor.isActive(ids[2]!)) await Bun.sleep(5)
    await supervisor.shutdown()
    expect(supervisor.isActive(ids[0]!)).toBe(false)
    expect(reports.map((report) => report.events)).toEqual([['running'], ['running'], ['running']])
  })

  test('a stall of the run is reported, and cleared when the run ends', async () => {
    const connectorId = `stall-${randomUUID().slice(0, 8)}`
    const stream = `s-${connectorId}`
    await appendSequence(connection.client, stream, 1)
    const kafka = scriptedKafka() // sends are held: no progress
    const supervisor = supervisorWith(() => kafka.open(), { tuning: { stallAfterMs: 100, stopGraceMs: 50 } })
    const stalls: Array<string | undefined> = []
    const base = recordingReport()
    supervisor.activate(activation(connectorId, stream, { ...base.report, onStalled: (stall) => void stalls.push(stall === undefined ? undefined : 'stalled') }, { settings: { ...settingsFor(stream), 'subscription:initialPosition': 'earliest' } }))
    await kafka.nthSend(1)
    while (!stalls.includes('stalled')) await Bun.sleep(5)
    await supervisor.deactivate(connectorId)
    expect(stalls.at(-1)).toBeUndefined()
  })
})

describe('connector supervisor: stops that come early, and what a run forwards', () => {
  const activation = (connectorId: string, stream: string, report: RunReport, overrides: Partial<Parameters<ConnectorSupervisor['activate']>[0]> = {}) => ({
    connectorId,
    settings: { ...settingsFor(stream), 'subscription:initialPosition': 'earliest' },
    activation: 1,
    explicitStart: undefined,
    lease: scriptedLease(connectorId).lease,
    report,
    ...overrides,
  })

  for (const how of ['handOver', 'shutdown', 'lost lease'] as const) {
    test(`${how} while the run is preparing: it ends before Kafka is opened`, async () => {
      const connectorId = `early-${randomUUID().slice(0, 8)}`
      let opened = 0
      const supervisor = supervisorWith(() => (opened++, delivering()))
      const lease = scriptedLease(connectorId)
      let loseLease!: (error: OwnershipLostError) => void
      const handle: LeaseHandle = how === 'lost lease' ? { ...lease.lease, lost: new Promise((resolve) => (loseLease = resolve)) } : lease.lease
      lease.hold()
      const { report, events } = recordingReport()
      supervisor.activate(activation(connectorId, `s-${connectorId}`, report, { lease: handle }))
      await lease.untilValidCalled
      const ending = how === 'handOver' ? supervisor.handOver(connectorId) : how === 'shutdown' ? supervisor.shutdown() : (loseLease(new OwnershipLostError('taken over')), Promise.resolve())
      lease.release()
      await ending
      while (supervisor.isActive(connectorId)) await Bun.sleep(5)
      expect(opened).toBe(0)
      expect(events).toEqual([])
    })
  }

  test('stopping or handing over a connector that does not run here does nothing', async () => {
    const supervisor = supervisorWith(delivering)
    await supervisor.deactivate('not-running-here')
    await supervisor.handOver('not-running-here')
    expect(supervisor.isActive('not-running-here')).toBe(false)
  })

  test('a queued activation that is stopped never prepares: its explicit start is not consumed', async () => {
    const connectorId = `consume-${randomUUID().slice(0, 8)}`
    const store = createConnectorStore(connection)
    let releaseClose!: () => void
    const closeHeld = new Promise<void>((resolve) => (releaseClose = resolve))
    let closing!: () => void
    const closeCalled = new Promise<void>((resolve) => (closing = resolve))
    const supervisor = supervisorWith(() => ({ ...delivering(), close: async () => (closing(), closeHeld) }))
    const first = recordingReport()
    supervisor.activate(activation(connectorId, `s-${connectorId}`, first.report))
    await first.running
    const firstStopped = supervisor.deactivate(connectorId)
    await closeCalled
    const before = await store.readCheckpointEntry(connectorId)
    supervisor.activate(activation(connectorId, `s-${connectorId}`, recordingReport().report, { activation: 2, explicitStart: { kind: 'fromStart' } }))
    const secondStopped = supervisor.deactivate(connectorId)
    releaseClose()
    await Promise.all([firstStopped, secondStopped])
    const after = await store.readCheckpointEntry(connectorId)
    expect(after.activation).toBe(before.activation)
    expect(after.checkpoint).toEqual(before.checkpoint)
  })

  test('a newer activation of a running connector stops the run going and takes over', async () => {
    const connectorId = `supersede-${randomUUID().slice(0, 8)}`
    const stream = `s-${connectorId}`
    const supervisor = supervisorWith(delivering)
    const first = recordingReport()
    supervisor.activate(activation(connectorId, stream, first.report))
    await first.running
    const second = recordingReport()
    supervisor.activate(activation(connectorId, stream, second.report, { activation: 2 }))
    await second.running
    expect(first.events).toEqual(['running', 'ended requested=true'])
    expect(supervisor.activeActivation(connectorId)).toBe(2)
    await supervisor.deactivate(connectorId)
  })

  test("initialPosition latest: the end found at the first start is kept, so a stop before any event loses none", async () => {
    const connectorId = `latest-${randomUUID().slice(0, 8)}`
    const stream = `s-${connectorId}`
    await appendSequence(connection.client, stream, 2)
    const kafka = scriptedKafka()
    kafka.behaviour = (send) => send.answer('deliverAll')
    const supervisor = supervisorWith(() => kafka.open())
    const settings = { ...settingsFor(stream), 'subscription:initialPosition': 'latest' }
    const first = recordingReport()
    supervisor.activate(activation(connectorId, stream, first.report, { settings }))
    await first.running
    await supervisor.deactivate(connectorId)
    await appendSequence(connection.client, stream, 2, 2)
    const second = recordingReport()
    supervisor.activate(activation(connectorId, stream, second.report, { settings }))
    await kafka.deliveredUntil((delivered) => delivered.length >= 2)
    expect(kafka.delivered.map(revisionOf)).toEqual([2, 3])
    await supervisor.deactivate(connectorId)
  })

  test('a run started again resumes right after what the previous run committed', async () => {
    const connectorId = `resume-${randomUUID().slice(0, 8)}`
    const stream = `s-${connectorId}`
    await appendSequence(connection.client, stream, 3)
    const kafka = scriptedKafka()
    kafka.behaviour = (send) => send.answer('deliverAll')
    const supervisor = supervisorWith(() => kafka.open())
    const committed: unknown[] = []
    const first = recordingReport()
    supervisor.activate(activation(connectorId, stream, { ...first.report, onCommitted: (resume) => void committed.push(resume) }))
    while (!committed.some((resume) => (resume as { revision?: bigint }).revision === 2n)) await Bun.sleep(5)
    await supervisor.deactivate(connectorId)
    const deliveredBefore = kafka.delivered.length
    await appendSequence(connection.client, stream, 2, 3)
    supervisor.activate(activation(connectorId, stream, recordingReport().report))
    await kafka.deliveredUntil((delivered) => delivered.slice(deliveredBefore).some((message) => revisionOf(message) === 4))
    expect(kafka.delivered.slice(deliveredBefore).map(revisionOf)).toEqual([3, 4])
    await supervisor.deactivate(connectorId)
  })

  test('commits, catching up and stalls are forwarded and logged; a lost lease ends the run unrecorded', async () => {
    const connectorId = `forward-${randomUUID().slice(0, 8)}`
    const stream = `s-${connectorId}`
    await appendSequence(connection.client, stream, 2)
    const { logger, lines } = recordingLogger()
    const kafka = scriptedKafka()
    kafka.behaviour = (send) => send.answer('deliverAll')
    const supervisor = supervisorWith(() => kafka.open(), { logger, tuning: { stallAfterMs: 100 } })
    const committed: unknown[] = []
    const stalls: unknown[] = []
    const base = recordingReport()
    let loseLease!: (error: OwnershipLostError) => void
    const lease: LeaseHandle = { ...scriptedLease(connectorId).lease, lost: new Promise((resolve) => (loseLease = resolve)) }
    supervisor.activate(activation(connectorId, stream, { ...base.report, onCommitted: (resume) => void committed.push(resume), onStalled: (stall) => void stalls.push(stall) }, { lease }))
    while (committed.length === 0) await Bun.sleep(5)
    expect(committed[0]).toMatchObject({ revision: 1n })
    // A stall: the next event's send is held.
    kafka.behaviour = () => {}
    await appendSequence(connection.client, stream, 1, 2)
    while (!stalls.some((stall) => stall !== undefined)) await Bun.sleep(5)
    kafka.sends.at(-1)!.answer('deliverAll')
    while (stalls.at(-1) !== undefined) await Bun.sleep(5)
    loseLease(new OwnershipLostError('another instance took the lease'))
    // A lost lease stops the run without recording an ending (the new owner records what happens next).
    while (supervisor.isActive(connectorId)) await Bun.sleep(5)
    const mine = lines.filter((line) => line.connectorId === connectorId)
    const messages = mine.map((line) => line.message)
    expect(messages).toEqual(expect.arrayContaining(['connector caught up; now live', 'connector stalled: events to deliver and no confirmed progress', 'connector progressing again']))
    expect(mine.find((line) => line.message === 'connector stalled: events to deliver and no confirmed progress')).toMatchObject({ level: 'warn' })
    expect(typeof mine.find((line) => line.message === 'connector stalled: events to deliver and no confirmed progress')!.since).toBe('string')
    expect(base.events).toEqual(['running'])
  })
})

describe('the KurrentDB version', () => {
  // 22.10.3 is the last 22.10 release whose filtered subscriptions can skip an event at the switch to live; 22.10.4
  // fixed it (server-version.ts, from KurrentDB's release history).
  for (const [version, supported] of [['22.10.3', false], ['22.10.4', true]] as const) {
    test(`KurrentDB ${version}: ${supported ? 'the connector runs' : 'the activation fails with the reason, before Kafka is opened'}`, async () => {
      const server = await startKurrentDbEmulator({ serverVersion: version })
      const serverConnection = connectToKurrentDb(server.connectionString)
      try {
        const connectorId = `version-${randomUUID().slice(0, 8)}`
        const stream = `version-${randomUUID().slice(0, 8)}`
        await appendSequence(serverConnection.client, stream, 2)
        let opened = 0
        const { logger, lines } = recordingLogger()
        const supervisor = createConnectorSupervisor({
          connection: serverConnection,
          store: createConnectorStore(serverConnection),
          secretBox: undefined,
          openKafka: () => {
            opened++
            return delivering()
          },
          logger,
          metrics: createSinkMetrics(),
          tuning: { stopGraceMs: 500 },
        })
        const { report, events } = recordingReport()
        supervisor.activate({ connectorId, settings: settingsFor(stream), activation: 1, explicitStart: undefined, lease: scriptedLease(connectorId).lease, report })
        for (let waited = 0; events.length === 0 && waited < 10_000; waited += 20) await Bun.sleep(20)
        if (supported) {
          expect(events[0]).toBe('running')
          expect(opened).toBe(1)
          await supervisor.deactivate(connectorId)
        } else {
          expect(events).toEqual(['failed UnsupportedServerVersion'])
          expect(opened).toBe(0)
          expect(JSON.stringify(lines)).toContain(`KurrentDB ${version} is not supported`)
        }
      } finally {
        await serverConnection.dispose()
        await server.close()
      }
    })
  }
})

describe('connector supervisor: explicit starts, fences and the shutdown', () => {
  const endOfLog: StoredCheckpoint = { kind: 'after', position: { commit: 2n ** 64n - 1n, prepare: 2n ** 64n - 1n }, revision: undefined }
  const activation = (connectorId: string, stream: string, report: RunReport, overrides: Partial<Parameters<ConnectorSupervisor['activate']>[0]> = {}) => ({
    connectorId,
    settings: { ...settingsFor(stream), 'subscription:initialPosition': 'earliest' },
    activation: 1,
    explicitStart: undefined,
    lease: scriptedLease(connectorId).lease,
    report,
    ...overrides,
  })
  /** Resolves with the run's commits as they come, and when one reaches `revision`. */
  const committing = (report: RunReport) => {
    const revisions: bigint[] = []
    const waiters: Array<{ revision: bigint; resolve: () => void }> = []
    return {
      report: {
        ...report,
        onCommitted: (resume: ResumePoint) => {
          report.onCommitted(resume)
          if (resume.revision !== undefined) revisions.push(resume.revision)
          for (const waiter of waiters.filter((entry) => revisions.includes(entry.revision))) waiter.resolve()
        },
      } satisfies RunReport,
      reached: (revision: bigint) => (revisions.includes(revision) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ revision, resolve }))),
    }
  }

  test('an explicit start applies once per activation: a later run of the same activation resumes from its checkpoints', async () => {
    // connectors-spec.md, reset: the explicit start overrides the checkpoint for this activation; a later failover
    // (another owner of the same activation) resumes from the checkpoints, not from the explicit start again.
    const connectorId = `once-${randomUUID().slice(0, 8)}`
    const stream = `s-${connectorId}`
    await appendSequence(connection.client, stream, 3)
    const kafka = scriptedKafka()
    kafka.behaviour = (send) => send.answer('deliverAll')
    const supervisor = supervisorWith(() => kafka.open())
    const first = committing(recordingReport().report)
    supervisor.activate(activation(connectorId, stream, first.report, { activation: 3, explicitStart: { kind: 'fromStart' } }))
    await first.reached(2n)
    await supervisor.handOver(connectorId)
    expect(kafka.delivered.map(revisionOf)).toEqual([0, 1, 2])
    await appendSequence(connection.client, stream, 2, 3)
    const second = committing(recordingReport().report)
    supervisor.activate(activation(connectorId, stream, second.report, { activation: 3, explicitStart: { kind: 'fromStart' } }))
    await second.reached(4n)
    expect(kafka.delivered.slice(3).map(revisionOf)).toEqual([3, 4])
    await supervisor.deactivate(connectorId)
  })

  for (const target of ['single stream', '$all'] as const) {
    test(`an explicit start at the end of the log (${target}) is the end when the run starts: a stop before any event loses none`, async () => {
      // README, start/{position}: 18446744073709551615 means the end of the log, resolved to the last event when the
      // run starts. Events appended after that, even while the connector is stopped, are delivered.
      const connectorId = `end-${randomUUID().slice(0, 8)}`
      const stream = `s-${connectorId}`
      await appendSequence(connection.client, stream, 2)
      const settings =
        target === '$all'
          ? { ...settingsFor(stream), 'subscription:filter:filterType': 'prefix', 'subscription:initialPosition': 'earliest' }
          : { ...settingsFor(stream), 'subscription:initialPosition': 'earliest' }
      const kafka = scriptedKafka()
      kafka.behaviour = (send) => send.answer('deliverAll')
      const supervisor = supervisorWith(() => kafka.open())
      const first = recordingReport()
      supervisor.activate(activation(connectorId, stream, first.report, { settings, activation: 1, explicitStart: endOfLog }))
      await first.running
      await supervisor.deactivate(connectorId)
      await appendSequence(connection.client, stream, 2, 2)
      const second = committing(recordingReport().report)
      supervisor.activate(activation(connectorId, stream, second.report, { settings, activation: 2 }))
      await kafka.deliveredUntil((delivered) => delivered.some((message) => revisionOf(message) === 3))
      expect(kafka.delivered.map(revisionOf)).toEqual([2, 3])
      await supervisor.deactivate(connectorId)
    })
  }

  test('a checkpoint that holds only a stream revision resumes right after that revision', async () => {
    // A resume point has no log position when the read did not give one; its stream revision is enough.
    const connectorId = `revision-${randomUUID().slice(0, 8)}`
    const stream = `s-${connectorId}`
    await appendSequence(connection.client, stream, 4)
    const store = createConnectorStore(connection)
    expect((await store.appendCheckpoint(connectorId, { kind: 'after', position: undefined, revision: 1n }, { activation: 1, term: 1 }, undefined)).written).toBe(true)
    const kafka = scriptedKafka()
    kafka.behaviour = (send) => send.answer('deliverAll')
    const supervisor = supervisorWith(() => kafka.open())
    const run = committing(recordingReport().report)
    supervisor.activate(activation(connectorId, stream, run.report, { activation: 1 }))
    await run.reached(3n)
    expect(kafka.delivered.map(revisionOf)).toEqual([2, 3])
    await supervisor.deactivate(connectorId)
  })

  test('another instance writing the checkpoints ends the run with a warning, not a failure, and records nothing', async () => {
    const connectorId = `fenced-${randomUUID().slice(0, 8)}`
    const { logger, lines } = recordingLogger()
    let opened = 0
    const supervisor = supervisorWith(() => (opened++, delivering()), { logger })
    const lease = scriptedLease(connectorId)
    // This instance's lease cannot be confirmed: the other instance holds it now.
    const handle: LeaseHandle = { ...lease.lease, confirm: async () => false }
    lease.hold()
    let ended!: () => void
    const endedPromise = new Promise<void>((resolve) => (ended = resolve))
    const { report, events } = recordingReport()
    // Every ending clears the run's stall, recorded or not: the sign that the run has ended.
    supervisor.activate(activation(connectorId, `s-${connectorId}`, { ...report, onStalled: () => ended() }, { lease: handle }))
    await lease.untilValidCalled // the run is about to write its first checkpoint (the fence)
    // The other owner's fence lands first.
    await createConnectorStore(connection).appendCheckpoint(connectorId, undefined, { activation: 1, term: 2 }, undefined)
    lease.release()
    await endedPromise
    const mine = lines.filter((line) => line.connectorId === connectorId)
    expect(mine).toEqual([expect.objectContaining({ level: 'warn', message: 'connector run stopped: another instance owns it now', reason: expect.stringContaining('another instance owns it now') })])
    expect(events).toEqual([])
    expect(opened).toBe(0)
    expect(supervisor.isActive(connectorId)).toBe(false)
  })

  test('a connector activated while the shutdown is stopping the others never starts, and records nothing', async () => {
    const runningId = `running-${randomUUID().slice(0, 8)}`
    const lateId = `late-${randomUUID().slice(0, 8)}`
    let releaseClose!: () => void
    const closeHeld = new Promise<void>((resolve) => (releaseClose = resolve))
    let closing!: () => void
    const closeCalled = new Promise<void>((resolve) => (closing = resolve))
    const gauge: number[] = []
    const metrics = createSinkMetrics()
    const supervisor = supervisorWith(() => ({ ...delivering(), close: async () => (closing(), closeHeld) }), { metrics: { ...metrics, setActiveConnectors: (count) => void gauge.push(count) } })
    const running = recordingReport()
    supervisor.activate(activation(runningId, `s-${runningId}`, running.report))
    await running.running
    const shutdown = supervisor.shutdown()
    await closeCalled // the shutdown is under way: the running connector is closing its producer
    const lateLease = scriptedLease(lateId)
    const late = recordingReport()
    const gaugeBefore = gauge.length
    supervisor.activate(activation(lateId, `s-${lateId}`, late.report, { lease: lateLease.lease }))
    // Either the late run prepares (it would write its start checkpoint, which waits for the lease), or it ends
    // as it starts (the gauge drops back to the one run still closing).
    const outcome = await Promise.race([
      lateLease.untilValidCalled.then(() => 'prepared'),
      (async () => {
        while (!(gauge.length > gaugeBefore + 1 && gauge.at(-1) === 1)) await Bun.sleep(5)
        return 'ended'
      })(),
    ])
    releaseClose()
    await shutdown
    expect(outcome).toBe('ended')
    expect(supervisor.isActive(lateId)).toBe(false)
    expect(late.events).toEqual([])
    expect(running.events).toEqual(['running'])
  })
})

describe('the KurrentDB version, asked once', () => {
  test('a failed answer fails that activation and is asked again by the next; a good answer is kept for the process', async () => {
    let asked = 0
    const unreachable = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:2113'), { code: 'ECONNREFUSED' })
    const flaky: KurrentDbConnection = {
      ...connection,
      readServerVersion: async () => {
        asked++
        if (asked === 1) throw unreachable
        return connection.readServerVersion()
      },
    }
    const supervisor = createConnectorSupervisor({ connection: flaky, store: createConnectorStore(connection), secretBox: undefined, openKafka: delivering, logger: silentLogger, metrics: createSinkMetrics(), tuning: { stopGraceMs: 500 } })
    const ids = [1, 2, 3].map((run) => `asked-${run}-${randomUUID().slice(0, 8)}`)
    const reports = ids.map(() => recordingReport())
    let failed!: () => void
    const failedPromise = new Promise<void>((resolve) => (failed = resolve))
    supervisor.activate(activation(ids[0]!, reports[0]!, { onEnded: (outcome) => (reports[0]!.report.onEnded(outcome), failed()) }))
    await failedPromise
    expect(reports[0]!.events).toEqual([expect.stringMatching(/^failed /)])
    for (const index of [1, 2]) {
      supervisor.activate(activation(ids[index]!, reports[index]!, {}))
      await reports[index]!.running
    }
    expect(asked).toBe(2)
    await Promise.all(ids.map((connectorId) => supervisor.deactivate(connectorId)))

    function activation(connectorId: string, recorded: ReturnType<typeof recordingReport>, override: Partial<RunReport>) {
      return { connectorId, settings: settingsFor(`s-${connectorId}`), activation: 1, explicitStart: undefined, lease: scriptedLease(connectorId).lease, report: { ...recorded.report, ...override } }
    }
  })
})
