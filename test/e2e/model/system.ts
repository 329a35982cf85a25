/**
 * The real side of the model-based test: one rig (KurrentDB emulator process, librdkafka mock cluster) and one
 * compiled sink process shared by every run, with the operations the commands need: append and remember
 * positions, read a topic with kcat, drive the management API, restart the sink, inject and heal faults.
 */
import { jsonEvent } from '@kurrent/kurrentdb-client'
import { readFileSync } from 'node:fs'
import { readTopicWithKcat } from '../../support/kcat.ts'
import { startRig, type Rig } from '../../support/rig.ts'
import type { DeliveredRecord, ModelEvent, SinkModel } from './model.ts'

type Sink = Awaited<ReturnType<Rig['startSink']>>
export type SinkApi = Sink['api']

export interface ModelSystem {
  readonly rig: Rig
  sink(): Sink
  api(): SinkApi
  /** Stops the sink with the signal, runs `whileDown`, and starts a new process on the same KurrentDB. */
  restartSink(signal: 'SIGKILL' | 'SIGTERM', whileDown?: () => Promise<void>): Promise<void>
  /** Appends one event (one append, so its position is known) and records it in the model. */
  append(model: SinkModel, stream: string): Promise<ModelEvent>
  readTopic(topic: string, until?: (records: readonly DeliveredRecord[]) => boolean, timeoutMs?: number): Promise<DeliveredRecord[]>
  /** Brokers up, no queued Produce errors, KurrentDB serving, a live sink: the state every run starts from. */
  heal(): Promise<void>
  /** The highest resident set of any sink process so far (MiB, from /proc VmHWM). */
  maxRssMb(): number
  sampleRss(): void
  close(): Promise<void>
}

export async function startModelSystem(): Promise<ModelSystem> {
  const rig = await startRig({ brokers: 3 })
  // One instance id across restarts, as the README asks of a deployment: a restarted process takes its connectors'
  // leases back at once instead of waiting for the dead instance's leases to expire.
  const startSink = () => rig.startSink({ args: ['--instance-id', 'model-sink'] })
  let sink = await startSink()
  let maxRssMb = 0
  let exited = false
  const sampleRss = () => {
    try {
      const status = readFileSync(`/proc/${sink.pid}/status`, 'utf8')
      const peakKb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0)
      maxRssMb = Math.max(maxRssMb, Math.round(peakKb / 1024))
    } catch {
      // the process is gone; its last sample stands
    }
  }
  let counter = 0

  const system: ModelSystem = {
    rig,
    sink: () => sink,
    api: () => sink.api,
    restartSink: async (signal, whileDown) => {
      sampleRss()
      await sink.stop(signal)
      try {
        await whileDown?.()
      } finally {
        sink = await startSink()
      }
    },
    append: async (model, stream) => {
      const id = `${stream}/${++counter}`
      const metadata = { tenant: model.namespace, region: stream.slice(stream.lastIndexOf('-') + 1) }
      const result = await rig.client.appendToStream(stream, jsonEvent({ type: 'ModelEvent', data: { id }, metadata }))
      if (result.position === undefined) throw new Error(`the append to ${stream} reported no position`)
      const event: ModelEvent = { id, stream, position: result.position.commit, index: model.events.length }
      model.events.push(event)
      return event
    },
    readTopic: async (topic, until, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const records = (await readTopicWithKcat({ bootstrapServers: rig.broker.bootstrapServers, topic, timeoutMs: 20_000 })).map(toDeliveredRecord)
        if (until === undefined || until(records) || Date.now() >= deadline) return records
        await Bun.sleep(200)
      }
    },
    heal: async () => {
      await rig.broker.setAllBrokersUp()
      await rig.broker.clearRequestErrors('Produce')
      await rig.emulator.up().catch(() => {})
      if (exited || (await sink.api.request('GET', '/health/live').then((response) => response.status !== 200, () => true))) {
        exited = false
        await sink.stop('SIGKILL').catch(() => {})
        sink = await startSink()
      }
    },
    maxRssMb: () => maxRssMb,
    sampleRss,
    close: async () => {
      sampleRss()
      await rig.close()
    },
  }
  return system
}

function toDeliveredRecord(record: { partition: number; offset: number; value: string }): DeliveredRecord {
  let eventId: string | undefined
  try {
    const parsed = JSON.parse(record.value) as { id?: unknown }
    if (typeof parsed.id === 'string') eventId = parsed.id
  } catch {
    // not one of the model's JSON events
  }
  return { partition: record.partition, offset: record.offset, eventId }
}
