/**
 * Kafka's own Java console consumer (org.apache.kafka.tools.consumer.ConsoleConsumer, the class behind
 * kafka-console-consumer.sh) as a second independent reader beside kcat: what the Java client sees of partitions,
 * keys and headers. Fields are separated by ASCII control characters no test record contains; the formatter
 * always writes a header as `name:value` (its key separator is fixed), so a header is split at its first colon.
 */
import { runKafkaTool } from './real-kafka-cluster.ts'

export interface ConsoleConsumerRecord {
  readonly partition: number
  readonly offset: number
  readonly timestamp: number
  /** null for a record without key (the formatter prints its null literal). */
  readonly key: string | null
  readonly value: string
  readonly headers: readonly (readonly [string, string])[]
}

const field = '\u001f'
const headerSeparator = '\u001e'
const recordSeparator = '\u001c\n'
const nullLiteral = '\u001anull\u001a'

export async function readTopicWithConsoleConsumer(options: {
  readonly bootstrapServers: string
  readonly topic: string
  /** Stops after this many records (the consumer's --max-messages). */
  readonly expectedCount: number
  readonly timeoutMs?: number
  /** Client properties (security.protocol, sasl.*), written to a --command-config file. */
  readonly clientProperties?: Readonly<Record<string, string>>
}): Promise<ConsoleConsumerRecord[]> {
  const timeoutMs = options.timeoutMs ?? 30_000
  const formatter = {
    'print.timestamp': 'true',
    'print.partition': 'true',
    'print.offset': 'true',
    'print.headers': 'true',
    'print.key': 'true',
    'key.separator': field,
    'headers.separator': headerSeparator,
    'line.separator': recordSeparator,
    'null.literal': nullLiteral,
  }
  const args = ['--bootstrap-server', options.bootstrapServers, '--topic', options.topic, '--from-beginning',
    '--max-messages', String(options.expectedCount), '--timeout-ms', String(timeoutMs)]
  for (const [name, value] of Object.entries(formatter)) args.push('--formatter-property', `${name}=${value}`)
  let configFile: string | undefined
  if (options.clientProperties !== undefined) {
    configFile = `${process.env.TMPDIR ?? '/tmp'}/console-consumer-${process.pid}-${Date.now()}.properties`
    await Bun.write(configFile, Object.entries(options.clientProperties).map(([name, value]) => `${name}=${value}`).join('\n') + '\n')
    args.push('--command-config', configFile)
  }
  try {
    const run = await runKafkaTool('org.apache.kafka.tools.consumer.ConsoleConsumer', args, { timeoutMs: timeoutMs + 30_000 })
    const records = parseConsoleConsumerOutput(run.stdout)
    if (records.length < options.expectedCount) {
      throw new Error(`the console consumer read ${records.length} of ${options.expectedCount} records from ${options.topic} (exit ${run.exitCode}): ${run.stderr.trim().slice(-1500)}`)
    }
    return records
  } finally {
    if (configFile !== undefined) await Bun.file(configFile).delete().catch(() => {})
  }
}

export function parseConsoleConsumerOutput(stdout: string): ConsoleConsumerRecord[] {
  const records: ConsoleConsumerRecord[] = []
  for (const line of stdout.split(recordSeparator)) {
    if (!line.startsWith('CreateTime:') && !line.startsWith('LogAppendTime:')) continue
    const [time, partition, offset, headers, key, ...value] = line.split(field)
    records.push({
      timestamp: Number(time!.slice(time!.indexOf(':') + 1)),
      partition: Number(partition!.replace('Partition:', '')),
      offset: Number(offset!.replace('Offset:', '')),
      headers: headers === 'NO_HEADERS' ? [] : headers!.split(headerSeparator).map((entry) => {
        const colon = entry.indexOf(':')
        return [entry.slice(0, colon), entry.slice(colon + 1)] as const
      }),
      key: key === nullLiteral ? null : key!,
      value: value.join(field),
    })
  }
  return records
}
