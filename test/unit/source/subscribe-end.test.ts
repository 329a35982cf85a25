// The source started at `end`, against the in-process emulator: a subscription that drops before its first item
// must reconnect after the end it started at, not at the end of the log when it reconnects.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { jsonEvent } from '@kurrent/kurrentdb-client'
import { firstValueFrom, filter, NEVER, Subject } from 'rxjs'
import { silentLogger } from '../../../src/observability/logger.ts'
import { connectToKurrentDb, type KurrentDbConnection } from '../../../src/source/kurrentdb-connection.ts'
import type { ReadTarget } from '../../../src/source/read-plan.ts'
import { subscribeToSource, type SourceItem } from '../../../src/source/subscribe.ts'
import { startKurrentDbEmulator, type KurrentDbEmulator } from '../../support/kurrentdb-emulator.ts'

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

const targets: Array<{ name: string; target: ReadTarget; stream: string }> = [
  { name: '$all with a prefix filter', target: { kind: 'all', filter: { on: 'streamName', prefixes: ['EndDrop-all'] } }, stream: 'EndDrop-all-1' },
  { name: 'one stream', target: { kind: 'stream', streamName: 'EndDrop-stream' }, stream: 'EndDrop-stream' },
]

for (const { name, target, stream } of targets) {
  test(`${name}: dropped before the first event, it still delivers what was appended while it was down`, async () => {
    await connection.client.appendToStream(stream, jsonEvent({ type: 'Before', data: {} }))
    const items = new Subject<SourceItem>()
    const subscription = subscribeToSource(connection, { target, start: { kind: 'end' }, checkpointEvery: 1000, paused$: NEVER, logger: silentLogger, reconnect: { initialMs: 200, maxMs: 200 } }).subscribe(items)
    try {
      const subscribed = firstValueFrom(items.pipe(filter((item) => item.kind === 'subscribed')))
      const firstEvent = firstValueFrom(items.pipe(filter((item) => item.kind === 'event')))
      await subscribed
      expect(emulator.dropReads()).toBe(1)
      await connection.client.appendToStream(stream, jsonEvent({ type: 'WhileDown', data: {} }))
      const event = await firstEvent
      expect(event.kind === 'event' && event.event.type).toBe('WhileDown')
    } finally {
      subscription.unsubscribe()
    }
  })
}

