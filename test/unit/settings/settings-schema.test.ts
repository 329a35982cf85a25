import { describe, expect, test } from 'bun:test'
import { KindGuard, type TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { parseSinkSettings } from '../../../src/settings/parse-sink-settings.ts'
import { findSettingKey, readRawSetting } from '../../../src/settings/settings-lookup.ts'
import { flatSettingsJsonSchema, kafkaSinkSettingsSchema, settingDefinitions, settingKeys } from '../../../src/settings/kafka-sink-settings.ts'
import { settingKeyAnnotation } from '../../../src/settings/setting-definition.ts'
import { renderSettingsReference } from '../../../src/settings/settings-table.ts'

function leafKeys(schema: TSchema): string[] {
  const key: unknown = schema[settingKeyAnnotation]
  if (typeof key === 'string') return [key]
  if (!KindGuard.IsObject(schema)) throw new Error('a schema leaf has no setting key')
  return Object.values(schema.properties).flatMap(leafKeys)
}

describe('settings schema', () => {
  test('every leaf of the parsed schema is exactly one setting, and every setting is a leaf', () => {
    const keys = leafKeys(kafkaSinkSettingsSchema)
    expect(new Set(keys).size).toBe(keys.length)
    expect([...keys].sort()).toEqual(settingDefinitions.map((definition) => definition.key).sort())
  })

  test('settingKeys names every setting', () => {
    const named: string[] = Object.values(settingKeys)
    expect(named.sort()).toEqual(settingDefinitions.map((definition) => definition.key).sort())
  })

  test('every setting documents itself: a description, and examples its reader accepts', () => {
    for (const definition of settingDefinitions) {
      expect(definition.schema.description?.length ?? 0).toBeGreaterThan(20)
      const flat: TSchema | undefined = flatSettingsJsonSchema.properties[definition.key]
      expect(flat?.description).toContain(definition.schema.description ?? '')
      expect((flat?.examples as unknown[] | undefined)?.length ?? 0).toBeGreaterThan(0)
      for (const example of (flat?.examples as string[] | undefined) ?? []) expect({ key: definition.key, example, ok: definition.read(example).ok }).toEqual({ key: definition.key, example, ok: true })
    }
  })

  test("the API docs' defaults are the user documentation's (as literals; the spelling is the parser's canonical one)", () => {
    const documented: Record<string, string> = {
      bootstrapServers: 'localhost:9092',
      'authentication:securityProtocol': 'plaintext',
      'authentication:saslMechanism': 'plain',
      'partitionKeyExtraction:enabled': 'false',
      'partitionKeyExtraction:source': 'partitionKey',
      waitForBrokerAck: 'true',
      'resilience:enabled': 'true',
      'resilience:maxRetries': '-1',
      'resilience:transientErrorDelay': '00:00:00',
      'resilience:reconnectBackoffMaxMs': '20000',
      'resilience:messageSendMaxRetries': '2147483647',
      'resilience:requestTimeoutMs': '3000',
      brokerAddressFamily: 'v4',
      'compression:type': 'zstd',
      'compression:level': '6',
      'subscription:initialPosition': 'latest',
      'autocommit:enabled': 'true',
      'autocommit:interval': '5000',
      'autocommit:recordsThreshold': '1000',
      'headers:ignoreSystem': 'true',
      'logging:enabled': 'true',
    }
    for (const [key, value] of Object.entries(documented)) expect({ key, default: flatSettingsJsonSchema.properties[key]?.default }).toEqual({ key, default: value })
  })

  test('enumerations: the API pattern accepts the spellings the parser accepts (SaslSsl, SASL_SSL, saslSsl) and no other', () => {
    const spellings: Record<string, readonly string[]> = {
      'authentication:securityProtocol': ['saslSsl', 'SaslSsl', 'SASL_SSL', ' saslSsl '],
      'compression:type': ['zstd', 'Zstd', 'ZSTD'],
      brokerAddressFamily: ['v4', 'V4'],
    }
    for (const [key, values] of Object.entries(spellings)) {
      const pattern = new RegExp(String(flatSettingsJsonSchema.properties[key]?.pattern))
      for (const value of values) expect({ key, value, matches: pattern.test(value) }).toEqual({ key, value, matches: true })
      expect(pattern.test('not-a-value')).toBe(false)
    }
  })

  test('the flat JSON schema accepts what the parser accepts (it documents, it must not refuse)', () => {
    const accepted = {
      InstanceTypeName: 'KafkaSink',
      topic: 'customers',
      'authentication:securityProtocol': 'SASL_SSL',
      'authentication:username': 'u',
      'authentication:password': 'p',
      waitForBrokerAck: true,
      'resilience:maxRetries': -1,
      'resilience:transientErrorDelay': '00:00:05',
      'defaultHeaders:X-Api-Key': 'k',
    }
    expect(parseSinkSettings(accepted).ok).toBe(true)
    expect(Value.Check(flatSettingsJsonSchema, accepted)).toBe(true)
  })

  test('required settings say so in the API docs', () => {
    expect(flatSettingsJsonSchema.properties[settingKeys.topic]?.description).toStartWith('Required.')
    expect(flatSettingsJsonSchema.properties[settingKeys.instanceTypeName]?.description).toStartWith('Required.')
  })

  test('the docs list every setting', () => {
    const document = renderSettingsReference()
    for (const definition of settingDefinitions) expect(document).toContain(`\`${definition.key}`)
  })

  test("the README's settings reference is what the schemas render (render-settings-table --check)", () => {
    const check = Bun.spawnSync(['bun', 'scripts/render-settings-table.ts', '--check'], { cwd: new URL('../../../', import.meta.url).pathname })
    expect(check.stderr.toString()).toBe('')
    expect(check.exitCode).toBe(0)
  })
})

describe('settings lookup', () => {
  const flat = { InstanceTypeName: 'KafkaSink', topic: 'customers' }

  test('finds a key in any letter case', () => {
    expect(findSettingKey(flat, settingKeys.instanceTypeName)).toBe('InstanceTypeName')
    expect(readRawSetting(flat, settingKeys.instanceTypeName)).toBe('KafkaSink')
  })

  test('an absent key is undefined', () => {
    expect(findSettingKey(flat, settingKeys.bootstrapServers)).toBeUndefined()
    expect(readRawSetting(flat, settingKeys.bootstrapServers)).toBeUndefined()
  })
})
