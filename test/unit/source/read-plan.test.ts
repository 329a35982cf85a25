import { describe, expect, test } from 'bun:test'
import { createEventPredicate, excludeSystemEventsRegex, planRead, type SubscriptionFilterSettings } from '../../../src/source/read-plan.ts'
import type { SourceEvent } from '../../../src/source/read-response-decoder.ts'

function eventOf(overrides: Partial<SourceEvent>): SourceEvent {
  return {
    id: '00000000-0000-0000-0000-000000000001',
    streamId: 'LoanRequest-1',
    revision: 0n,
    position: { commit: 10n, prepare: 10n },
    type: 'LoanRequested',
    contentType: 'application/json',
    createdTicks: 0n,
    data: Buffer.from('{"amount":10000,"customer":{"tier":"gold"}}'),
    customMetadata: new Uint8Array(),
    ...overrides,
  }
}

describe('planRead', () => {
  const rows: Array<{ name: string; filter: SubscriptionFilterSettings; expected: ReturnType<typeof planRead> }> = [
    {
      name: 'no filter reads $all without system events',
      filter: { scope: 'unspecified', filterType: 'unspecified' },
      expected: { target: { kind: 'all', filter: { on: 'eventType', regex: excludeSystemEventsRegex } }, jsonPath: undefined },
    },
    {
      name: 'a scope with an empty expression reads everything, system events included',
      filter: { scope: 'stream', filterType: 'unspecified', expression: '  ' },
      expected: { target: { kind: 'all', filter: undefined }, jsonPath: undefined },
    },
    {
      name: 'stream + streamId subscribes to that one stream',
      filter: { scope: 'stream', filterType: 'streamId', expression: 'example-stream' },
      expected: { target: { kind: 'stream', streamName: 'example-stream' }, jsonPath: undefined },
    },
    {
      name: 'stream + prefix is a server-side stream-name prefix list',
      filter: { scope: 'stream', filterType: 'prefix', expression: 'LoanRequest, Order-' },
      expected: { target: { kind: 'all', filter: { on: 'streamName', prefixes: ['LoanRequest', 'Order-'] } }, jsonPath: undefined },
    },
    {
      name: 'stream + regex is a server-side stream-name regex',
      filter: { scope: 'stream', filterType: 'regex', expression: '^user-\\d+$' },
      expected: { target: { kind: 'all', filter: { on: 'streamName', regex: '^user-\\d+$' } }, jsonPath: undefined },
    },
    {
      name: 'record + prefix filters event types on the server',
      filter: { scope: 'record', filterType: 'prefix', expression: 'Loan' },
      expected: { target: { kind: 'all', filter: { on: 'eventType', prefixes: ['Loan'] } }, jsonPath: undefined },
    },
    {
      name: 'record + regex filters event types on the server',
      filter: { scope: 'record', filterType: 'regex', expression: '^Loan(Requested|Approved)$' },
      expected: { target: { kind: 'all', filter: { on: 'eventType', regex: '^Loan(Requested|Approved)$' } }, jsonPath: undefined },
    },
    {
      name: 'record + jsonPath is evaluated on our side, over non-system events',
      filter: { scope: 'record', filterType: 'jsonPath', expression: '$[?@.amount > 5000]' },
      expected: { target: { kind: 'all', filter: { on: 'eventType', regex: excludeSystemEventsRegex } }, jsonPath: '$[?@.amount > 5000]' },
    },
  ]
  for (const row of rows) {
    test(row.name, () => expect(planRead(row.filter)).toEqual(row.expected))
  }
})

describe('createEventPredicate', () => {
  test('never forwards the sink\'s own bookkeeping, whatever the filter', () => {
    const forward = createEventPredicate(planRead({ scope: 'stream', filterType: 'unspecified' }))
    expect(forward(eventOf({}))).toBe(true)
    expect(forward(eventOf({ streamId: '$kafka-sink/orders-sink/checkpoints' }))).toBe(false)
    expect(forward(eventOf({ streamId: '$kafka-sink/orders-sink', type: 'anything' }))).toBe(false)
    expect(forward(eventOf({ type: '$kafka-sink-checkpoint' }))).toBe(false)
  })

  test('a JSONPath forwards JSON events it selects something in, and nothing else', () => {
    const forward = createEventPredicate(planRead({ scope: 'record', filterType: 'jsonPath', expression: '$.customer[?@ == "gold"]' }))
    expect(forward(eventOf({}))).toBe(true)
    expect(forward(eventOf({ data: Buffer.from('{"customer":{"tier":"silver"}}') }))).toBe(false)
    expect(forward(eventOf({ data: Buffer.from('not json') }))).toBe(false)
    expect(forward(eventOf({ contentType: 'application/octet-stream' }))).toBe(false)
  })

  test('a root filter tests the event itself, which plain RFC 9535 would not (it tests the root\'s member values)', () => {
    const forward = createEventPredicate(planRead({ scope: 'record', filterType: 'jsonPath', expression: '$[?@.amount > 5000 && @.customer.tier == "gold"]' }))
    expect(forward(eventOf({}))).toBe(true)
    expect(forward(eventOf({ data: Buffer.from('{"amount":10,"customer":{"tier":"gold"}}') }))).toBe(false)
  })

  test('match() and search() run on RE2: its syntax (inline (?i)), whole-string match() and anywhere search()', () => {
    // JavaScript's engine (with json-p3's I-Regexp check) refuses (?i), so these would never match on it.
    const matchAll = createEventPredicate(planRead({ scope: 'record', filterType: 'jsonPath', expression: "$[?match(@.id, '(?i)order-[0-9]+')]" }))
    expect(matchAll(eventOf({ data: Buffer.from('{"id":"ORDER-42"}') }))).toBe(true)
    expect(matchAll(eventOf({ data: Buffer.from('{"id":"ORDER-42x"}') }))).toBe(false)
    const searchAny = createEventPredicate(planRead({ scope: 'record', filterType: 'jsonPath', expression: "$[?search(@.id, '(?i)order')]" }))
    expect(searchAny(eventOf({ data: Buffer.from('{"id":"the ORDER-42x"}') }))).toBe(true)
    // A pattern that comes from the event itself runs on RE2 too; one RE2 cannot run matches nothing.
    const fromEvent = createEventPredicate(planRead({ scope: 'record', filterType: 'jsonPath', expression: '$[?match(@.id, @.pattern)]' }))
    expect(fromEvent(eventOf({ data: Buffer.from('{"id":"aaaa","pattern":"(a+)+"}') }))).toBe(true)
    expect(fromEvent(eventOf({ data: Buffer.from('{"id":"aa","pattern":"(a)\\\\1"}') }))).toBe(false)
  })
})
