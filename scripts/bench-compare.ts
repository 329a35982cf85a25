/**
 * A quick side-by-side of builds of the binary: the end-to-end phase of the benchmark (the backlog drained with
 * broker acks, until checkpointed) for each binary in turn, `--rounds` times, on one rig and one backlog.
 *   bun scripts/bench-compare.ts [--events N] [--rounds R] [--steady SECONDS [--warmup SECONDS]] BINARY...
 * Prints events/s, the sink's CPU per event (and how busy its event loop and the whole machine were) and peak RSS
 * per binary and round (a benchmark, not a test); each round starts with the next binary, so none always runs
 * first. With `--steady`, instead: the latency phase (1,000 events/s for SECONDS) per binary and round, with the
 * sink's CPU in cores while the appends arrive (`cpu_cores_at_1k`) and append-to-Kafka p50/p99; `--warmup SECONDS`
 * first runs the appends that long uncounted.
 * A BINARY may carry connector settings after an `@`, comma-separated, to compare settings of one build side by side:
 *   bun scripts/bench-compare.ts dist/kafka-sink dist/kafka-sink@compression:level=3
 */
import { KurrentDBClient } from '@kurrent/kurrentdb-client'
import { startKafkaTestBroker, uniqueTopicName } from '../test/support/kafka-test-broker.ts'
import { spawnKurrentDbEmulator } from '../test/support/kurrentdb-emulator-process.ts'
import { measureEndToEnd, measureLatency } from './benchmark/sink-phases.ts'

interface Variant {
  /** As given on the command line: what the results are labelled with. */
  readonly label: string
  readonly binary: string
  readonly connectorSettings: Readonly<Record<string, string>>
}

/** `BINARY` or `BINARY@key=value,key=value`: a build, and connector settings on top of the benchmark's. */
function parseVariant(argument: string): Variant {
  const at = argument.indexOf('@')
  if (at === -1) return { label: argument, binary: argument, connectorSettings: {} }
  const connectorSettings: Record<string, string> = {}
  for (const pair of argument.slice(at + 1).split(',')) {
    const equals = pair.indexOf('=')
    if (equals <= 0) throw new Error(`'${pair}' in ${argument}: settings go as key=value, comma-separated`)
    connectorSettings[pair.slice(0, equals)] = pair.slice(equals + 1)
  }
  return { label: argument, binary: argument.slice(0, at), connectorSettings }
}

const options = new Map<string, string>()
const variants: Variant[] = []
for (let index = 2; index < process.argv.length; index++) {
  const argument = process.argv[index]!
  if (argument.startsWith('--')) options.set(argument, process.argv[++index] ?? '')
  else variants.push(parseVariant(argument))
}
const events = Number(options.get('--events') ?? 300_000)
const rounds = Number(options.get('--rounds') ?? 1)
const steadySeconds = options.has('--steady') ? Number(options.get('--steady')) : undefined
const warmupSeconds = Number(options.get('--warmup') ?? 0)
if (variants.length === 0) throw new Error('usage: bun scripts/bench-compare.ts [--events N] [--rounds R] [--steady SECONDS [--warmup SECONDS]] BINARY[@key=value,...]...')

const emulator = await spawnKurrentDbEmulator()
const broker = await startKafkaTestBroker({ brokers: 3 })
const client = KurrentDBClient.connectionString(emulator.connectionString)
try {
  const lastPosition = await emulator.seed({ events, streams: 1_000, prefix: 'bench', dataBytes: 150 })
  if (lastPosition === undefined) throw new Error('seeding the backlog failed')
  const createTopic = async () => {
    const topic = uniqueTopicName('compare')
    await broker.createTopic(topic, { partitions: 6, replicationFactor: 3 })
    return topic
  }
  for (let round = 1; round <= rounds; round++) {
    // Each round starts with the next binary: the first run of a round measured ~10 % slower than the others
    // whichever build it was (it follows the previous round's drain), so a fixed order would favour the last one.
    for (let turn = 0; turn < variants.length; turn++) {
      const index = (round - 1 + turn) % variants.length
      const { label, binary, connectorSettings } = variants[index]!
      // Connector ids are kept by KurrentDB: every run labels its own.
      const context = { kurrentdb: emulator.connectionString, bootstrapServers: broker.bootstrapServers, broker, client, createTopic, binary, connectorSettings, runLabel: `r${round}b${index}` }
      if (steadySeconds !== undefined) {
        const steady = await measureLatency(context, { eventsPerSecond: 1_000, seconds: steadySeconds, warmupSeconds })
        console.log(`round ${round}  ${label}  1,000 events/s: ${steady.cores} cores (event loop ${steady.mainThreadCores})  ${steady.cpuUsPerEvent} µs CPU/event  p50/p99 ${steady.p50}/${steady.p99} ms  (${steady.events} of ${steady.expected} events)`)
        continue
      }
      const result = await measureEndToEnd(context, { prefix: 'bench', events, lastPosition, waitForBrokerAck: true })
      console.log(`round ${round}  ${label}  ${result.eventsPerSecond.toLocaleString('en')} events/s  ${result.cpuUsPerEvent} µs CPU/event  ${result.cores} cores (event loop ${result.mainThreadCores}; machine ${result.machineCores})  peak RSS ${result.peakRssMb} MB (private ${result.peakPrivateMb} MB)`)
    }
  }
} finally {
  await client.dispose().catch(() => {})
  await Promise.allSettled([emulator.stop(), broker.stop()])
}
