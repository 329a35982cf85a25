/**
 * The Kafka engine alone: CPU per send of small batches at a steady rate, against the Kafka test broker (3 brokers,
 * 6 partitions), as a connector sends them when traffic is light (a benchmark, not a test).
 *   bun scripts/bench-engine-sends.ts [--rate SENDS_PER_SECOND] [--records N] [--seconds S] [--compression TYPE]
 * Each send is 10 keyed records of 150 bytes by default, awaited before the next; the figure is this process's user +
 * system CPU over the timed sends (the broker runs in its own process), after 200 sends to warm up.
 */
import { createKafkaPort } from '../src/sink/kafka/create-kafka-port.ts'
import type { CompressionType, KafkaMessage } from '../src/sink/kafka/port.ts'
import { silentLogger } from '../src/observability/logger.ts'
import { startOwnCpuMeter } from './benchmark/measure.ts'
import { startKafkaTestBroker, uniqueTopicName } from '../test/support/kafka-test-broker.ts'
import { testProducerConfig } from '../test/support/producer-config.ts'

const options = new Map<string, string>()
for (let index = 2; index < process.argv.length; index += 2) options.set(process.argv[index]!, process.argv[index + 1] ?? '')
const rate = Number(options.get('--rate') ?? 100)
const records = Number(options.get('--records') ?? 10)
const seconds = Number(options.get('--seconds') ?? 10)
const compression = (options.get('--compression') ?? 'zstd') as CompressionType

const broker = await startKafkaTestBroker({ brokers: 3 })
try {
  const topic = uniqueTopicName('engine-sends')
  await broker.createTopic(topic, { partitions: 6, replicationFactor: 3 })
  const port = createKafkaPort(testProducerConfig(broker.bootstrapServers, { compression: { type: compression, level: 6 } }), silentLogger)
  await port.connect()
  const value = Buffer.alloc(150, 'v')
  const batch = (first: number): KafkaMessage[] =>
    Array.from({ length: records }, (_, index) => ({ key: Buffer.from(`stream-${(first + index) % 100}`), value, headers: new Map([['content-type', Buffer.from('application/json')]]), timestamp: BigInt(Date.now()) }))
  for (let send = 0; send < 200; send++) await port.send(topic, batch(send))
  const sends = Math.max(1, Math.round(rate * seconds))
  const whole = startOwnCpuMeter()
  const started = performance.now()
  // Each 10 s on its own line too: a cost that grows while the rate stays the same is something accumulating.
  let interval = { meter: startOwnCpuMeter(), at: started, sends: 0 }
  for (let send = 0; send < sends; send++) {
    const due = started + (send * 1_000) / rate
    if (due > performance.now()) await new Promise((resolve) => setTimeout(resolve, due - performance.now()))
    const outcomes = await port.send(topic, batch(send * records))
    if (outcomes.some((outcome) => !outcome.delivered)) throw new Error('a record was not delivered')
    if (performance.now() - interval.at >= 10_000) {
      const { usPerItem, cores } = interval.meter.stop(send + 1 - interval.sends)
      const rssMb = Math.round(process.memoryUsage().rss / 1024 / 1024)
      console.log(`  after ${Math.round((performance.now() - started) / 1_000)} s: ${usPerItem} µs CPU per send, ${cores} cores, RSS ${rssMb} MB`)
      interval = { meter: startOwnCpuMeter(), at: performance.now(), sends: send + 1 }
    }
  }
  const { usPerItem, cores } = whole.stop(sends)
  console.log(`${sends} sends of ${records} records (${compression}) at ${rate}/s: ${usPerItem} µs CPU per send, ${cores} cores`)
  await port.close({ flush: true })
} finally {
  await broker.stop()
}
