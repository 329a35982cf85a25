/**
 * Throughput of the emulator as the official client sees it: append N small JSON events (~150 B) with
 * `appendToStream` in batches, then `subscribeToAll` from the start (with `excludeSystemEvents`, as the
 * sink subscribes) until all of them arrived. The emulator runs in its own process, as in end-to-end tests.
 *   bun test/support/kurrentdb-emulator/benchmark.ts [events=1000000] [batch=1000]
 * Prints figures only; nothing here is asserted.
 */
import { readFileSync } from 'node:fs'
import { excludeSystemEvents, jsonEvent, KurrentDBClient, START } from '@kurrent/kurrentdb-client'
import { spawnKurrentDbEmulator } from '../kurrentdb-emulator-process.ts'

const totalEvents = Number(process.argv[2] ?? 1_000_000)
const batchSize = Number(process.argv[3] ?? 1_000)

function residentMegabytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('VmRSS:'))
  return Math.round(Number(line?.replace(/\D+/g, '') ?? 0) / 1024)
}

/** CPU seconds (user + system) a process has used, from /proc: shows which side is the bottleneck. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

function ownCpuSeconds(): number {
  const usage = process.cpuUsage()
  return (usage.user + usage.system) / 1e6
}

function sampleData(sequence: number) {
  return { orderId: `order-${sequence}`, customerId: `customer-${sequence % 977}`, amount: 1234.5, currency: 'EUR', lines: [{ sku: 'sku-1', quantity: 2 }] }
}

const emulator = await spawnKurrentDbEmulator()
const client = KurrentDBClient.connectionString(emulator.connectionString)
try {
  const dataBytes = Buffer.byteLength(JSON.stringify(sampleData(0)))
  let sequence = 0
  let batches = 0
  let cpu = { emulator: cpuSeconds(emulator.pid), client: ownCpuSeconds() }
  const appendStarted = performance.now()
  while (sequence < totalEvents) {
    const events = []
    for (let index = 0; index < batchSize && sequence < totalEvents; index++) events.push(jsonEvent({ type: 'order-placed', data: sampleData(sequence++) }))
    await client.appendToStream(`orders-${batches++ % 100}`, events)
  }
  const appendSeconds = (performance.now() - appendStarted) / 1000
  console.log(`append: ${totalEvents} events of ${dataBytes} B JSON in batches of ${batchSize}: ${appendSeconds.toFixed(1)} s, ${Math.round(totalEvents / appendSeconds)} events/s`)
  console.log(`  cpu: emulator ${(cpuSeconds(emulator.pid) - cpu.emulator).toFixed(1)} s, client ${(ownCpuSeconds() - cpu.client).toFixed(1)} s`)
  console.log(`emulator: ${await emulator.stats()}, RSS ${residentMegabytes(emulator.pid)} MB`)

  cpu = { emulator: cpuSeconds(emulator.pid), client: ownCpuSeconds() }
  const subscribeStarted = performance.now()
  let received = 0
  let checkpoints = 0
  const subscription = client.subscribeToAll({
    fromPosition: START,
    filter: excludeSystemEvents({
      checkpointReached: () => {
        checkpoints++
      },
    }),
  })
  for await (const _event of subscription) {
    if (++received === totalEvents) break
  }
  const subscribeSeconds = (performance.now() - subscribeStarted) / 1000
  await subscription.unsubscribe()
  console.log(`subscribeToAll: ${received} events, ${checkpoints} checkpoints in ${subscribeSeconds.toFixed(1)} s, ${Math.round(received / subscribeSeconds)} events/s`)
  console.log(`  cpu: emulator ${(cpuSeconds(emulator.pid) - cpu.emulator).toFixed(1)} s, client ${(ownCpuSeconds() - cpu.client).toFixed(1)} s`)
  console.log(`emulator RSS after the subscription: ${residentMegabytes(emulator.pid)} MB`)
} finally {
  await client.dispose()
  await emulator.stop()
}
