/**
 * Property-based fuzzing of every route of the built binary, over raw HTTP (test/support/raw-http.ts), with a fixed
 * seed so a failure replays. The routes and their bodies come from the binary's own OpenAPI document, which is
 * generated from the TypeBox schemas: valid bodies are derived from those schemas, then broken every way (a wrong
 * type for a key, unknown and duplicated keys, nesting 200 deep, huge strings, numbers a double cannot hold, arrays
 * for objects, invalid UTF-8, wrong content types), with garbage path parameters, query strings and path tricks.
 *
 * Every answer must hold: no 5xx, the process stays up, every 4xx body is exactly a google.rpc.Status, and a refused
 * call leaves the stored state as it was (the full `GET /connectors?includeSettings=true` before and after).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { Value } from '@sinclair/typebox/value'
import { StatusSchema } from '../../src/api/rpc-status.ts'
import { spawnKurrentDbEmulator, type KurrentDbEmulatorProcess } from '../support/kurrentdb-emulator-process.ts'
import { sendRaw, type RawRequest, type RawResponse } from '../support/raw-http.ts'
import { startSinkProcess, testCredentials, type SinkProcess } from '../support/sink-process.ts'

const seed = 20_261_201
const authorization: readonly [string, string] = ['Authorization', `Basic ${Buffer.from(`${testCredentials.user}:${testCredentials.password}`).toString('base64')}`]
const existingIds = ['fuzz-existing-one', 'fuzz-existing-two'] as const

type JsonSchema = { readonly [key: string]: unknown }
interface Operation {
  readonly method: string
  readonly path: string
  readonly body: JsonSchema | undefined
  readonly query: readonly string[]
}

let emulator: KurrentDbEmulatorProcess
let sink: SinkProcess
let operations: Operation[] = []
let components: Record<string, JsonSchema> = {}

beforeAll(async () => {
  emulator = await spawnKurrentDbEmulator()
  sink = await startSinkProcess({ kurrentdb: emulator.connectionString })
  const document = JSON.parse((await sendRaw(sink.port, { method: 'GET', target: '/openapi.json' })).body.toString('utf8')) as {
    paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: JsonSchema }> }; parameters?: Array<{ in: string; name: string }> }>>
    components: { schemas: Record<string, JsonSchema> }
  }
  components = document.components.schemas
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      operations.push({
        method: method.toUpperCase(),
        path,
        body: operation.requestBody?.content['application/json']?.schema,
        query: (operation.parameters ?? []).filter((parameter) => parameter.in === 'query').map((parameter) => parameter.name),
      })
    }
  }
  for (const id of existingIds) {
    const created = await send({ method: 'POST', target: `/connectors/${id}`, headers: [authorization, ['Content-Type', 'application/json']], body: JSON.stringify({ settings: { instanceTypeName: 'kafka-sink', topic: 'fuzz', bootstrapServers: 'localhost:1' } }) })
    expect(created.status).toBe(200)
  }
}, 60_000)

afterAll(async () => {
  await sink?.stop('SIGKILL')
  await emulator?.stop()
})

function send(request: RawRequest): Promise<RawResponse> {
  return sendRaw(sink.port, request)
}

/** Every connector with its settings, deleted ones included, over as many pages as it takes. */
async function storedState(): Promise<string> {
  const pages: string[] = []
  for (let page = 1; ; page++) {
    const response = await send({ method: 'GET', target: `/connectors?includeSettings=true&showDeleted=true&pageSize=100&page=${page}`, headers: [authorization] })
    expect(response.status).toBe(200)
    const text = response.body.toString('utf8')
    pages.push(text)
    if ((JSON.parse(text) as { items: unknown[] }).items.length < 100) return pages.join('\n')
  }
}

/** The invariants every answer holds; returns whether the call was refused. */
function checkAnswer(request: RawRequest, response: RawResponse): boolean {
  const label = `${request.method} ${request.target.slice(0, 120)} → ${response.status}: ${response.body.toString('utf8').slice(0, 300)}`
  expect(response.status, label).toBeLessThan(500)
  if (response.status < 400) return false
  let body: unknown
  try {
    body = JSON.parse(response.body.toString('utf8'))
  } catch {
    throw new Error(`a ${response.status} whose body is not JSON: ${label}`)
  }
  expect(Value.Check(StatusSchema, body), label).toBe(true)
  expect(response.headers.get('content-type') ?? '', label).toStartWith('application/json')
  return true
}

/**
 * The stored state once no connector is between states: an accepted stop passes through DEACTIVATING and settles on
 * its own a moment later, which must not read as a change made by the next, refused, call.
 */
async function settledState(): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const state = await storedState()
    if (!/"CONNECTOR_STATE_(ACTIVATING|DEACTIVATING)"/.test(state) || attempt >= 200) return state
    await Bun.sleep(25)
  }
}

/** Sends the request; a refused one must leave the stored state unchanged. */
async function sendAndCheck(request: RawRequest): Promise<void> {
  const before = await settledState()
  const response = await send(request)
  if (!checkAnswer(request, response)) return
  const after = await storedState()
  if (after !== before) throw new Error(`state changed by refused ${request.method} ${request.target.slice(0, 120)} (${response.status}):\n${changedItems(before, after)}`)
}

function changedItems(before: string, after: string): string {
  const itemsOf = (state: string) => state.split('\n').flatMap((page) => (JSON.parse(page) as { items: Array<{ connectorId: string }> }).items)
  const earlier = new Map(itemsOf(before).map((item) => [item.connectorId, JSON.stringify(item)]))
  return itemsOf(after)
    .filter((item) => earlier.get(item.connectorId) !== JSON.stringify(item))
    .map((item) => `before: ${earlier.get(item.connectorId) ?? '(absent)'}\nafter:  ${JSON.stringify(item)}`)
    .join('\n')
}

async function expectAlive(): Promise<void> {
  expect((await send({ method: 'GET', target: '/health/live' })).status).toBe(200)
}

// ---- values derived from the JSON schemas of the document ----

function resolve(schema: JsonSchema): JsonSchema {
  const reference = schema.$ref
  if (typeof reference === 'string') return resolve(components[reference.slice(reference.lastIndexOf('/') + 1)] ?? {})
  return schema
}

/** A value the schema accepts (examples and enums first: they are the meaningful ones). */
function valueOf(schema: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  const resolved = resolve(schema)
  const examples = Array.isArray(resolved.examples) ? resolved.examples : []
  if (Array.isArray(resolved.enum)) return fc.constantFrom(...(resolved.enum as unknown[]))
  if ('const' in resolved) return fc.constant(resolved.const)
  const variants = (resolved.anyOf ?? resolved.oneOf) as JsonSchema[] | undefined
  if (variants !== undefined) return fc.oneof(...variants.map((variant) => valueOf(variant, depth + 1)))
  const types = Array.isArray(resolved.type) ? (resolved.type as string[]) : [resolved.type as string | undefined]
  const byType = types.map((type): fc.Arbitrary<unknown> => {
    switch (type) {
      case 'string':
        return fc.string({ maxLength: 20 })
      case 'integer':
        return fc.integer({ min: -5, max: 100_000 })
      case 'number':
        return fc.double({ noNaN: true, noDefaultInfinity: true })
      case 'boolean':
        return fc.boolean()
      case 'array':
        return fc.array(valueOf((resolved.items as JsonSchema | undefined) ?? {}, depth + 1), { maxLength: 3 })
      case 'object':
      case undefined: {
        const properties = (resolved.properties ?? {}) as Record<string, JsonSchema>
        if (depth > 3) return fc.constant({})
        const entries = Object.fromEntries(Object.entries(properties).map(([name, property]) => [name, valueOf(property, depth + 1)]))
        return fc.record(entries, { requiredKeys: [] })
      }
      default:
        return fc.jsonValue({ maxDepth: 2 })
    }
  })
  const generated = byType.length === 1 ? byType[0]! : fc.oneof(...byType)
  return examples.length > 0 ? fc.oneof(fc.constantFrom(...examples), generated) : generated
}

/** A settings map from the documented flat settings: real keys with values of their own schema. */
function settingsValue(): fc.Arbitrary<Record<string, unknown>> {
  const flat = resolve(components.FlatSettings ?? {})
  const properties = (flat.properties ?? {}) as Record<string, JsonSchema>
  return fc.record(Object.fromEntries(Object.entries(properties).map(([key, schema]) => [key, valueOf(schema)])), { requiredKeys: [] })
}

const wrongValues: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.integer(),
  fc.boolean(),
  fc.constant([]),
  fc.constant([1, 'two', { three: 3 }]),
  fc.constant({ nested: { deeper: true } }),
  fc.string({ maxLength: 5 }),
  fc.constant(''),
  fc.constant('\u0000\u0000\u0000'),
  fc.constant('***'),
)

function deeplyNested(depth: number, asArray: boolean): string {
  return asArray ? `${'['.repeat(depth)}1${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`
}

/** Body text: a valid body, or one broken in a way the property picks. */
function brokenBody(schema: JsonSchema | undefined): fc.Arbitrary<{ text: Buffer; contentType: string | undefined }> {
  const base = schema === undefined ? fc.constant<unknown>({}) : fc.oneof(valueOf(schema), fc.record({ name: fc.string(), settings: settingsValue() }), settingsValue())
  const json = (value: unknown) => Buffer.from(JSON.stringify(value) ?? 'null', 'utf8')
  const mutated = fc.oneof(
    base.map(json),
    // a wrong type for one key
    fc.tuple(base, wrongValues, fc.nat()).map(([value, wrong, index]) => {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return json(wrong)
      const keys = Object.keys(value)
      if (keys.length === 0) return json({ settings: wrong })
      return json({ ...value, [keys[index % keys.length]!]: wrong })
    }),
    // unknown keys, top level and in settings
    fc.tuple(base, fc.string({ minLength: 1, maxLength: 30 })).map(([value, key]) => json(typeof value === 'object' && value !== null && !Array.isArray(value) ? { ...value, [key]: 'x', settings: { ...((value as { settings?: object }).settings ?? {}), [`${key}:unknown`]: 'y' } } : { [key]: value })),
    // duplicated keys (JSON.parse would keep the last one silently)
    base.map((value) => {
      const text = JSON.stringify(value) ?? '{}'
      return Buffer.from(text.startsWith('{') && text !== '{}' ? `{"settings":{"topic":"a","topic":"b"},${text.slice(1)}` : '{"name":"one","name":"two"}', 'utf8')
    }),
    // nesting 200 deep, as an object and as an array, at the top and under settings
    fc.constantFrom(deeplyNested(200, false), deeplyNested(200, true), `{"settings":${deeplyNested(200, false)}}`, `{"settings":{"topic":${deeplyNested(200, true)}}}`).map((text) => Buffer.from(text)),
    // huge strings: one under the body cap, one body over it
    fc.constantFrom(`{"name":"${'n'.repeat(500_000)}"}`, `{"settings":{"topic":"${'t'.repeat(300_000)}","${'k'.repeat(200_000)}":"v"}}`, `{"name":"${'x'.repeat(1_100_000)}"}`).map((text) => Buffer.from(text)),
    // numbers a double cannot hold, and edge numbers
    fc.constantFrom('1e309', '-1e309', '1e-400', '-0', '1e308', '123456789012345678901234567890').map((number) => Buffer.from(`{"settings":{"instanceTypeName":"kafka-sink","topic":"t","compression:level":${number},"resilience:maxRetries":${number}},"name":${number}}`)),
    // arrays for objects
    fc.constantFrom('[]', '[{"settings":{}}]', '{"settings":[]}', '{"settings":["topic","t"]}', '{"configuration":[1,2]}', '"a string"', 'null', '42', 'true').map((text) => Buffer.from(text)),
    // invalid UTF-8 inside a string and in a key
    fc.constantFrom(Buffer.from([0x7b, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x22, 0x7d]), Buffer.concat([Buffer.from('{"settings":{"'), Buffer.from([0xc0, 0xaf, 0xed, 0xa0, 0x80]), Buffer.from('":"x"}}')])),
    // not JSON at all
    fc.constantFrom('{not json', '{"a":1,}', "{'a':1}", 'name=x&settings=y', '\u0000', '{"a":"\\ud800"}').map((text) => Buffer.from(text)),
  )
  const contentType = fc.oneof(
    { weight: 6, arbitrary: fc.constant('application/json') },
    { weight: 1, arbitrary: fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/json; charset=utf-16', 'APPLICATION/JSON', '', undefined) },
  )
  return fc.record({ text: mutated, contentType })
}

// ---- path parameters and query strings ----

const hostileIds = fc.oneof(
  fc.constantFrom(...existingIds),
  fc.constantFrom('fuzz-new-connector', 'abc', 'a', '', '..%2F..%2Fhealth%2Flive', '..%2F', '%2e%2e', '.', '..', '%00', 'fuzz%00id', 'a'.repeat(10_000), '%20spaces%20in%20id', 'id%20', 'caf%C3%A9-%F0%9F%98%80', '%E2%80%AE', '%', '%zz', '%C0%AF', 'fuzz-existing-one%2Fsettings', '*', '%2A', '~'),
  fc.string({ unit: 'grapheme', maxLength: 60 }).map((text) => encodeURIComponent(text)),
  fc.stringMatching(/^[a-zA-Z0-9_-]{5,50}$/),
)

const hostilePositions = fc.oneof(
  // A raw space would end the request target (not HTTP); an encoded one is the hostile case.
  fc.constantFrom('0', '1', '-1', '18446744073709551615', '18446744073709551616', '1e3', '0x10', '%201', '1.5', '', '%00', '9'.repeat(5000), 'NaN', 'Infinity'),
  fc.string({ maxLength: 20 }).map((text) => encodeURIComponent(text)),
)

function hostileQuery(names: readonly string[]): fc.Arbitrary<string> {
  const name = names.length > 0 ? fc.oneof(fc.constantFrom(...names), fc.string({ maxLength: 10 }).map(encodeURIComponent)) : fc.string({ maxLength: 10 }).map(encodeURIComponent)
  const value = fc.oneof(
    fc.constantFrom('true', 'false', 'maybe', '', '-1', '0', '99999999999999999999', 'CONNECTOR_STATE_RUNNING', 'BOGUS', '%zz', '%00', 'a'.repeat(5000)),
    fc.string({ maxLength: 10 }).map(encodeURIComponent),
  )
  return fc.array(fc.tuple(name, value), { maxLength: 6 }).map((pairs) => (pairs.length === 0 ? '' : `?${pairs.map(([key, item]) => `${key}=${item}`).join('&')}`))
}

/** Refuses ids of connectors that exist from being started: a running connector changes its state on its own. */
function targetOf(operation: Operation, id: string, position: string): string {
  return operation.path.replace('{id}', id).replace('{position}', position)
}

describe('fuzzing every route of the binary (fixed seed)', () => {
  test('the document lists the routes the fuzzing covers', () => {
    const routes = operations.map(({ method, path }) => `${method} ${path}`)
    for (const route of ['GET /connectors', 'POST /connectors/{id}', 'PUT /connectors/{id}/settings', 'PUT /connectors/{id}/rename', 'POST /connectors/{id}/start/{position}', 'DELETE /connectors/{id}', 'GET /health/ready']) {
      expect(routes).toContain(route)
    }
  })

  test('bodies derived from the schemas and broken every way: no 5xx, Status bodies, nothing half-applied', async () => {
    const bodyOperations = operations.filter((operation) => operation.body !== undefined)
    expect(bodyOperations.length).toBeGreaterThanOrEqual(4)
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...bodyOperations).chain((operation) => fc.tuple(fc.constant(operation), fc.oneof(fc.constantFrom(...existingIds), hostileIds), brokenBody(operation.body))),
        async ([operation, id, body]) => {
          const headers: Array<readonly [string, string]> = [authorization]
          if (body.contentType !== undefined) headers.push(['Content-Type', body.contentType])
          await sendAndCheck({ method: operation.method, target: targetOf(operation, id, '0'), headers, body: body.text })
        },
      ),
      { seed, numRuns: 1000, endOnFailure: true },
    )
    await expectAlive()
  }, 600_000)

  test('garbage path parameters, query strings and methods on every route: no 5xx, Status bodies, nothing changed when refused', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...operations).chain((operation) =>
          fc.tuple(fc.constant(operation), hostileIds, hostilePositions, hostileQuery(operation.query), fc.constantFrom(operation.method, operation.method, 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND')),
        ),
        async ([operation, id, position, query, method]) => {
          // No connector is started here (GET on start starts too): a running one changes its own state meanwhile,
          // which would read as a refused call changing it. Ids that could name a connector go to one that never exists.
          const couldStart = operation.path.includes('/start') && /^[a-zA-Z0-9_-]{5,50}$/.test(id)
          const target = targetOf(operation, couldStart ? 'fuzz-missing-one' : id, position) + query
          const body = method === 'GET' || method === 'DELETE' ? undefined : '{}'
          await sendAndCheck({ method, target, headers: body === undefined ? [authorization] : [authorization, ['Content-Type', 'application/json']], ...(body === undefined ? {} : { body }) })
        },
      ),
      { seed, numRuns: 500, endOnFailure: true },
    )
    await expectAlive()
  }, 600_000)

  test('a valid create turned hostile in one documented way is always refused, and stores nothing', async () => {
    const validCreate = fc.record({
      name: fc.stringMatching(/^[A-Za-z][A-Za-z0-9 ]{2,30}$/),
      settings: fc.record({ instanceTypeName: fc.constant('kafka-sink'), topic: fc.stringMatching(/^[a-z]{1,20}$/), bootstrapServers: fc.constant('localhost:1') }),
    })
    type Twist = (body: { name: string; settings: Record<string, unknown> }) => { text: string; headers?: Array<readonly [string, string]> }
    const twists: Record<string, Twist> = {
      'a control character in the name': (body) => ({ text: JSON.stringify({ ...body, name: `${body.name}\u0000\u0000\u0000` }) }),
      'a number that underflows to 0': (body) => ({ text: JSON.stringify(body).replace('"settings":{', '"settings":{"compression:type":"Zstd","compression:level":1e-400,') }),
      'a number that overflows to Infinity': (body) => ({ text: JSON.stringify(body).replace('"settings":{', '"settings":{"resilience:maxRetries":1e309,') }),
      'a default header that forges the record identity': (body) => ({ text: JSON.stringify({ ...body, settings: { ...body.settings, 'defaultHeaders:esdb-record-id': 'forged' } }) }),
      'a backtracking partition-key regex': (body) => ({ text: JSON.stringify({ ...body, settings: { ...body.settings, 'partitionKeyExtraction:enabled': 'true', 'partitionKeyExtraction:source': 'stream', 'partitionKeyExtraction:expression': '^(?=a)(\\w)\\1' } }) }),
      'a body sent as text/plain (a cross-site form post)': (body) => ({ text: JSON.stringify(body), headers: [['Content-Type', 'text/plain']] }),
      'a request a browser marks cross-site': (body) => ({ text: JSON.stringify(body), headers: [['Sec-Fetch-Site', 'cross-site']] }),
      'a foreign Origin': (body) => ({ text: JSON.stringify(body), headers: [['Origin', 'https://evil.example']] }),
      'a settings key given twice': (body) => ({ text: JSON.stringify(body).replace('"settings":{', '"settings":{"topic":"first",') }),
    }
    await fc.assert(
      fc.asyncProperty(validCreate, fc.constantFrom(...Object.keys(twists)), fc.stringMatching(/^fuzz-[a-z0-9]{5,20}$/), async (body, twistName, id) => {
        const twisted = twists[twistName]!(body)
        const headers: Array<readonly [string, string]> = [authorization, ...(twisted.headers ?? [])]
        if (!headers.some(([name]) => name === 'Content-Type')) headers.push(['Content-Type', 'application/json'])
        const request: RawRequest = { method: 'POST', target: `/connectors/${id}`, headers, body: twisted.text }
        const before = await settledState()
        const response = await send(request)
        expect(response.status, `${twistName}: ${response.body.toString('utf8').slice(0, 200)}`).toBeGreaterThanOrEqual(400)
        checkAnswer(request, response)
        expect(await storedState()).toBe(before)
      }),
      { seed, numRuns: 200, endOnFailure: true },
    )
  }, 300_000)

  test('headers that try to confuse: duplicated or odd Authorization, Content-Length lies are refused, not crashed on', async () => {
    const requests: RawRequest[] = [
      { method: 'GET', target: '/connectors', headers: [authorization, ['Authorization', 'Basic Zm9vOmJhcg==']] },
      { method: 'GET', target: '/connectors', headers: [['Authorization', `Basic ${'A'.repeat(6_000)}`]] },
      { method: 'GET', target: '/connectors', headers: [['Authorization', 'Basic \u00ff\u00fe']] },
      { method: 'POST', target: '/connectors/fuzz-header-one', headers: [authorization, ['Content-Type', 'application/json'], ['Content-Type', 'text/plain']], body: '{}' },
      { method: 'POST', target: '/connectors/fuzz-header-two', headers: [authorization, ['Content-Type', 'application/json'], ['Origin', 'https://evil.example']], body: '{"settings":{"instanceTypeName":"kafka-sink","topic":"t"}}' },
      { method: 'GET', target: '/connectors/%2e%2e/%2e%2e/health/live', headers: [authorization] },
      { method: 'GET', target: `/connectors?${'a=1&'.repeat(2000)}`, headers: [authorization] },
    ]
    for (const request of requests) await sendAndCheck(request)
    // Headers over the HTTP server's limit are refused by it (431, empty body) before the API sees them.
    const oversized = await send({ method: 'GET', target: '/connectors', headers: [['Authorization', `Basic ${'A'.repeat(40_000)}`]] })
    expect(oversized.status).toBe(431)
    await expectAlive()
  }, 120_000)
})
