// The connector routes against the real connectors service, which keeps its state in the KurrentDB emulator: every
// route's success shape, each validation error in KurrentDB's words, unknown ids, and that a secret sent in the
// settings never comes back. Lifecycle transitions that need a running connector are in connector-lifecycle.test.ts.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startApiRig, validSettings, type ApiRig } from './api-rig.ts'
import { expectFieldViolations, expectResourceInfo, expectStatus } from './status-assertions.ts'

const kafkaPassword = 'kafka-password-that-must-never-be-shown'
const isoTimestamp = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/

interface ConnectorJson {
  connectorId: string
  instanceTypeName: string
  name: string
  state: string
  stateUpdateTime: string
  settings?: Record<string, string>
  settingsUpdateTime?: string
  configuration?: Record<string, unknown>
  configurationUpdateTime?: string
  position?: string
  createTime: string
  updateTime: string
  deleteTime?: string
  errorDetails?: { code: string; message: string }
}

interface ListJson {
  items: ConnectorJson[]
  totalSize: number
}

describe('connector routes, with the connectors service over the KurrentDB emulator', () => {
  let rig: ApiRig
  let sequence = 0
  /** A fresh connector id per test, so tests sharing the rig never see each other's connectors. */
  const newId = (prefix = 'conn') => `${prefix}-${++sequence}-${Math.random().toString(36).slice(2, 8)}`

  const create = async (connectorId: string, body: unknown = { settings: validSettings() }) => {
    const response = await rig.request('POST', `/connectors/${connectorId}`, { body })
    expect({ status: response.status, body: response.text }).toEqual({ status: 200, body: '{}' })
    return response
  }
  const listOne = async (connectorId: string, query = ''): Promise<ConnectorJson | undefined> => {
    const response = await rig.request('GET', `/connectors?connectorId=${connectorId}${query}`)
    expect(response.status).toBe(200)
    return (response.json as ListJson).items[0]
  }

  beforeAll(async () => {
    rig = await startApiRig()
  })
  afterAll(async () => {
    await rig?.close()
  })

  describe('POST /connectors/{id} (create)', () => {
    test('answers 200 {} with JSON content type, and the connector is listed as stopped', async () => {
      const connectorId = newId()
      const response = await create(connectorId, { name: 'Orders to Kafka', settings: validSettings() })
      expect(response.headers.get('content-type')).toStartWith('application/json')
      const connector = await listOne(connectorId)
      expect(connector).toBeDefined()
      expect(Object.keys(connector!).sort()).toEqual(['connectorId', 'createTime', 'instanceTypeName', 'name', 'settingsUpdateTime', 'state', 'stateUpdateTime', 'updateTime'])
      expect(connector!.connectorId).toBe(connectorId)
      expect(connector!.instanceTypeName).toBe('kafka-sink')
      expect(connector!.name).toBe('Orders to Kafka')
      expect(connector!.state).toBe('CONNECTOR_STATE_STOPPED')
      for (const time of [connector!.stateUpdateTime, connector!.settingsUpdateTime, connector!.createTime, connector!.updateTime]) expect(time).toMatch(isoTimestamp)
    })

    test('without a name, the name is the id', async () => {
      const connectorId = newId()
      await create(connectorId, { settings: validSettings() })
      expect((await listOne(connectorId))!.name).toBe(connectorId)
    })

    test('accepts native booleans and numbers in settings and stores them as strings', async () => {
      const connectorId = newId()
      await create(connectorId, { settings: validSettings({ waitForBrokerAck: true, 'compression:level': 3 }) })
      const settings = (await rig.request('GET', `/connectors/${connectorId}/settings`)).json as { settings: Record<string, string> }
      expect(settings.settings.waitForBrokerAck).toBe('true')
      expect(settings.settings['compression:level']).toBe('3')
    })

    test('a configuration with at least one field wins over settings', async () => {
      const connectorId = newId()
      await create(connectorId, {
        settings: validSettings({ topic: 'from-settings' }),
        configuration: { instanceTypeName: 'kafka-sink', topic: 'from-configuration', subscription: { filter: { scope: 'stream', filterType: 'streamId', expression: 'orders' } } },
      })
      const { settings } = (await rig.request('GET', `/connectors/${connectorId}/settings`)).json as { settings: Record<string, string> }
      expect(settings).toEqual({
        instanceTypeName: 'kafka-sink',
        topic: 'from-configuration',
        'subscription:filter:scope': 'stream',
        'subscription:filter:filterType': 'streamId',
        'subscription:filter:expression': 'orders',
      })
    })

    test('an empty configuration leaves the settings in charge', async () => {
      const connectorId = newId()
      await create(connectorId, { settings: validSettings({ topic: 'from-settings' }), configuration: {} })
      const { settings } = (await rig.request('GET', `/connectors/${connectorId}/settings`)).json as { settings: Record<string, string> }
      expect(settings.topic).toBe('from-settings')
    })

    test('an id that exists gives 409 ALREADY_EXISTS with ResourceInfo', async () => {
      const connectorId = newId()
      await create(connectorId)
      const body = expectStatus(await rig.request('POST', `/connectors/${connectorId}`, { body: { settings: validSettings() } }), 409, 6)
      expect(body.message).toBe(`Connector ${connectorId} already exists`)
      expectResourceInfo(body, connectorId)
    })
  })

  describe('validation errors (400 INVALID_ARGUMENT with field violations)', () => {
    test.each([
      ['too short', 'abcd', 'ConnectorId must be between 5 and 50 characters long'],
      ['too long', 'a'.repeat(51), 'ConnectorId must be between 5 and 50 characters long'],
      ['with characters other than letters, digits, - and _', 'orders.to.kafka', 'ConnectorId can only contain alphanumeric characters, hyphens, and underscores'],
      ['with a space', 'orders%20kafka', 'ConnectorId can only contain alphanumeric characters, hyphens, and underscores'],
    ])('an id %s is refused on create, on commands and on queries', async (_case, connectorId, description) => {
      const attempts = [
        rig.request('POST', `/connectors/${connectorId}`, { body: { settings: validSettings() } }),
        rig.request('POST', `/connectors/${connectorId}/start`),
        rig.request('DELETE', `/connectors/${connectorId}`),
        rig.request('GET', `/connectors/${connectorId}/settings`),
      ]
      for (const response of await Promise.all(attempts)) {
        expect(expectFieldViolations(response)).toContainEqual({ field: 'ConnectorId', description })
        expect((response.json as { message: string }).message).toBe(JSON.stringify({ ConnectorId: [description] }))
      }
    })

    test.each([
      ['too short', 'ab'],
      ['too long', 'n'.repeat(51)],
    ])('a name %s is refused on create and on rename', async (_case, name) => {
      const connectorId = newId()
      const expected = { field: 'Name', description: 'name must be between 3 and 50 characters long' }
      expect(expectFieldViolations(await rig.request('POST', `/connectors/${connectorId}`, { body: { name, settings: validSettings() } }))).toContainEqual(expected)
      await create(connectorId)
      expect(expectFieldViolations(await rig.request('PUT', `/connectors/${connectorId}/rename`, { body: { name } }))).toContainEqual(expected)
    })

    test.each([
      ['only NUL characters', '\u0000\u0000\u0000'],
      ['an escape sequence', 'Orders \u001b[2J to Kafka'],
      ['a line break', 'Orders\nto Kafka'],
      ['a C1 control character', 'Orders \u009b to Kafka'],
    ])('a name with %s is refused on create and on rename, and the stored name stays', async (_case, name) => {
      const connectorId = newId()
      const expected = { field: 'Name', description: 'name must not contain control characters (such as NUL, tab or line breaks)' }
      expect(expectFieldViolations(await rig.request('POST', `/connectors/${connectorId}`, { body: { name, settings: validSettings() } }))).toContainEqual(expected)
      await create(connectorId, { name: 'Kept name', settings: validSettings() })
      expect(expectFieldViolations(await rig.request('PUT', `/connectors/${connectorId}/rename`, { body: { name } }))).toContainEqual(expected)
      const listed = (await rig.request('GET', `/connectors?connectorId=${connectorId}`)).json as { items: Array<{ name: string }> }
      expect(listed.items[0]?.name).toBe('Kept name')
    })

    test('rename without a name is refused', async () => {
      const connectorId = newId()
      await create(connectorId)
      expect(expectFieldViolations(await rig.request('PUT', `/connectors/${connectorId}/rename`, { body: {} }))).toContainEqual({
        field: 'Name',
        description: 'name must be between 3 and 50 characters long',
      })
    })

    test('invalid settings are all reported at once, one violation per problem', async () => {
      const violations = expectFieldViolations(
        await rig.request('POST', `/connectors/${newId()}`, {
          body: { settings: { instanceTypeName: 'kafka-sink', waitForBrokerAck: 'maybe', 'compression:type': 'brotli' } },
        }),
      )
      const fields = violations.map(({ field }) => field)
      expect(fields).toContain('topic')
      expect(fields).toContain('waitForBrokerAck')
      expect(fields).toContain('compression:type')
      for (const { description } of violations) expect(description.length).toBeGreaterThan(10)
    })

    test('an unknown settings key is refused with the closest known key', async () => {
      const violations = expectFieldViolations(await rig.request('POST', `/connectors/${newId()}`, { body: { settings: validSettings({ topik: 'x' }) } }))
      expect(violations).toHaveLength(1)
      expect(violations[0]!.field).toBe('topik')
      expect(violations[0]!.description).toContain('topic')
    })

    test('an instanceTypeName other than kafka-sink is refused', async () => {
      const violations = expectFieldViolations(await rig.request('POST', `/connectors/${newId()}`, { body: { settings: validSettings({ instanceTypeName: 'http-sink' }) } }))
      expect(violations.map(({ field }) => field)).toContain('instanceTypeName')
    })

    test('a create body without settings is refused for the missing required settings', async () => {
      const fields = expectFieldViolations(await rig.request('POST', `/connectors/${newId()}`, { body: { name: 'No settings' } })).map(({ field }) => field)
      expect(fields).toContain('instanceTypeName')
    })

    test('settings sent at the top level of a create body are refused, naming the field', async () => {
      const violations = expectFieldViolations(await rig.request('POST', `/connectors/${newId()}`, { body: { instanceTypeName: 'kafka-sink', topic: 'customers' } }))
      expect(violations.map(({ field }) => field).sort()).toEqual(['instanceTypeName', 'topic'])
      expect(violations[0]!.description).toContain('settings go inside "settings"')
    })

    test('settings that are not an object are refused', async () => {
      for (const settings of [['topic'], 'topic=customers', 42]) {
        const violations = expectFieldViolations(await rig.request('POST', `/connectors/${newId()}`, { body: { settings } }))
        expect(violations[0]!.field).toBe('Settings')
        expect(violations[0]!.description).toContain('flat `a:b:c` keys')
      }
    })

    test('PUT settings with an array body and PUT configuration with a string body are refused', async () => {
      const connectorId = newId()
      await create(connectorId)
      expect(expectFieldViolations(await rig.request('PUT', `/connectors/${connectorId}/settings`, { body: [validSettings()] }))[0]!.description).toContain('flat `a:b:c` keys')
      expect(expectFieldViolations(await rig.request('PUT', `/connectors/${connectorId}/configuration`, { body: '"text"' }))[0]!.description).toContain('must be a JSON object')
    })

    test.each([
      ['letters', 'abc'],
      ['a negative number', '-1'],
      ['a fraction', '1.5'],
      ['above 2^64-1', '18446744073709551616'],
      ['21 digits', '100000000000000000000'],
    ])('a position made of %s is refused on start and reset', async (_case, position) => {
      const connectorId = newId()
      await create(connectorId)
      for (const route of ['start', 'reset']) {
        expect(expectFieldViolations(await rig.request('POST', `/connectors/${connectorId}/${route}/${position}`))).toEqual([
          { field: 'Position', description: 'Position must be a log position: a whole number from 0 to 18446744073709551615' },
        ])
      }
      expect((await listOne(connectorId))!.state).toBe('CONNECTOR_STATE_STOPPED')
    })

    test.each([
      ['page=0', 'Paging.Page', 'Page must be greater than or equal to 1.'],
      ['paging.page=0', 'Paging.Page', 'Page must be greater than or equal to 1.'],
      ['page=first', 'Paging.Page', 'Page must be greater than or equal to 1.'],
      ['pageSize=0', 'Paging.PageSize', 'Page size must be between 1 and 100.'],
      ['pageSize=101', 'Paging.PageSize', 'Page size must be between 1 and 100.'],
      ['paging.pageSize=-5', 'Paging.PageSize', 'Page size must be between 1 and 100.'],
      ['state=CONNECTOR_STATE_BROKEN', 'State', 'State must be one of CONNECTOR_STATE_ACTIVATING, CONNECTOR_STATE_RUNNING, CONNECTOR_STATE_DEACTIVATING, CONNECTOR_STATE_STOPPED; got "CONNECTOR_STATE_BROKEN"'],
      ['includeSettings=yes', 'IncludeSettings', 'IncludeSettings must be true or false; got "yes"'],
    ])('GET /connectors?%s is refused', async (query, field, description) => {
      expect(expectFieldViolations(await rig.request('GET', `/connectors?${query}`))).toEqual([{ field, description }])
    })
  })

  describe('unknown ids', () => {
    test('queries answer 404 NOT_FOUND with ResourceInfo', async () => {
      const connectorId = newId('missing')
      for (const path of [`/connectors/${connectorId}/settings`, `/connectors/${connectorId}/configuration`]) {
        const body = expectStatus(await rig.request('GET', path), 404, 5)
        expect(body.message).toBe(`Connector ${connectorId} not found`)
        expectResourceInfo(body, connectorId)
      }
    })

    test('commands answer 404 NOT_FOUND too', async () => {
      const connectorId = newId('missing')
      const commands: Array<[string, string, unknown?]> = [
        ['POST', `/connectors/${connectorId}/start`],
        ['GET', `/connectors/${connectorId}/start`],
        ['POST', `/connectors/${connectorId}/start/100`],
        ['POST', `/connectors/${connectorId}/reset`],
        ['POST', `/connectors/${connectorId}/reset/100`],
        ['POST', `/connectors/${connectorId}/stop`],
        ['DELETE', `/connectors/${connectorId}`],
        ['PUT', `/connectors/${connectorId}/rename`, { name: 'New name' }],
        ['PUT', `/connectors/${connectorId}/settings`, validSettings()],
        ['PUT', `/connectors/${connectorId}/configuration`, { instanceTypeName: 'kafka-sink', topic: 'customers' }],
      ]
      for (const [method, path, body] of commands) {
        const status = expectStatus(await rig.request(method, path, body === undefined ? {} : { body }), 404, 5)
        expect(status.message).toBe(`Connector ${connectorId} not found`)
        expectResourceInfo(status, connectorId)
      }
    })
  })

  describe('queries', () => {
    test('GET /connectors/{id}/settings answers exactly {settings, settingsUpdateTime}', async () => {
      const connectorId = newId()
      await create(connectorId, { settings: validSettings({ 'defaultHeaders:source': 'kurrentdb' }) })
      const response = await rig.request('GET', `/connectors/${connectorId}/settings`)
      expect(response.status).toBe(200)
      const body = response.json as { settings: Record<string, string>; settingsUpdateTime: string }
      expect(Object.keys(body).sort()).toEqual(['settings', 'settingsUpdateTime'])
      expect(body.settings).toEqual(validSettings({ 'defaultHeaders:source': 'kurrentdb' }) as Record<string, string>)
      expect(body.settingsUpdateTime).toMatch(isoTimestamp)
    })

    test('GET /connectors/{id}/configuration answers exactly {configuration, configurationUpdateTime}, nested', async () => {
      const connectorId = newId()
      await create(connectorId)
      const response = await rig.request('GET', `/connectors/${connectorId}/configuration`)
      expect(response.status).toBe(200)
      const body = response.json as { configuration: Record<string, unknown>; configurationUpdateTime: string }
      expect(Object.keys(body).sort()).toEqual(['configuration', 'configurationUpdateTime'])
      expect(body.configuration).toEqual({
        instanceTypeName: 'kafka-sink',
        topic: 'customers',
        bootstrapServers: 'localhost:9092',
        subscription: { filter: { scope: 'stream', filterType: 'streamId', expression: 'example-stream' } },
      })
      expect(body.configurationUpdateTime).toMatch(isoTimestamp)
    })

    test('includeSettings adds the settings; includeConfiguration shows them nested instead', async () => {
      const connectorId = newId()
      await create(connectorId)
      const withSettings = await listOne(connectorId, '&includeSettings=true')
      expect(withSettings!.settings).toEqual(validSettings() as Record<string, string>)
      expect(withSettings!.configuration).toBeUndefined()
      const withConfiguration = await listOne(connectorId, '&includeConfiguration=true')
      expect(withConfiguration!.settings).toBeUndefined()
      expect(withConfiguration!.settingsUpdateTime).toBeUndefined()
      expect(withConfiguration!.configuration).toMatchObject({ topic: 'customers', subscription: { filter: { scope: 'stream' } } })
      expect(withConfiguration!.configurationUpdateTime).toMatch(isoTimestamp)
    })

    test('filters by repeated connectorId, by state and by instanceTypeName, and pages under both parameter names', async () => {
      const ids = [newId('page'), newId('page'), newId('page')]
      for (const connectorId of ids) await create(connectorId)
      const only = `connectorId=${ids[0]}&connectorId=${ids[1]}&connectorId=${ids[2]}`

      const all = (await rig.request('GET', `/connectors?${only}`)).json as ListJson
      expect(all.items.map(({ connectorId }) => connectorId)).toEqual(ids)
      expect(all.totalSize).toBe(3)

      const firstPage = (await rig.request('GET', `/connectors?${only}&page=1&pageSize=2`)).json as ListJson
      expect(firstPage.items.map(({ connectorId }) => connectorId)).toEqual(ids.slice(0, 2))
      const secondPage = (await rig.request('GET', `/connectors?${only}&paging.page=2&paging.pageSize=2`)).json as ListJson
      expect(secondPage.items.map(({ connectorId }) => connectorId)).toEqual(ids.slice(2))
      // The name KurrentDB binds wins over the documented one.
      const preferred = (await rig.request('GET', `/connectors?${only}&pageSize=1&paging.pageSize=3`)).json as ListJson
      expect(preferred.items).toHaveLength(3)

      const commaSeparated = (await rig.request('GET', `/connectors?connectorId=${ids[0]},${ids[2]}`)).json as ListJson
      expect(commaSeparated.items.map(({ connectorId }) => connectorId)).toEqual([ids[0]!, ids[2]!])

      const running = (await rig.request('GET', `/connectors?${only}&state=CONNECTOR_STATE_RUNNING`)).json as ListJson
      expect(running).toEqual({ items: [], totalSize: 0 })
      const stopped = (await rig.request('GET', `/connectors?${only}&state=CONNECTOR_STATE_RUNNING&state=CONNECTOR_STATE_STOPPED`)).json as ListJson
      expect(stopped.items).toHaveLength(3)

      expect(((await rig.request('GET', `/connectors?${only}&instanceTypeName=http-sink`)).json as ListJson).items).toEqual([])
      expect(((await rig.request('GET', `/connectors?${only}&instanceTypeName=kafka-sink`)).json as ListJson).items).toHaveLength(3)
    })
  })

  describe('commands', () => {
    test('PUT settings replaces every setting; PUT configuration does the same from a nested object', async () => {
      const connectorId = newId()
      await create(connectorId, { settings: validSettings({ 'defaultHeaders:source': 'kurrentdb' }) })
      const replaced = await rig.request('PUT', `/connectors/${connectorId}/settings`, { body: validSettings({ topic: 'replaced' }) })
      expect({ status: replaced.status, body: replaced.text }).toEqual({ status: 200, body: '{}' })
      let settings = ((await rig.request('GET', `/connectors/${connectorId}/settings`)).json as { settings: Record<string, string> }).settings
      expect(settings).toEqual(validSettings({ topic: 'replaced' }) as Record<string, string>)

      const nested = await rig.request('PUT', `/connectors/${connectorId}/configuration`, {
        body: { instanceTypeName: 'kafka-sink', topic: 'nested', waitForBrokerAck: true },
      })
      expect({ status: nested.status, body: nested.text }).toEqual({ status: 200, body: '{}' })
      settings = ((await rig.request('GET', `/connectors/${connectorId}/settings`)).json as { settings: Record<string, string> }).settings
      expect(settings).toEqual({ instanceTypeName: 'kafka-sink', topic: 'nested', waitForBrokerAck: 'true' })
    })

    test('PUT settings that do not validate is refused and keeps the stored settings', async () => {
      const connectorId = newId()
      await create(connectorId)
      const fields = expectFieldViolations(await rig.request('PUT', `/connectors/${connectorId}/settings`, { body: { topic: 'partial' } })).map(({ field }) => field)
      expect(fields).toContain('instanceTypeName')
      const { settings } = (await rig.request('GET', `/connectors/${connectorId}/settings`)).json as { settings: Record<string, string> }
      expect(settings.topic).toBe('customers')
    })

    test('rename changes the name and keeps the id', async () => {
      const connectorId = newId()
      await create(connectorId, { name: 'First name', settings: validSettings() })
      const response = await rig.request('PUT', `/connectors/${connectorId}/rename`, { body: { name: 'Second name' } })
      expect({ status: response.status, body: response.text }).toEqual({ status: 200, body: '{}' })
      expect((await listOne(connectorId))!.name).toBe('Second name')
    })

    test('stop on a stopped connector succeeds and changes nothing', async () => {
      const connectorId = newId()
      await create(connectorId)
      const response = await rig.request('POST', `/connectors/${connectorId}/stop`)
      expect({ status: response.status, body: response.text }).toEqual({ status: 200, body: '{}' })
      expect((await listOne(connectorId))!.state).toBe('CONNECTOR_STATE_STOPPED')
    })

    test('delete hides the connector, showDeleted shows it with deleteTime, and the id can be created again', async () => {
      const connectorId = newId()
      await create(connectorId)
      const deleted = await rig.request('DELETE', `/connectors/${connectorId}`)
      expect({ status: deleted.status, body: deleted.text }).toEqual({ status: 200, body: '{}' })
      expect(await listOne(connectorId)).toBeUndefined()
      const shown = await listOne(connectorId, '&showDeleted=true')
      expect(shown!.deleteTime).toMatch(isoTimestamp)
      expectStatus(await rig.request('GET', `/connectors/${connectorId}/settings`), 404, 5)
      expectStatus(await rig.request('POST', `/connectors/${connectorId}/start`), 404, 5)
      await create(connectorId, { name: 'Second life', settings: validSettings() })
      expect((await listOne(connectorId))!.name).toBe('Second life')
    })
  })

  describe('secrets', () => {
    test('the Kafka password sent in settings or configuration never comes back in a response or a log line', async () => {
      const first = newId('secret')
      const second = newId('secret')
      const secretSettings = validSettings({ 'authentication:securityProtocol': 'saslSsl', 'authentication:username': 'user', 'authentication:password': kafkaPassword })
      await create(first, { settings: secretSettings })
      await create(second, { configuration: { ...validSettings(), authentication: { securityProtocol: 'saslSsl', username: 'user', password: kafkaPassword } } })
      await rig.request('PUT', `/connectors/${first}/settings`, { body: secretSettings })

      const settings = (await rig.request('GET', `/connectors/${first}/settings`)).json as { settings: Record<string, string> }
      expect(settings.settings['authentication:password']).toBe('***')
      const configuration = (await rig.request('GET', `/connectors/${second}/configuration`)).json as { configuration: { authentication: { password: string } } }
      expect(configuration.configuration.authentication.password).toBe('***')
      expect((await listOne(first, '&includeSettings=true'))!.settings!['authentication:password']).toBe('***')
      expect((await listOne(second, '&includeConfiguration=true'))!.configuration).toMatchObject({ authentication: { password: '***' } })

      // A refused request that carries the password must not echo it either.
      await rig.request('POST', `/connectors/${newId('secret')}`, { body: { settings: { ...secretSettings, topic: '' } } })
      await rig.request('POST', `/connectors/${newId('secret')}`, { body: { ...secretSettings } })

      for (const body of rig.responseBodies) expect(body).not.toContain(kafkaPassword)
      await Bun.sleep(20) // request log lines are written after the response
      for (const line of rig.logLines) expect(line).not.toContain(kafkaPassword)
    })
  })
})
