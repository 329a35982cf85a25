// The OpenAPI document is generated from the route schemas; these tests hold it to what the API serves: every route
// present with its documentation, every reference resolvable, and the docs page readable without any network.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { flatSettingsJsonSchema } from '../../../src/settings/kafka-sink-settings.ts'
import { startApiRig, type ApiRig } from './api-rig.ts'

interface Operation {
  operationId: string
  summary: string
  description: string
  tags: string[]
  security: Array<Record<string, string[]>>
  deprecated?: boolean
  parameters: Array<{ name: string; in: string; required: boolean; schema: Record<string, unknown> }>
  requestBody?: { content: Record<string, { schema: unknown }> }
  responses: Record<string, { description: string; content?: Record<string, { schema: unknown }> }>
}

interface Document {
  openapi: string
  info: { title: string; version: string; description: string }
  tags: Array<{ name: string; description: string }>
  paths: Record<string, Record<string, Operation>>
  components: { schemas: Record<string, Record<string, unknown>>; securitySchemes: Record<string, unknown> }
}

const managementRoutes = [
  'GET /connectors',
  'POST /connectors/{id}',
  'DELETE /connectors/{id}',
  'PUT /connectors/{id}/settings',
  'GET /connectors/{id}/settings',
  'PUT /connectors/{id}/configuration',
  'GET /connectors/{id}/configuration',
  'POST /connectors/{id}/start',
  'GET /connectors/{id}/start',
  'POST /connectors/{id}/start/{position}',
  'POST /connectors/{id}/reset',
  'POST /connectors/{id}/reset/{position}',
  'POST /connectors/{id}/stop',
  'PUT /connectors/{id}/rename',
]
const openRoutes = ['GET /health/live', 'GET /health/ready', 'GET /metrics', 'GET /openapi.json', 'GET /docs']

function* walk(value: unknown, path = '$'): Generator<[string, Record<string, unknown>]> {
  if (Array.isArray(value)) for (const [index, item] of value.entries()) yield* walk(item, `${path}[${index}]`)
  else if (typeof value === 'object' && value !== null) {
    yield [path, value as Record<string, unknown>]
    for (const [key, child] of Object.entries(value)) yield* walk(child, `${path}.${key}`)
  }
}

describe('OpenAPI document and docs page, with the connectors service over the KurrentDB emulator', () => {
  let rig: ApiRig
  let document: Document
  const operations = () =>
    Object.entries(document.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => ({ route: `${method.toUpperCase()} ${path}`, path, operation })))

  beforeAll(async () => {
    rig = await startApiRig()
    const response = await rig.request('GET', '/openapi.json', { authorization: null })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toStartWith('application/json')
    document = response.json as Document
  })
  afterAll(async () => {
    await rig?.close()
  })

  test('is OpenAPI 3.1 with the app version and HTTP Basic as security scheme', () => {
    expect(document.openapi).toBe('3.1.0')
    expect(document.info.version).toBe('0.0.0-test')
    expect(document.info.title.length).toBeGreaterThan(0)
    expect(document.components.securitySchemes).toEqual({ basicAuth: { type: 'http', scheme: 'basic' } })
  })

  test('lists exactly the routes the API serves', () => {
    expect(operations().map(({ route }) => route).sort()).toEqual([...managementRoutes, ...openRoutes].sort())
    // And every documented route answers something other than 404/405 (the router agrees with the document).
    expect(rig.app.routes.map(({ method, path }) => `${method} ${path.replace(/:(\w+)/g, '{$1}')}`).sort()).toEqual([...managementRoutes, ...openRoutes].sort())
  })

  test('every operation has an id, summary, description, known tags and described responses', () => {
    const ids = new Set<string>()
    const tagNames = new Set(document.tags.map(({ name }) => name))
    for (const { route, operation } of operations()) {
      expect({ route, id: operation.operationId }).toMatchObject({ id: expect.stringMatching(/^[a-zA-Z]+$/) })
      expect(ids.has(operation.operationId)).toBe(false)
      ids.add(operation.operationId)
      expect(operation.summary.length).toBeGreaterThan(3)
      expect(operation.description.length).toBeGreaterThan(10)
      expect(operation.tags.length).toBeGreaterThan(0)
      for (const tag of operation.tags) expect(tagNames.has(tag)).toBe(true)
      expect(Object.keys(operation.responses)).toContain('200')
      for (const [status, response] of Object.entries(operation.responses)) {
        expect(status).toMatch(/^[1-5]\d\d$/)
        expect(response.description.length).toBeGreaterThan(3)
        expect(response.content).toBeDefined()
      }
    }
    for (const tag of document.tags) expect(tag.description.length).toBeGreaterThan(10)
  })

  test('management routes require Basic auth and document their error responses as Status; open routes need none', () => {
    for (const { route, operation } of operations()) {
      if (managementRoutes.includes(route)) {
        expect(operation.security).toEqual([{ basicAuth: [] }])
        for (const status of ['400', '401', '500', '503']) {
          expect({ route, status, schema: operation.responses[status]?.content?.['application/json']?.schema }).toEqual({ route, status, schema: { $ref: '#/components/schemas/Status' } })
        }
      } else {
        expect(operation.security).toEqual([])
      }
    }
    expect(document.paths['/connectors/{id}']!.get).toBeUndefined()
    expect(document.paths['/connectors/{id}/start']!.get!.deprecated).toBe(true)
    expect(Object.keys(document.paths['/connectors/{id}']!.post!.responses)).toContain('413')
    expect(Object.keys(document.paths['/connectors/{id}/settings']!.get!.responses)).toContain('404')
  })

  test('path parameters match the path template; list filters are repeatable query parameters', () => {
    for (const { route, path, operation } of operations()) {
      const templated = [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!)
      const declared = operation.parameters.filter((parameter) => parameter.in === 'path')
      expect({ route, names: declared.map(({ name }) => name) }).toEqual({ route, names: templated })
      for (const parameter of declared) expect(parameter.required).toBe(true)
    }
    const list = document.paths['/connectors']!.get!
    expect(list.parameters.map(({ name }) => name).sort()).toEqual(
      ['connectorId', 'includeConfiguration', 'includeSettings', 'instanceTypeName', 'page', 'pageSize', 'paging.page', 'paging.pageSize', 'showDeleted', 'state'].sort(),
    )
    for (const name of ['state', 'instanceTypeName', 'connectorId']) {
      expect(list.parameters.find((parameter) => parameter.name === name)).toMatchObject({ in: 'query', required: false, style: 'form', explode: true, schema: { type: 'array' } })
    }
    const id = document.paths['/connectors/{id}']!.post!.parameters[0]!
    expect(id.schema).toMatchObject({ type: 'string', minLength: 5, maxLength: 50, pattern: '^[a-zA-Z0-9_-]+$' })
  })

  test('request and response bodies: the settings are documented key by key from the settings schema', () => {
    const create = document.paths['/connectors/{id}']!.post!
    const createBody = create.requestBody!.content['application/json']!.schema as { properties: Record<string, Record<string, unknown>>; additionalProperties: boolean }
    expect(Object.keys(createBody.properties).sort()).toEqual(['configuration', 'name', 'settings'])
    expect(createBody.additionalProperties).toBe(false)
    expect(createBody.properties.settings!.$ref).toBe('#/components/schemas/FlatSettings')
    expect(document.paths['/connectors/{id}/settings']!.put!.requestBody!.content['application/json']!.schema).toMatchObject({ $ref: '#/components/schemas/FlatSettings' })

    const flatSettings = document.components.schemas.FlatSettings as { properties: Record<string, { description?: string }> }
    expect(Object.keys(flatSettings.properties).sort()).toEqual(Object.keys(flatSettingsJsonSchema.properties).sort())
    expect(flatSettings.properties.topic!.description).toStartWith('Required.')
    expect(flatSettings.properties['authentication:password']).toBeDefined()

    const list = document.paths['/connectors']!.get!.responses['200']!.content!['application/json']!.schema as { properties: Record<string, unknown> }
    expect(Object.keys(list.properties).sort()).toEqual(['items', 'totalSize'])
    expect(list.properties.items).toEqual({ type: 'array', items: { $ref: '#/components/schemas/Connector' } })
    const connector = document.components.schemas.Connector as { properties: Record<string, Record<string, unknown>>; required: string[] }
    expect(connector.properties.state!.enum).toEqual(['CONNECTOR_STATE_ACTIVATING', 'CONNECTOR_STATE_RUNNING', 'CONNECTOR_STATE_DEACTIVATING', 'CONNECTOR_STATE_STOPPED'])
    expect(connector.required.sort()).toEqual(['connectorId', 'createTime', 'instanceTypeName', 'name', 'state', 'stateUpdateTime', 'updateTime'])
    expect(document.paths['/metrics']!.get!.responses['200']!.content).toHaveProperty(['text/plain'])
    expect(document.paths['/docs']!.get!.responses['200']!.content).toHaveProperty('text/html')
  })

  test('every $ref resolves, and no private keyword of the validation schemas leaks into the document', () => {
    for (const [path, node] of walk(document)) {
      if (typeof node.$ref === 'string') {
        expect(node.$ref).toStartWith('#/components/schemas/')
        expect({ path, resolved: document.components.schemas[node.$ref.slice('#/components/schemas/'.length)] !== undefined }).toEqual({ path, resolved: true })
      }
      expect({ path, keys: Object.keys(node).filter((key) => key === 'x-component') }).toEqual({ path, keys: [] })
      // `error` is Elysia's custom-message keyword; inside `properties` it may be a property name, so only check schemas.
      if (!path.endsWith('.properties')) expect({ path, error: node.error }).toEqual({ path, error: undefined })
    }
  })

  test('/docs renders every operation and schema in one page with no script and no external asset', async () => {
    const response = await rig.request('GET', '/docs', { authorization: null })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8')
    const html = response.text
    expect(html).toStartWith('<!doctype html>')
    for (const route of [...managementRoutes, ...openRoutes]) {
      const [method, path] = route.split(' ')
      expect(html).toContain(`${method}</span> <code>${path}</code>`)
    }
    for (const name of Object.keys(document.components.schemas)) expect(html).toContain(`id="schema-${name}"`)
    expect(html).toContain('<code>authentication:password</code>')
    expect(html).not.toMatch(/<script/i)
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//i)
    expect(html).not.toMatch(/@import|url\(/i)
  })
})
