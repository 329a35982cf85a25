/**
 * Read-only: how fast events come out of KurrentDB into an empty consumer, three ways: the sink's own read path
 * (the gRPC subscription decoded from the wire, used for catch-up and live), the official client's subscription,
 * and the official client's batched reads (`readAll` through its native bridge).
 */
import { KurrentDBClient, START, streamNameFilter } from '@kurrent/kurrentdb-client'
import { BehaviorSubject } from 'rxjs'
import { silentLogger } from '../../src/observability/logger.ts'
import { connectToKurrentDb } from '../../src/source/kurrentdb-connection.ts'
import { subscribeToSource } from '../../src/source/subscribe.ts'
import { createProgress, perSecond, startCpuMeter } from './measure.ts'

export interface ReadRate {
  readonly events: number
  readonly seconds: number
  readonly eventsPerSecond: number
  /** CPU of this process (the reader runs in it) per event read, in µs. */
  readonly cpuUsPerEvent: number
  /** CPU of the whole machine (the reader and KurrentDB) per event read, in µs, and in cores busy. */
  readonly machineUsPerEvent: number
  readonly machineCores: number
}

export async function measureSinkReadPath(connectionString: string, prefix: string, events: number): Promise<ReadRate> {
  const connection = connectToKurrentDb(connectionString)
  const cpu = await startCpuMeter('self')
  const progress = createProgress('read: sink path', 'events', events)
  let count = 0
  await new Promise<void>((resolve, reject) => {
    const subscription = subscribeToSource(connection, {
      target: { kind: 'all', filter: { on: 'streamName', prefixes: [prefix] } },
      start: { kind: 'start' },
      checkpointEvery: 1_000,
      paused$: new BehaviorSubject(false),
      logger: silentLogger,
    }).subscribe({
      next: (batch) => {
        for (const item of batch) if (item.kind === 'event') count++
        progress.update(count)
        if (count >= events) {
          subscription.unsubscribe()
          resolve()
        }
      },
      error: reject,
    })
  })
  const seconds = progress.elapsedSeconds()
  const { cpuUsPerEvent, machineUsPerEvent, machineCores } = await cpu.stop(count)
  await connection.dispose()
  return { events: count, seconds, eventsPerSecond: perSecond(count, seconds), cpuUsPerEvent, machineUsPerEvent, machineCores }
}

export async function measureClientSubscription(connectionString: string, prefix: string, events: number): Promise<ReadRate> {
  const client = KurrentDBClient.connectionString(connectionString)
  const cpu = await startCpuMeter('self')
  const progress = createProgress('read: client subscription', 'events', events)
  let count = 0
  const subscription = client.subscribeToAll({ fromPosition: START, filter: streamNameFilter({ prefixes: [prefix] }) })
  for await (const _event of subscription) {
    count++
    progress.update(count)
    if (count >= events) break
  }
  const seconds = progress.elapsedSeconds()
  const { cpuUsPerEvent, machineUsPerEvent, machineCores } = await cpu.stop(count)
  await subscription.unsubscribe()
  await client.dispose()
  return { events: count, seconds, eventsPerSecond: perSecond(count, seconds), cpuUsPerEvent, machineUsPerEvent, machineCores }
}

export async function measureClientBatchedReads(connectionString: string, prefix: string, events: number): Promise<ReadRate> {
  const client = KurrentDBClient.connectionString(connectionString)
  const cpu = await startCpuMeter('self')
  const progress = createProgress('read: client readAll', 'events', events)
  let count = 0
  for await (const _event of client.readAll({ fromPosition: START, maxCount: events, filter: streamNameFilter({ prefixes: [prefix] }) })) {
    count++
    progress.update(count)
  }
  const seconds = progress.elapsedSeconds()
  const { cpuUsPerEvent, machineUsPerEvent, machineCores } = await cpu.stop(count)
  await client.dispose()
  return { events: count, seconds, eventsPerSecond: perSecond(count, seconds), cpuUsPerEvent, machineUsPerEvent, machineCores }
}
