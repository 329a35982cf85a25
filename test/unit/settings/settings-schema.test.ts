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

  for (const definition of settingDefinitions) {
    test(`${definition.key} documents itself`, () => {
      expect(definition.schema.description?.length ?? 0).toBeGreaterThan(20)
      expect(Array.isArray(definition.schema.examples) && definition.schema.examples.length > 0).toBe(true)
      if (definition.defaultValue !== undefined) expect(definition.schema.default).toEqual(definition.defaultValue)
      const flat: TSchema | undefined = flatSettingsJsonSchema.properties[definition.key]
      expect(flat?.description).toContain(definition.schema.description ?? '')
      expect(flat?.examples).toBeDefined()
      if (definition.flatDefault !== undefined) expect(flat?.default).toBe(definition.flatDefault)
      if (Array.isArray(definition.acceptedValues)) {
        expect(Object.keys(flat?.['x-enumDescriptions'] ?? {})).toEqual(definition.acceptedValues.map((accepted) => accepted.value))
        // The pattern accepts every spelling the parser accepts (the documented SaslSsl, SASL_SSL…), and no other value.
        const pattern = new RegExp(String(flat?.pattern))
        for (const { value } of definition.acceptedValues) {
          const pascal = value.charAt(0).toUpperCase() + value.slice(1)
          const screaming = value.replace(/([a-z])([A-Z0-9])/g, '$1_$2').toUpperCase()
          for (const spelling of [value, pascal, screaming, ` ${value} `]) {
            expect(definition.read(spelling).ok).toBe(true)
            expect(pattern.test(spelling)).toBe(true)
          }
        }
        expect(pattern.test('not-a-value')).toBe(false)
        expect(definition.read('not-a-value').ok).toBe(false)
      }
    })

    test(`${definition.key}: every example reads, and the default is what its docs spelling reads as`, () => {
      for (const example of definition.flatSchema.examples ?? []) expect(definition.read(example).ok).toBe(true)
      if (definition.flatDefault !== undefined) expect(definition.read(definition.flatDefault)).toEqual({ ok: true, value: definition.defaultValue })
    })
  }

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
