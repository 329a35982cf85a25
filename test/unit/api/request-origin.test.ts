// Requests a web page can make the operator's browser send: cross-site marks, foreign origins, bodies that are not
// declared JSON (a `text/plain` form post), and DNS rebinding (a foreign Host) when the API runs without credentials.
// Each is refused with a google.rpc.Status, before anything is stored; what curl sends keeps working.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startApiRig, validSettings, type ApiRig } from './api-rig.ts'
import { expectStatus } from './status-assertions.ts'

async function storedState(rig: ApiRig): Promise<string> {
  return (await rig.request('GET', '/connectors?includeSettings=true')).text
}

describe('cross-site requests, with credentials', () => {
  let rig: ApiRig
  beforeAll(async () => {
    rig = await startApiRig()
  })
  afterAll(async () => {
    await rig?.close()
  })

  const create = { name: 'from a page', settings: validSettings() }

  test.each([
    ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }],
    ['Sec-Fetch-Site: same-site', { 'sec-fetch-site': 'same-site' }],
    ['a foreign Origin', { origin: 'https://evil.example' }],
    ['Origin: null (a sandboxed frame)', { origin: 'null' }],
    ['a foreign Origin on the same host name but another port', { origin: 'http://localhost:8080' }],
  ])('%s is refused with 403 PERMISSION_DENIED, even with valid credentials', async (_case, headers) => {
    const before = await storedState(rig)
    const response = await rig.request('POST', '/connectors/from-a-page', { body: create, headers })
    expectStatus(response, 403, 7)
    expectStatus(await rig.request('POST', '/connectors/from-a-page/start', { headers }), 403, 7)
    expectStatus(await rig.request('GET', '/connectors', { headers }), 403, 7)
    expect(await storedState(rig)).toBe(before)
  })

  test.each(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', null])(
    'a body sent as %p is refused with 415 and a Status naming the content type',
    async (contentType) => {
      const before = await storedState(rig)
      const headers: Record<string, string> = { authorization: `Basic ${Buffer.from('admin:changeit-api-password').toString('base64')}` }
      if (contentType !== null) headers['content-type'] = contentType
      const response = await rig.send(new Request('http://localhost/connectors/form-post', { method: 'POST', headers, body: JSON.stringify(create) }))
      const body = expectStatus(response, 415, 3)
      expect(body.details[0]?.fieldViolations?.[0]?.field).toBe('content-type')
      expect(await storedState(rig)).toBe(before)
    },
  )
})

describe('cross-site requests, the accepted ones', () => {
  let rig: ApiRig
  beforeAll(async () => {
    rig = await startApiRig()
  })
  afterAll(async () => {
    await rig?.close()
  })

  test('JSON bodies, a same-origin page, Sec-Fetch-Site none/same-origin, a bodiless POST and the GET on start are served', async () => {
    const create = { name: 'curl made', settings: validSettings() }
    expect((await rig.request('POST', '/connectors/curl-made', { body: create, headers: { 'content-type': 'application/json; charset=utf-8' } })).status).toBe(200)
    expect((await rig.request('POST', '/connectors/page-made', { body: create, headers: { origin: 'http://localhost', 'sec-fetch-site': 'same-origin' } })).status).toBe(200)
    expect((await rig.request('GET', '/connectors', { headers: { 'sec-fetch-site': 'none' } })).status).toBe(200)
    expect((await rig.request('POST', '/connectors/curl-made/start')).status).toBe(200)
    expect((await rig.request('POST', '/connectors/curl-made/stop')).status).toBe(200)
    expect((await rig.request('GET', '/connectors/curl-made/start')).status).toBe(200)
    expect((await rig.request('POST', '/connectors/curl-made/stop')).status).toBe(200)
  })

  test('the probes, metrics and docs answer other hosts and origins (orchestrators and scrapers send pod addresses)', async () => {
    for (const path of ['/health/live', '/metrics', '/openapi.json']) {
      const response = await rig.send(new Request(`http://10.1.2.3:2114${path}`, { headers: { 'sec-fetch-site': 'cross-site', origin: 'https://elsewhere.example' } }))
      expect(response.status).toBe(200)
    }
  })
})

describe('DNS rebinding, without credentials (--insecure)', () => {
  let rig: ApiRig
  beforeAll(async () => {
    rig = await startApiRig({ credentials: null, allowedHosts: ['sink.internal'] })
  })
  afterAll(async () => {
    await rig?.close()
  })

  test.each(['http://attacker.example:2114', 'http://attacker.example', 'http://192.168.1.20:2114', 'http://localhost.attacker.example'])(
    'a management request with Host %s is refused with 403 and changes nothing',
    async (base) => {
      const before = await storedState(rig)
      const create = JSON.stringify({ settings: validSettings() })
      const response = await rig.send(new Request(`${base}/connectors/rebound`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: create }))
      expectStatus(response, 403, 7)
      expectStatus(await rig.send(new Request(`${base}/connectors`)), 403, 7)
      expect(await storedState(rig)).toBe(before)
    },
  )

  test.each(['http://localhost:2114', 'http://127.0.0.1:2114', 'http://127.8.9.10', 'http://[::1]:2114', 'http://app.localhost', 'http://SINK.internal:2114'])(
    'Host %s (loopback or --allowed-hosts) is served',
    async (base) => {
      expect((await rig.send(new Request(`${base}/connectors`))).status).toBe(200)
    },
  )
})
