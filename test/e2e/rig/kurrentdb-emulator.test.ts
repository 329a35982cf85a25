/**
 * The KurrentDB emulator (test/support/kurrentdb-emulator.ts), in process, driven only through the
 * official client: if these pass, the rest of the rig can trust the emulator to answer as KurrentDB does.
 * Each block starts its own emulator so `$all` contents are exactly what the block wrote.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import {
  BACKWARDS,
  binaryEvent,
  END,
  eventTypeFilter,
  excludeSystemEvents,
  jsonEvent,
  KurrentDBClient,
  START,
  StreamDeletedError,
  streamNameFilter,
  StreamNotFoundError,
  UnavailableError,
  WrongExpectedVersionError,
  type AllStreamResolvedEvent,
  type Position,
  type ReadableSubscription,
  type ResolvedEvent,
} from '@kurrent/kurrentdb-client'
import { startKurrentDbEmulator, type KurrentDbEmulator, type KurrentDbEmulatorOptions } from '../../support/kurrentdb-emulator.ts'

type Rig = { emulator: KurrentDbEmulator; client: KurrentDBClient }

/** An emulator and a client for one describe block, closed in its afterAll. */
function useRig(options: KurrentDbEmulatorOptions = {}): Rig {
  const rig = {} as Rig
  beforeAll(async () => {
    rig.emulator = await startKurrentDbEmulator(options)
    rig.client = KurrentDBClient.connectionString(rig.emulator.connectionString)
  })
  afterAll(async () => {
    await rig.client?.dispose()
    await rig.emulator?.close()
  })
  return rig
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = []
  for await (const item of iterable) items.push(item)
  return items
}

async function failureOf(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work()
  } catch (error) {
    return error
  }
  throw new Error('expected a failure')
}

type CaughtUp = { date?: Date; position?: Position; revision?: bigint }

/** Consumes a subscription in the background and lets a test wait for what it expects, not for time. */
function record<E>(subscription: ReadableSubscription<E>) {
  const events: E[] = []
  const waiters: { count: number; resolve: () => void }[] = []
  let failure: Error | undefined
  const failed = new Promise<Error>((resolve) =>
    subscription.once('error', (error: Error) => {
      failure = error
      resolve(error)
    }),
  )
  const caughtUp = new Promise<CaughtUp>((resolve) => subscription.once('caughtUp', (info) => resolve(info as CaughtUp)))
  subscription.on('data', (event: E) => {
    events.push(event)
    for (const waiter of waiters.filter((entry) => events.length >= entry.count)) waiter.resolve()
  })
  return {
    events,
    caughtUp,
    failed,
    /** Resolves once `count` events arrived; rejects if the subscription fails first. */
    received(count: number): Promise<void> {
      if (events.length >= count) return Promise.resolve()
      if (failure) return Promise.reject(failure)
      return Promise.race([new Promise<void>((resolve) => waiters.push({ count, resolve })), failed.then((error) => Promise.reject(error))])
    },
  }
}

function eventTypes(events: (ResolvedEvent | AllStreamResolvedEvent)[]): string[] {
  return events.map((resolved) => resolved.event!.type)
}

function commitOf(resolved: ResolvedEvent | AllStreamResolvedEvent): bigint {
  return resolved.event!.position!.commit
}

describe('appending', () => {
  const rig = useRig()

  test('no_stream creates a stream and then fails with WrongExpectedVersionError', async () => {
    const result = await rig.client.appendToStream('append-no-stream', [jsonEvent({ type: 'a', data: {} }), jsonEvent({ type: 'b', data: {} })], { streamState: 'no_stream' })
    expect(result.success).toBe(true)
    expect(result.nextExpectedRevision).toBe(1n)
    const error = await failureOf(() => rig.client.appendToStream('append-no-stream', jsonEvent({ type: 'c', data: {} }), { streamState: 'no_stream' }))
    expect(error).toBeInstanceOf(WrongExpectedVersionError)
    expect(error).toMatchObject({ streamName: 'append-no-stream', expectedState: 'no_stream', actualState: 1n })
  })

  test('stream_exists fails on a missing stream and passes on an existing one', async () => {
    const error = await failureOf(() => rig.client.appendToStream('append-exists', jsonEvent({ type: 'a', data: {} }), { streamState: 'stream_exists' }))
    expect(error).toMatchObject({ expectedState: 'stream_exists', actualState: 'no_stream' })
    await rig.client.appendToStream('append-exists', jsonEvent({ type: 'a', data: {} }))
    const result = await rig.client.appendToStream('append-exists', jsonEvent({ type: 'b', data: {} }), { streamState: 'stream_exists' })
    expect(result.nextExpectedRevision).toBe(1n)
  })

  test('an exact revision passes when current and fails when stale', async () => {
    await rig.client.appendToStream('append-revision', [jsonEvent({ type: 'a', data: {} }), jsonEvent({ type: 'b', data: {} })])
    const result = await rig.client.appendToStream('append-revision', jsonEvent({ type: 'c', data: {} }), { streamState: 1n })
    expect(result.nextExpectedRevision).toBe(2n)
    const error = await failureOf(() => rig.client.appendToStream('append-revision', jsonEvent({ type: 'd', data: {} }), { streamState: 1n }))
    expect(error).toBeInstanceOf(WrongExpectedVersionError)
    expect(error).toMatchObject({ expectedState: 1n, actualState: 2n })
  })

  test('any always appends', async () => {
    await rig.client.appendToStream('append-any', jsonEvent({ type: 'a', data: {} }), { streamState: 'any' })
    const result = await rig.client.appendToStream('append-any', jsonEvent({ type: 'b', data: {} }), { streamState: 'any' })
    expect(result.nextExpectedRevision).toBe(1n)
  })

  test('the unary Append RPC (used when a call carries credentials) checks revisions too', async () => {
    const credentials = { username: 'admin', password: 'changeit' }
    const result = await rig.client.appendToStream('append-unary', jsonEvent({ type: 'a', data: { n: 1 } }), { streamState: 'no_stream', credentials })
    expect(result).toMatchObject({ success: true, nextExpectedRevision: 0n })
    const error = await failureOf(() => rig.client.appendToStream('append-unary', jsonEvent({ type: 'b', data: {} }), { streamState: 'no_stream', credentials }))
    expect(error).toBeInstanceOf(WrongExpectedVersionError)
    expect(error).toMatchObject({ expectedState: 'no_stream', actualState: 0n })
    const events = await collect(rig.client.readStream('append-unary'))
    expect(events.map((resolved) => resolved.event!.data)).toEqual([{ n: 1 }])
  })

  test('positions: commit = prepare, strictly increasing, not contiguous, one append is consecutive', async () => {
    const first = await rig.client.appendToStream('append-positions', [jsonEvent({ type: 'a', data: {} }), jsonEvent({ type: 'b', data: {} }), jsonEvent({ type: 'c', data: {} })])
    const events = await collect(rig.client.readStream('append-positions'))
    const positions = events.map((resolved) => resolved.event!.position!)
    for (const position of positions) expect(position.prepare).toBe(position.commit)
    expect(positions[1]!.commit - positions[0]!.commit).toBeGreaterThan(1n)
    expect(positions[2]!.commit).toBeGreaterThan(positions[1]!.commit)
    // The append reports the position of its last event.
    expect(first.position).toEqual(positions[2]!)
    const all = await collect(rig.client.readAll())
    const indexes = events.map((resolved) => all.findIndex((entry) => entry.event!.id === resolved.event!.id))
    expect(indexes[1]! - indexes[0]!).toBe(1)
    expect(indexes[2]! - indexes[1]!).toBe(1)
  })
})

describe('reading a stream', () => {
  const rig = useRig()
  const streamName = 'read-stream'

  beforeAll(async () => {
    const events = []
    for (let index = 0; index < 5; index++) events.push(jsonEvent({ type: `type-${index}`, data: { index } }))
    await rig.client.appendToStream(streamName, events)
  })

  test('forwards from the start returns every event with its fields', async () => {
    const id = crypto.randomUUID()
    await rig.client.appendToStream('read-fields', jsonEvent({ id, type: 'order-placed', data: { orderId: 7 }, metadata: { traceId: 'abc' } }))
    const [resolved] = await collect(rig.client.readStream('read-fields'))
    const event = resolved!.event!
    expect(event).toMatchObject({ streamId: 'read-fields', id, revision: 0n, type: 'order-placed', isJson: true, data: { orderId: 7 }, metadata: { traceId: 'abc' } })
    expect(event.created.getTime()).toBeGreaterThan(Date.parse('2020-01-01'))
    expect((await collect(rig.client.readStream(streamName))).map((entry) => entry.event!.revision)).toEqual([0n, 1n, 2n, 3n, 4n])
  })

  test('binary events keep their bytes and content type', async () => {
    await rig.client.appendToStream('read-binary', binaryEvent({ type: 'blob', data: new Uint8Array([0, 1, 2, 255]) }))
    const [resolved] = await collect(rig.client.readStream('read-binary'))
    expect(resolved!.event!.isJson).toBe(false)
    expect(Array.from(resolved!.event!.data as Uint8Array)).toEqual([0, 1, 2, 255])
  })

  test('backwards from the end', async () => {
    const events = await collect(rig.client.readStream(streamName, { direction: BACKWARDS, fromRevision: END }))
    expect(events.map((resolved) => resolved.event!.revision)).toEqual([4n, 3n, 2n, 1n, 0n])
  })

  test('from a revision, inclusive both ways, with maxCount', async () => {
    const forwards = await collect(rig.client.readStream(streamName, { fromRevision: 2n, maxCount: 2 }))
    expect(forwards.map((resolved) => resolved.event!.revision)).toEqual([2n, 3n])
    const backwards = await collect(rig.client.readStream(streamName, { direction: BACKWARDS, fromRevision: 2n }))
    expect(backwards.map((resolved) => resolved.event!.revision)).toEqual([2n, 1n, 0n])
    expect(await collect(rig.client.readStream(streamName, { fromRevision: 9n }))).toEqual([])
  })

  test('a missing stream raises StreamNotFoundError', async () => {
    const error = await failureOf(() => collect(rig.client.readStream('read-missing')))
    expect(error).toBeInstanceOf(StreamNotFoundError)
  })
})

describe('reading $all', () => {
  const rig = useRig()
  let written: AllStreamResolvedEvent[] = []

  beforeAll(async () => {
    await rig.client.appendToStream('all-a', [jsonEvent({ type: 'a1', data: {} }), jsonEvent({ type: 'a2', data: {} })])
    await rig.client.appendToStream('all-b', [jsonEvent({ type: 'b1', data: {} })])
    await rig.client.appendToStream('all-a', [jsonEvent({ type: 'a3', data: {} })])
    written = await collect(rig.client.readAll())
  })

  test('forwards from the start is the append order', () => {
    expect(eventTypes(written)).toEqual(['a1', 'a2', 'b1', 'a3'])
    expect(written.map((resolved) => resolved.event!.streamId)).toEqual(['all-a', 'all-a', 'all-b', 'all-a'])
  })

  test('backwards from the end is the reverse, and maxCount limits both', async () => {
    expect(eventTypes(await collect(rig.client.readAll({ direction: BACKWARDS, fromPosition: END })))).toEqual(['a3', 'b1', 'a2', 'a1'])
    expect(eventTypes(await collect(rig.client.readAll({ maxCount: 2 })))).toEqual(['a1', 'a2'])
  })

  test('forwards from a position includes the event there; backwards starts before it', async () => {
    const position = written[2]!.event!.position!
    expect(eventTypes(await collect(rig.client.readAll({ fromPosition: position })))).toEqual(['b1', 'a3'])
    expect(eventTypes(await collect(rig.client.readAll({ fromPosition: position, direction: BACKWARDS })))).toEqual(['a2', 'a1'])
  })
})

describe('subscribing to $all', () => {
  // caught_up carries a position from 25.1.0 (and 24.10.5, 25.0.1) on.
  const rig = useRig({ serverVersion: '25.1.0' })
  let written: AllStreamResolvedEvent[] = []

  beforeAll(async () => {
    await rig.client.appendToStream('orders-1', [jsonEvent({ type: 'order-placed', data: {} }), jsonEvent({ type: 'order-paid', data: {} })])
    await rig.client.appendToStream('customers-1', jsonEvent({ type: 'customer-joined', data: {} }))
    await rig.client.setStreamMetadata('orders-1', { maxCount: 100 })
    await rig.client.appendToStream('orders-2', jsonEvent({ type: 'order-placed', data: {} }))
    await rig.client.appendToStream('$internal', jsonEvent({ type: '$system-thing', data: {} }))
    written = await collect(rig.client.readAll())
  })

  const filterCases = [
    { name: 'stream name prefixes', filter: streamNameFilter({ prefixes: ['orders-', 'customers-'] }), streams: ['orders-1', 'orders-1', 'customers-1', 'orders-2'] },
    { name: 'stream name regex', filter: streamNameFilter({ regex: '^orders-\\d$' }), streams: ['orders-1', 'orders-1', 'orders-2'] },
    { name: 'event type prefixes', filter: eventTypeFilter({ prefixes: ['order-'] }), streams: ['orders-1', 'orders-1', 'orders-2'] },
    { name: 'event type regex', filter: eventTypeFilter({ regex: '^customer-' }), streams: ['customers-1'] },
    { name: 'excludeSystemEvents', filter: excludeSystemEvents(), streams: ['orders-1', 'orders-1', 'customers-1', 'orders-2'] },
  ]
  for (const { name, filter, streams } of filterCases) {
    test(`filter on ${name}`, async () => {
      const subscription = rig.client.subscribeToAll({ fromPosition: START, filter })
      try {
        const recorded = record(subscription)
        await recorded.caughtUp
        expect(recorded.events.map((resolved) => resolved.event!.streamId)).toEqual(streams)
      } finally {
        await subscription.unsubscribe()
      }
    })
  }

  test('system events are in $all: the $metadata event of setStreamMetadata and $-typed events', () => {
    expect(written.map((resolved) => `${resolved.event!.streamId}/${resolved.event!.type}`)).toContain('$$orders-1/$metadata')
    expect(eventTypes(written)).toContain('$system-thing')
  })

  test('from a position delivers only what comes strictly after it', async () => {
    const subscription = rig.client.subscribeToAll({ fromPosition: written[1]!.event!.position! })
    try {
      const recorded = record(subscription)
      await recorded.caughtUp
      expect(recorded.events.map((resolved) => resolved.event!.id)).toEqual(written.slice(2).map((resolved) => resolved.event!.id))
    } finally {
      await subscription.unsubscribe()
    }
  })


  // Live events change $all for the tests after them, so these come last.
  test('from the start: every event, caught-up at the last position, then live events', async () => {
    const subscription = rig.client.subscribeToAll({ fromPosition: START })
    try {
      const recorded = record(subscription)
      const caughtUp = await recorded.caughtUp
      expect(caughtUp.position).toEqual(written.at(-1)!.event!.position!)
      await recorded.received(written.length)
      expect(recorded.events.map((resolved) => resolved.event!.id)).toEqual(written.map((resolved) => resolved.event!.id))
      await rig.client.appendToStream('live-1', jsonEvent({ type: 'live', data: { n: 1 } }))
      await recorded.received(written.length + 1)
      expect(recorded.events.at(-1)!.event!).toMatchObject({ streamId: 'live-1', type: 'live', data: { n: 1 } })
    } finally {
      await subscription.unsubscribe()
    }
  })

  test('from the end delivers only live events', async () => {
    const subscription = rig.client.subscribeToAll({ fromPosition: END })
    try {
      const recorded = record(subscription)
      await recorded.caughtUp
      expect(recorded.events).toEqual([])
      await rig.client.appendToStream('live-2', jsonEvent({ type: 'live', data: {} }))
      await recorded.received(1)
      expect(recorded.events[0]!.event!.streamId).toBe('live-2')
    } finally {
      await subscription.unsubscribe()
    }
  })
})

describe('checkpoints', () => {
  const rig = useRig()
  let written: AllStreamResolvedEvent[] = []

  beforeAll(async () => {
    // 100 events of which only every fourth matches, so checkpoints must come from scanned events.
    for (let batch = 0; batch < 10; batch++) {
      const events = []
      for (let index = 0; index < 10; index++) events.push(jsonEvent({ type: (batch * 10 + index) % 4 === 0 ? 'wanted' : 'noise', data: {} }))
      await rig.client.appendToStream(`checkpoints-${batch}`, events)
    }
    written = await collect(rig.client.readAll())
  })

  test('come every maxSearchWindow × checkpointInterval scanned events, at the last scanned position', async () => {
    const checkpoints: Position[] = []
    const subscription = rig.client.subscribeToAll({
      fromPosition: START,
      filter: eventTypeFilter({ prefixes: ['wanted'], maxSearchWindow: 10, checkpointInterval: 2, checkpointReached: (_subscription, position) => void checkpoints.push(position) }),
    })
    try {
      const recorded = record(subscription)
      await recorded.caughtUp
      expect(recorded.events).toHaveLength(25)
      // Window 10 × multiplier 2: after scanned events 20, 40, 60, 80, 100.
      expect(checkpoints).toEqual([19, 39, 59, 79, 99].map((index) => written[index]!.event!.position!))
    } finally {
      await subscription.unsubscribe()
    }
  })

  test('without maxSearchWindow the window is 32: checkpointInterval 1 means every 32 events', async () => {
    const checkpoints: Position[] = []
    const subscription = rig.client.subscribeToAll({
      fromPosition: START,
      filter: excludeSystemEvents({ checkpointReached: (_subscription, position) => void checkpoints.push(position) }),
    })
    try {
      await record(subscription).caughtUp
      expect(checkpoints).toEqual([31, 63, 95].map((index) => written[index]!.event!.position!))
    } finally {
      await subscription.unsubscribe()
    }
  })

  test('keep counting live, never go backwards, and resuming from one neither skips nor repeats', async () => {
    const checkpoints: Position[] = []
    const subscription = rig.client.subscribeToAll({
      fromPosition: written[49]!.event!.position!,
      filter: eventTypeFilter({ prefixes: ['wanted'], maxSearchWindow: 5, checkpointReached: (_subscription, position) => void checkpoints.push(position) }),
    })
    try {
      const recorded = record(subscription)
      await recorded.caughtUp
      expect(checkpoints).toHaveLength(10)
      const live = []
      for (let index = 0; index < 12; index++) live.push(jsonEvent({ type: index === 11 ? 'wanted' : 'noise', data: {} }))
      await rig.client.appendToStream('checkpoints-live', live)
      await recorded.received(13)
      expect(checkpoints.length).toBeGreaterThanOrEqual(12)
      for (let index = 1; index < checkpoints.length; index++) expect(checkpoints[index]!.commit).toBeGreaterThan(checkpoints[index - 1]!.commit)

      const resumed = rig.client.subscribeToAll({ fromPosition: checkpoints[3]!, filter: eventTypeFilter({ prefixes: ['wanted'] }) })
      try {
        const again = record(resumed)
        await again.caughtUp
        const expected = [...written, ...recorded.events.slice(-1)].filter((resolved) => resolved.event!.type === 'wanted' && commitOf(resolved) > checkpoints[3]!.commit)
        expect(again.events.map((resolved) => resolved.event!.id)).toEqual(expected.map((resolved) => resolved.event!.id))
      } finally {
        await resumed.unsubscribe()
      }
    } finally {
      await subscription.unsubscribe()
    }
  })
})

describe('subscribing to a stream', () => {
  const rig = useRig({ serverVersion: '25.1.0' })

  beforeAll(async () => {
    await rig.client.appendToStream('stream-sub', [jsonEvent({ type: 'a', data: {} }), jsonEvent({ type: 'b', data: {} }), jsonEvent({ type: 'c', data: {} })])
    await rig.client.appendToStream('other-stream', jsonEvent({ type: 'x', data: {} }))
  })

  test('from the start: its events, caught-up at its last revision, then live events of that stream only', async () => {
    const subscription = rig.client.subscribeToStream('stream-sub', { fromRevision: START })
    try {
      const recorded = record(subscription)
      expect((await recorded.caughtUp).revision).toBe(2n)
      expect(eventTypes(recorded.events)).toEqual(['a', 'b', 'c'])
      await rig.client.appendToStream('other-stream', jsonEvent({ type: 'y', data: {} }))
      await rig.client.appendToStream('stream-sub', jsonEvent({ type: 'd', data: {} }))
      await recorded.received(4)
      expect(eventTypes(recorded.events)).toEqual(['a', 'b', 'c', 'd'])
      expect(recorded.events[3]!.event!.revision).toBe(3n)
    } finally {
      await subscription.unsubscribe()
    }
  })

  test('from a revision is exclusive; from the end waits for new events', async () => {
    const fromRevision = rig.client.subscribeToStream('stream-sub', { fromRevision: 1n })
    const fromEnd = rig.client.subscribeToStream('stream-sub', { fromRevision: END })
    try {
      const afterRevision = record(fromRevision)
      const afterEnd = record(fromEnd)
      await Promise.all([afterRevision.caughtUp, afterEnd.caughtUp])
      expect(afterRevision.events[0]!.event!.revision).toBe(2n)
      expect(afterEnd.events).toEqual([])
      const next = await rig.client.appendToStream('stream-sub', jsonEvent({ type: 'e', data: {} }))
      await afterEnd.received(1)
      expect(afterEnd.events[0]!.event!.revision).toBe(next.nextExpectedRevision)
    } finally {
      await fromRevision.unsubscribe()
      await fromEnd.unsubscribe()
    }
  })

  test('a stream that does not exist yet is caught up at once and delivers its first event', async () => {
    const subscription = rig.client.subscribeToStream('stream-later', { fromRevision: START })
    try {
      const recorded = record(subscription)
      expect((await recorded.caughtUp).revision).toBeUndefined()
      await rig.client.appendToStream('stream-later', jsonEvent({ type: 'first', data: {} }))
      await recorded.received(1)
      expect(recorded.events[0]!.event!.revision).toBe(0n)
    } finally {
      await subscription.unsubscribe()
    }
  })
})

describe('deleting', () => {
  const rig = useRig()

  test('a soft-deleted stream reads as not found; appending brings it back with revisions continued', async () => {
    await rig.client.appendToStream('soft', [jsonEvent({ type: 'a', data: {} }), jsonEvent({ type: 'b', data: {} })])
    const deleted = await rig.client.deleteStream('soft')
    expect(deleted.position?.commit).toBeGreaterThan(0n)
    expect(await failureOf(() => collect(rig.client.readStream('soft')))).toBeInstanceOf(StreamNotFoundError)
    const error = await failureOf(() => rig.client.appendToStream('soft', jsonEvent({ type: 'x', data: {} }), { streamState: 'stream_exists' }))
    expect(error).toBeInstanceOf(StreamDeletedError)
    const result = await rig.client.appendToStream('soft', jsonEvent({ type: 'c', data: {} }), { streamState: 'no_stream' })
    expect(result.nextExpectedRevision).toBe(2n)
    const events = await collect(rig.client.readStream('soft'))
    expect(events.map((resolved) => [resolved.event!.revision, resolved.event!.type])).toEqual([[2n, 'c']])
  })

  test('a stream subscription open across a soft delete delivers the events that bring the stream back', async () => {
    await rig.client.appendToStream('soft-subscribed', jsonEvent({ type: 'a', data: {} }))
    const subscription = rig.client.subscribeToStream('soft-subscribed', { fromRevision: START })
    try {
      const recorded = record(subscription)
      await recorded.received(1)
      await rig.client.deleteStream('soft-subscribed')
      await rig.client.appendToStream('soft-subscribed', jsonEvent({ type: 'b', data: {} }))
      await recorded.received(2)
      expect(recorded.events.map((resolved) => [resolved.event!.revision, resolved.event!.type])).toEqual([
        [0n, 'a'],
        [1n, 'b'],
      ])
    } finally {
      await subscription.unsubscribe()
    }
  })

  test('deleting with a stale revision raises WrongExpectedVersionError', async () => {
    await rig.client.appendToStream('soft-revision', [jsonEvent({ type: 'a', data: {} }), jsonEvent({ type: 'b', data: {} })])
    const error = await failureOf(() => rig.client.deleteStream('soft-revision', { expectedRevision: 0n }))
    expect(error).toBeInstanceOf(WrongExpectedVersionError)
    expect(error).toMatchObject({ streamName: 'soft-revision', expectedState: 0n, actualState: 1n })
  })

  test('a tombstoned stream can be neither read nor written', async () => {
    await rig.client.appendToStream('hard', jsonEvent({ type: 'a', data: {} }))
    await rig.client.tombstoneStream('hard')
    expect(await failureOf(() => collect(rig.client.readStream('hard')))).toBeInstanceOf(StreamDeletedError)
    expect(await failureOf(() => rig.client.appendToStream('hard', jsonEvent({ type: 'b', data: {} })))).toBeInstanceOf(StreamDeletedError)
  })
})

describe('stream metadata', () => {
  const rig = useRig()

  test('$maxCount keeps only the last N events visible to reads', async () => {
    await rig.client.setStreamMetadata('capped', { maxCount: 3 })
    for (let index = 0; index < 10; index++) await rig.client.appendToStream('capped', jsonEvent({ type: 'checkpoint', data: { index } }))
    const events = await collect(rig.client.readStream('capped'))
    expect(events.map((resolved) => resolved.event!.revision)).toEqual([7n, 8n, 9n])
    const [last] = await collect(rig.client.readStream('capped', { direction: BACKWARDS, fromRevision: END, maxCount: 1 }))
    expect(last!.event!.data).toEqual({ index: 9 })
    expect((await rig.client.getStreamMetadata('capped')).metadata?.maxCount).toBe(3)
  })
})

describe('positions above 2^53', () => {
  const rig = useRig({ positionBase: 2n ** 60n })

  test('survive appends, reads, subscriptions and checkpoints exactly', async () => {
    const appended = await rig.client.appendToStream('big', [jsonEvent({ type: 'a', data: {} }), jsonEvent({ type: 'b', data: {} })])
    expect(appended.position!.commit).toBeGreaterThan(2n ** 60n)
    const all = await collect(rig.client.readAll())
    expect(all[0]!.event!.position!.commit).toBe(2n ** 60n)
    expect(all[1]!.event!.position).toEqual(appended.position!)
    expect(eventTypes(await collect(rig.client.readAll({ fromPosition: all[1]!.event!.position! })))).toEqual(['b'])

    const checkpoints: Position[] = []
    const subscription = rig.client.subscribeToAll({
      fromPosition: all[0]!.event!.position!,
      filter: excludeSystemEvents({ maxSearchWindow: 1, checkpointReached: (_subscription, position) => void checkpoints.push(position) }),
    })
    try {
      const recorded = record(subscription)
      await recorded.caughtUp
      expect(recorded.events.map((resolved) => resolved.commitPosition)).toEqual([appended.position!.commit])
      expect(checkpoints).toEqual([appended.position!])
    } finally {
      await subscription.unsubscribe()
    }
  })
})

describe('restarting in process', () => {
  const rig = useRig()

  test('down ends an open subscription with UNAVAILABLE; after up a new client reads everything back', async () => {
    await rig.client.appendToStream('kept', [jsonEvent({ type: 'a', data: {} }), jsonEvent({ type: 'b', data: {} })])
    const subscription = rig.client.subscribeToAll({ fromPosition: START })
    const recorded = record(subscription)
    await recorded.caughtUp
    await rig.emulator.down()
    expect(await recorded.failed).toBeInstanceOf(UnavailableError)
    expect(rig.emulator.stats()).toMatchObject({ serving: false, events: 2 })

    await rig.emulator.up()
    const client = KurrentDBClient.connectionString(rig.emulator.connectionString)
    try {
      expect(eventTypes(await collect(client.readStream('kept')))).toEqual(['a', 'b'])
      await client.appendToStream('kept', jsonEvent({ type: 'c', data: {} }), { streamState: 1n })
      expect(eventTypes(await collect(client.readAll()))).toEqual(['a', 'b', 'c'])
    } finally {
      await client.dispose()
    }
  })
})

describe('server versions', () => {
  describe('24.10.0', () => {
    const rig = useRig({ serverVersion: '24.10.0' })

    test('caught_up carries no position', async () => {
      await rig.client.appendToStream('v24-1', jsonEvent({ type: 'e', data: {} }))
      const subscription = rig.client.subscribeToAll({ fromPosition: START })
      try {
        const caughtUp = await record(subscription).caughtUp
        expect(caughtUp.position).toBeUndefined()
      } finally {
        await subscription.unsubscribe()
      }
    })

    test('a filtered subscription from the start that matched nothing sends (2^64-1, 2^64-1) at the switch to live', async () => {
      let reached!: (position: Position) => void
      const checkpoint = new Promise<Position>((resolve) => (reached = resolve))
      const subscription = rig.client.subscribeToAll({
        fromPosition: START,
        filter: streamNameFilter({ prefixes: ['nothing-matches-'], maxSearchWindow: 1000, checkpointReached: (_subscription, position) => void reached(position) }),
      })
      try {
        expect(await checkpoint).toEqual({ commit: 2n ** 64n - 1n, prepare: 2n ** 64n - 1n })
      } finally {
        await subscription.unsubscribe()
      }
    })
  })
})
