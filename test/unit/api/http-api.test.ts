// What every route shares: authentication, the body cap, JSON parsing, 404/405, the error shape, request logs, and
// the open routes (health, metrics, OpenAPI document, docs page). Runs over the real connectors service and the
// KurrentDB emulator, like a deployment, so /connectors answers come from the service itself.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { apiPassword, apiUser, basicAuthorization, startApiRig, validSettings, type ApiRig } from './api-rig.ts'
import { expectFieldViolations, expectStatus } from './status-assertions.ts'

describe('HTTP API cross-cutting behaviour, with the connectors service over the KurrentDB emulator', () => {
  let rig: ApiRig
  let readiness: { ready: true } | { ready: false; reason: string } | Error = { ready: true }

  beforeAll(async () => {
    rig = await startApiRig({
      maxBodyBytes: 4096,
      checkReady: async () => {
        if (readiness instanceof Error) throw readiness
        return readiness
      },
    })
  })
  afterAll(async () => {
    await rig?.close()
  })

  describe('authentication', () => {
    const challenge = 'Basic realm="kafka-sink"'

    test.each([
      ['no Authorization header', null],
      ['a wrong password', basicAuthorization(apiUser, 'wrong')],
      ['a wrong user', basicAuthorization('someone', apiPassword)],
      ['the password as a prefix', basicAuthorization(apiUser, apiPassword.slice(0, -1))],
      ['a bearer token', 'Bearer abc.def.ghi'],
      ['Basic without a colon', `Basic ${Buffer.from('admin').toString('base64')}`],
      ['Basic with garbage', 'Basic !!!'],
    ])('%s gives 401 UNAUTHENTICATED with a Basic challenge on every /connectors route', async (_case, authorization) => {
      const attempts: Array<[string, string]> = [
        ['GET', '/connectors'],
        ['GET', '/connectors/some-connector/settings'],
        ['POST', '/connectors/some-connector'],
        ['POST', '/connectors/some-connector/start'],
        ['DELETE', '/connectors/some-connector'],
        // Unknown paths and bad ids answer 401 too: a client without credentials learns nothing about the API.
        ['GET', '/connectors/x/unknown/path'],
        ['POST', '/connectors/bad'],
      ]
      for (const [method, path] of attempts) {
        const response = await rig.request(method, path, { authorization, body: method === 'POST' ? '{not json' : undefined })
        expectStatus(response, 401, 16)
        expect(response.headers.get('www-authenticate')).toBe(challenge)
      }
    })

    test('dotted, encoded or re-cased paths never reach a connector route without credentials', async () => {
      for (const path of ['/./connectors', '/health/../connectors', '/%2e/connectors', '/connectors/', '/connectors?state=CONNECTOR_STATE_RUNNING']) {
        expectStatus(await rig.request('GET', path, { authorization: null }), 401, 16)
      }
      // Paths the router does not map to a connector route are plain 404s, and reveal nothing either.
      for (const path of ['/%63onnectors', '/CONNECTORS', '//connectors']) expectStatus(await rig.request('GET', path, { authorization: null }), 404, 5)
    })

    test('the right credentials pass, with the Basic scheme in any letter case', async () => {
      const token = basicAuthorization(apiUser, apiPassword).slice('Basic '.length)
      for (const scheme of ['Basic', 'basic', 'BASIC']) {
        const response = await rig.request('GET', '/connectors', { authorization: `${scheme} ${token}` })
        expect(response.status).toBe(200)
      }
    })

    test('a password containing colons and non-ASCII characters works', async () => {
      const special = await startApiRig({ credentials: { user: 'ops', password: 'pa:ss:wörd' } })
      try {
        expect((await special.request('GET', '/connectors', { authorization: basicAuthorization('ops', 'pa:ss:wörd') })).status).toBe(200)
        expectStatus(await special.request('GET', '/connectors', { authorization: basicAuthorization('ops', 'pa:ss') }), 401, 16)
      } finally {
        await special.close()
      }
    })

    test('health, metrics, the OpenAPI document and the docs page are open', async () => {
      for (const path of ['/health/live', '/health/ready', '/metrics', '/openapi.json', '/docs']) {
        expect((await rig.request('GET', path, { authorization: null })).status).toBe(200)
      }
    })

    test('without credentials configured (--insecure) no request is challenged', async () => {
      const insecure = await startApiRig({ credentials: null })
      try {
        const response = await insecure.request('GET', '/connectors', { authorization: null })
        expect(response.status).toBe(200)
        expect(response.json).toEqual({ items: [], totalSize: 0 })
        expect((await insecure.request('GET', '/connectors', { authorization: basicAuthorization('any', 'thing') })).status).toBe(200)
      } finally {
        await insecure.close()
      }
    })
  })

  describe('request bodies', () => {
    test('a body over the limit gives 413 RESOURCE_EXHAUSTED, by content-length', async () => {
      const settings = validSettings({ 'subscription:filter:expression': 'x'.repeat(5000) })
      const body = expectStatus(await rig.request('POST', '/connectors/too-large-1', { body: { settings } }), 413, 8)
      expect(body.message).toContain('4096 bytes')
      expectStatus(await rig.request('GET', '/connectors/too-large-1/settings'), 404, 5)
    })

    test('a streamed body over the limit (no content-length) gives 413 too', async () => {
      const chunk = new TextEncoder().encode(' '.repeat(1024))
      let sent = 0
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ < 8) controller.enqueue(chunk)
          else controller.close()
        },
      })
      const request = new Request('http://localhost/connectors/too-large-2/settings', {
        method: 'PUT',
        headers: { authorization: basicAuthorization(apiUser, apiPassword), 'content-type': 'application/json' },
        body: stream,
        duplex: 'half',
      } as RequestInit)
      expect(request.headers.get('content-length')).toBeNull()
      expectStatus(await rig.send(request), 413, 8)
    })

    test('a body just under the limit is read', async () => {
      const settings = validSettings({ 'subscription:filter:expression': 'x'.repeat(3500) })
      const text = JSON.stringify({ settings })
      expect(text.length).toBeLessThan(4096)
      expect((await rig.request('POST', '/connectors/just-under-limit', { body: text })).status).toBe(200)
    })

    test('malformed JSON gives 400 INVALID_ARGUMENT naming the body', async () => {
      for (const text of ['{"settings": {', "{'single': 'quotes'}", 'settings=1']) {
        const violations = expectFieldViolations(await rig.request('POST', '/connectors/malformed-json', { body: text }))
        expect(violations[0]!.field).toBe('body')
        expect(violations[0]!.description).toStartWith('The request body is not valid JSON')
      }
    })

    test('a body must be declared JSON: form encoding (what a cross-site form posts) gives 415', async () => {
      const response = await rig.request('POST', '/connectors/form-encoded-json', {
        body: JSON.stringify({ settings: validSettings() }),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      })
      expectStatus(response, 415, 3)
    })

    test.each([
      ['1e-400 (reads as 0)', '1e-400', 'too small to represent'],
      ['-1.5e-999999', '-1.5e-999999', 'too small to represent'],
      ['1e309 (reads as Infinity)', '1e309', 'too large to represent'],
    ])('a number a double cannot hold, %s, is refused rather than read as another value', async (_case, literal, expected) => {
      const body = `{"settings":{"instanceTypeName":"kafka-sink","topic":"t","compression:type":"Zstd","compression:level":${literal}}}`
      const violations = expectFieldViolations(await rig.request('POST', '/connectors/underflowing-level', { body }))
      expect(violations[0]?.description).toContain(expected)
      expectStatus(await rig.request('GET', '/connectors/underflowing-level/settings'), 404, 5)
    })

    test.each([
      ['at the top level', '{"name":"one","name":"two","settings":{"instanceTypeName":"kafka-sink","topic":"t"}}', 'name', 'the body'],
      ['in settings', '{"settings":{"instanceTypeName":"kafka-sink","topic":"a","topic":"b"}}', 'topic', 'the object at "settings"'],
      ['spelled with an escape', '{"settings":{"instanceTypeName":"kafka-sink","topic":"a","\\u0074opic":"b"}}', 'topic', 'the object at "settings"'],
    ])('a key given twice %s is refused instead of the last one silently winning', async (_case, body, key, where) => {
      const violations = expectFieldViolations(await rig.request('POST', '/connectors/duplicated-keys', { body }))
      expect(violations[0]).toEqual({ field: key, description: expect.stringContaining(`appears twice in ${where}`) })
      expectStatus(await rig.request('GET', '/connectors/duplicated-keys/settings'), 404, 5)
    })

    test('equal keys in different objects, and key-like strings in values, are not duplicates', async () => {
      const body = '{"name":"topic","settings":{"instanceTypeName":"kafka-sink","topic":"topic","defaultHeaders":"{\\"topic\\":\\"x\\"}"}}'
      expect((await rig.request('POST', '/connectors/not-duplicated', { body })).status).toBe(200)
    })

    test('numbers that are exact, 0 and 0e5 included, are read as they are', async () => {
      const body = '{"settings":{"instanceTypeName":"kafka-sink","topic":"t","compression:type":"Zstd","compression:level":0e5}}'
      expect((await rig.request('POST', '/connectors/exact-zero-level', { body })).status).toBe(200)
    })

    test('an empty create body reads as {} and is refused for its missing settings', async () => {
      const fields = expectFieldViolations(await rig.request('POST', '/connectors/empty-body')).map(({ field }) => field)
      expect(fields).toContain('instanceTypeName')
    })
  })

  describe('routing', () => {
    test('an unknown route gives 404 NOT_FOUND in the Status shape', async () => {
      for (const path of ['/nowhere', '/api/connectors', '/health']) {
        const body = expectStatus(await rig.request('GET', path), 404, 5)
        expect(body.message).toContain(path)
      }
    })

    test('a known path with another method gives 405 with Allow', async () => {
      const cases: Array<[string, string, string]> = [
        ['DELETE', '/connectors', 'GET, HEAD'],
        ['PATCH', '/connectors/some-connector', 'DELETE, POST'],
        ['DELETE', '/connectors/some-connector/settings', 'GET, HEAD, PUT'],
        ['GET', '/connectors/some-connector/stop', 'POST'],
        ['POST', '/health/live', 'GET, HEAD'],
        ['PUT', '/metrics', 'GET, HEAD'],
      ]
      for (const [method, path, allow] of cases) {
        const response = await rig.request(method, path)
        const body = expectStatus(response, 405, 12)
        expect(response.headers.get('allow')).toBe(allow)
        expect(body.message).toContain(method)
      }
    })
  })

  describe('errors from KurrentDB', () => {
    test('KurrentDB going away gives 503 UNAVAILABLE; the cause is logged at error level, not sent', async () => {
      const created = await rig.request('POST', '/connectors/outage-connector', { body: { settings: validSettings() } })
      expect(created.status).toBe(200)
      await rig.emulator.down()
      try {
        const body = expectStatus(await rig.request('PUT', '/connectors/outage-connector/rename', { body: { name: 'During outage' } }), 503, 14)
        expect(body.message).toBe('KurrentDB could not be reached; try again')
      } finally {
        await rig.emulator.up()
      }
      await Bun.sleep(20)
      const line = rig.logLines.map((text) => JSON.parse(text) as Record<string, unknown>).find((entry) => entry.path === '/connectors/outage-connector/rename')
      expect(line).toMatchObject({ level: 'error', method: 'PUT', status: 503 })
      expect(line!.error).toMatchObject({ name: 'ConnectorError', message: 'KurrentDB could not be reached; try again' })
      expect((line!.error as { cause?: unknown }).cause).toBeDefined()
    })
  })

  describe('request log', () => {
    test('one JSON line per request: debug for success, info for client errors, never the body or query', async () => {
      const before = rig.logLines.length
      await rig.request('GET', '/connectors?includeSettings=true')
      await rig.request('GET', '/connectors/log-missing/settings')
      await Bun.sleep(20)
      const lines = rig.logLines
        .slice(before)
        .map((text) => JSON.parse(text) as Record<string, unknown>)
        .filter((entry) => entry.message === 'request' || entry.message === 'request rejected')
      expect(lines).toHaveLength(2)
      expect(lines[0]).toMatchObject({ level: 'debug', method: 'GET', path: '/connectors', status: 200 })
      expect(typeof lines[0]!.ms).toBe('number')
      expect(lines[1]).toMatchObject({ level: 'info', method: 'GET', path: '/connectors/log-missing/settings', status: 404 })
      expect(JSON.stringify(lines)).not.toContain('includeSettings')
    })
  })

  describe('health', () => {
    test('/health/live is 200 {status: "live"}', async () => {
      const response = await rig.request('GET', '/health/live', { authorization: null })
      expect({ status: response.status, json: response.json }).toEqual({ status: 200, json: { status: 'live' } })
    })

    test('/health/ready follows the readiness check: 200 when ready, 503 UNAVAILABLE with the reason otherwise', async () => {
      readiness = { ready: true }
      const ready = await rig.request('GET', '/health/ready', { authorization: null })
      expect({ status: ready.status, json: ready.json }).toEqual({ status: 200, json: { status: 'ready' } })

      readiness = { ready: false, reason: 'loading connectors from KurrentDB' }
      const notReady = expectStatus(await rig.request('GET', '/health/ready', { authorization: null }), 503, 14)
      expect(notReady.message).toBe('not ready: loading connectors from KurrentDB')

      readiness = new Error('check exploded with a secret detail')
      const failing = await rig.request('GET', '/health/ready', { authorization: null })
      expect(expectStatus(failing, 503, 14).message).toBe('not ready: the readiness check failed; see the log')
      expect(failing.text).not.toContain('secret detail')
      readiness = { ready: true }
    })

    test('a failing readiness probe is logged once per change of state, never at error level per probe', async () => {
      readiness = { ready: true }
      await rig.request('GET', '/health/ready', { authorization: null })
      const before = rig.logLines.length
      readiness = { ready: false, reason: 'KurrentDB is not reachable; the details are in the log' }
      for (let probe = 0; probe < 5; probe++) expect((await rig.request('GET', '/health/ready', { authorization: null })).status).toBe(503)
      readiness = { ready: true }
      expect((await rig.request('GET', '/health/ready', { authorization: null })).status).toBe(200)
      const lines = rig.logLines.slice(before).map((line) => JSON.parse(line) as { level: string; message: string })
      expect(lines.filter((line) => line.level === 'error')).toEqual([])
      expect(lines.filter((line) => line.level !== 'debug').map(({ level, message }) => `${level} ${message}`)).toEqual(['warn not ready', 'info ready'])
    })
  })

  describe('metrics', () => {
    test('/metrics is the Prometheus text format 0.0.4', async () => {
      rig.metrics.forConnector('metrics-connector').messagesProduced(3)
      const response = await rig.request('GET', '/metrics', { authorization: null })
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toStartWith('text/plain; version=0.0.4')
      const lines = response.text.trimEnd().split('\n')
      for (const line of lines) expect(line).toMatch(/^(# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+|[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? -?[0-9.e+Inf-]+)$/)
      expect(lines).toContain('# TYPE messaging_kurrent_producer_message_count counter')
      expect(lines).toContain('messaging_kurrent_producer_message_count{connector_id="metrics-connector"} 3')
    })
  })
})
