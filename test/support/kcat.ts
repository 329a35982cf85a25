/**
 * kcat helpers: tests check what reached Kafka with an independent client (kcat 1.7, librdkafka in C), never
 * with the code under test. Plus invariant checks over what was read: no gaps (duplicates allowed, the sink is
 * at-least-once) and per-key order.
 *
 * kcat -J prints one JSON object per record: {"topic","partition","offset","tstype","ts","broker",
 * "headers":[name, value, name, value, …] (absent without headers, null for a null header value),
 * "key": string | null, "payload": string | null}. Strings are the raw bytes: control characters are
 * escaped (\u0000…), every other byte is written as is, even when it is not UTF-8. Decoding stdout as latin1
 * and re-encoding each string as latin1 therefore gives back the exact bytes.
 */

export interface KcatRecord {
  readonly partition: number
  readonly offset: number
  /** The key as UTF-8 text; null when the record has no key. */
  readonly key: string | null
  readonly keyBytes: Buffer | null
  /** The value as UTF-8 text ('' for a null value). */
  readonly value: string
  /** The value's exact bytes; null for a null value. */
  readonly valueBytes: Buffer | null
  /** Header names and values as UTF-8 text, in record order (a null header value reads as ''). */
  readonly headers: readonly (readonly [string, string])[]
  /** Epoch milliseconds (the record's CreateTime unless the topic uses LogAppendTime). */
  readonly timestamp: number
}

interface KcatJsonRecord {
  partition: number
  offset: number
  ts?: number
  headers?: (string | null)[]
  key?: string | null
  payload?: string | null
}

const kcatBinary = process.env.KCAT ?? 'kcat'
const pollIntervalMs = 250

export async function readTopicWithKcat(options: {
  readonly bootstrapServers: string
  readonly topic: string
  /** Keep reading until at least this many records are there (or the timeout passes). */
  readonly expectedCount?: number
  /**
   * Count distinct values of this instead of records toward `expectedCount`: duplicates (at-least-once allows them)
   * would otherwise end the wait while some records have not arrived yet.
   */
  readonly countDistinct?: (record: KcatRecord) => string
  readonly timeoutMs: number
  /** librdkafka properties (kcat -X), e.g. security.protocol and sasl.* to read through a secured listener. */
  readonly config?: Readonly<Record<string, string>>
}): Promise<KcatRecord[]> {
  const deadline = Date.now() + options.timeoutMs
  let lastFailure: string | undefined
  let lastRecords: KcatRecord[] | undefined
  const args = ['-C', '-b', options.bootstrapServers, '-t', options.topic, '-o', 'beginning', '-e', '-J', '-q']
  for (const [name, value] of Object.entries(options.config ?? {})) args.push('-X', `${name}=${value}`)
  for (;;) {
    const remaining = deadline - Date.now()
    const run = await runKcat(args, { timeoutMs: Math.max(1_000, remaining) })
    if (run.exitCode === 0 && !run.timedOut) {
      lastRecords = parseKcatJson(run.stdout)
      const count = options.countDistinct === undefined ? lastRecords.length : new Set(lastRecords.map(options.countDistinct)).size
      if (options.expectedCount === undefined || count >= options.expectedCount) return lastRecords
    } else {
      lastFailure = `kcat exited with ${run.timedOut ? 'a timeout' : `code ${run.exitCode}`}: ${run.stderr.trim()}`
    }
    if (Date.now() + pollIntervalMs >= deadline) break
    await Bun.sleep(pollIntervalMs)
  }
  if (lastRecords !== undefined) return lastRecords
  throw new Error(`could not read topic ${options.topic} within ${options.timeoutMs} ms; ${lastFailure ?? 'no kcat run'}`)
}

export interface KcatProduceResult {
  /** kcat exited 0: every line was delivered (kcat -P reports failed deliveries with a non-zero exit). */
  readonly ok: boolean
  readonly exitCode: number | null
  readonly stderr: string
}

/** Produces one record per line with kcat -P. Never throws for delivery failures: look at `ok` and `stderr`. */
export async function produceWithKcat(options: {
  readonly bootstrapServers: string
  readonly topic: string
  readonly lines: readonly string[]
  /** Split each line into key and value at the first occurrence (kcat -K). */
  readonly keyDelimiter?: string
  readonly partition?: number
  readonly headers?: readonly (readonly [string, string])[]
  /** librdkafka properties (kcat -X), e.g. { partitioner: 'murmur2_random', 'message.timeout.ms': '3000' }. */
  readonly config?: Readonly<Record<string, string>>
  readonly timeoutMs?: number
}): Promise<KcatProduceResult> {
  const args = ['-P', '-b', options.bootstrapServers, '-t', options.topic]
  if (options.keyDelimiter !== undefined) args.push('-K', options.keyDelimiter)
  if (options.partition !== undefined) args.push('-p', String(options.partition))
  for (const [name, value] of options.headers ?? []) args.push('-H', `${name}=${value}`)
  for (const [name, value] of Object.entries(options.config ?? {})) args.push('-X', `${name}=${value}`)
  const input = options.lines.length === 0 ? '' : options.lines.join('\n') + '\n'
  const run = await runKcat(args, { input, timeoutMs: options.timeoutMs ?? 60_000 })
  return { ok: run.exitCode === 0 && !run.timedOut, exitCode: run.exitCode, stderr: run.stderr }
}

interface KcatRun {
  readonly exitCode: number | null
  readonly timedOut: boolean
  readonly stdout: string
  readonly stderr: string
}

async function runKcat(args: readonly string[], options: { input?: string; timeoutMs: number }): Promise<KcatRun> {
  const child = Bun.spawn([kcatBinary, ...args], {
    stdin: options.input === undefined ? 'ignore' : new Blob([options.input]),
    stdout: 'pipe',
    stderr: 'pipe',
  })
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    child.kill('SIGKILL')
  }, options.timeoutMs)
  try {
    const [stdout, stderr, exitCode] = await Promise.all([
      new Response(child.stdout).arrayBuffer(),
      new Response(child.stderr).text(),
      child.exited,
    ])
    return { exitCode, timedOut, stdout: Buffer.from(stdout).toString('latin1'), stderr }
  } finally {
    clearTimeout(timer)
  }
}

/** Parses kcat -J output that was decoded as latin1 (see the header comment). */
export function parseKcatJson(latin1Output: string): KcatRecord[] {
  const records: KcatRecord[] = []
  for (const line of latin1Output.split('\n')) {
    if (!line.startsWith('{')) continue
    const parsed = JSON.parse(line) as KcatJsonRecord
    const keyBytes = parsed.key == null ? null : Buffer.from(parsed.key, 'latin1')
    const valueBytes = parsed.payload == null ? null : Buffer.from(parsed.payload, 'latin1')
    const headers: (readonly [string, string])[] = []
    const flat = parsed.headers ?? []
    for (let index = 0; index + 1 < flat.length; index += 2) {
      headers.push([utf8(flat[index]), utf8(flat[index + 1])])
    }
    records.push({
      partition: parsed.partition,
      offset: parsed.offset,
      key: keyBytes === null ? null : keyBytes.toString('utf8'),
      keyBytes,
      value: valueBytes === null ? '' : valueBytes.toString('utf8'),
      valueBytes,
      headers,
      timestamp: parsed.ts ?? -1,
    })
  }
  return records
}

function utf8(latin1: string | null | undefined): string {
  return latin1 == null ? '' : Buffer.from(latin1, 'latin1').toString('utf8')
}

/**
 * Every expected id is among the records (duplicates allowed: the sink is at-least-once). `idOf` defaults
 * to the record's value. Throws an Error naming the first missing ids; returns how many duplicates there were.
 */
export function expectNoGaps(
  records: readonly KcatRecord[],
  expectedIds: Iterable<string>,
  idOf: (record: KcatRecord) => string = (record) => record.value,
): { readonly duplicates: number } {
  const seen = new Map<string, number>()
  for (const record of records) {
    const id = idOf(record)
    seen.set(id, (seen.get(id) ?? 0) + 1)
  }
  const missing: string[] = []
  let duplicates = 0
  for (const id of expectedIds) {
    const count = seen.get(id) ?? 0
    if (count === 0) missing.push(id)
    else duplicates += count - 1
  }
  if (missing.length > 0) {
    throw new Error(
      `${missing.length} expected record(s) missing from Kafka, e.g. ${missing.slice(0, 20).map((id) => JSON.stringify(id)).join(', ')}`,
    )
  }
  return { duplicates }
}

/**
 * Per-key order, as at-least-once delivery allows it: every key lives on one partition, and reading that
 * partition by offset, the first occurrence of each record comes in increasing `orderOf` (a re-sent record
 * may reappear later; nothing may overtake a record that was not delivered yet). Records without key are
 * ignored. Throws an Error describing the first violation.
 */
export function expectPerKeyOrder(records: readonly KcatRecord[], orderOf: (record: KcatRecord) => number): void {
  const byKey = new Map<string, KcatRecord[]>()
  for (const record of records) {
    if (record.key === null) continue
    let list = byKey.get(record.key)
    if (list === undefined) byKey.set(record.key, (list = []))
    list.push(record)
  }
  for (const [key, list] of byKey) {
    const partitions = new Set(list.map((record) => record.partition))
    if (partitions.size > 1) {
      throw new Error(`key ${JSON.stringify(key)} was written to several partitions: ${[...partitions].join(', ')}`)
    }
    list.sort((a, b) => a.offset - b.offset)
    const seen = new Set<number>()
    let highest = -Infinity
    for (const record of list) {
      const order = orderOf(record)
      if (seen.has(order)) continue
      seen.add(order)
      if (order < highest) {
        throw new Error(
          `key ${JSON.stringify(key)}: record ${order} (offset ${record.offset}) came after record ${highest}, out of order`,
        )
      }
      highest = order
    }
  }
}
