import { describe, expect, test } from 'bun:test'
import { settingKeys } from '../../../src/settings/kafka-sink-settings.ts'
import { isSecretSettingKey, redactedValue, redactSettings, secretSettingKeys } from '../../../src/settings/secrets.ts'

describe('secrets', () => {
  test('the password is the only secret setting', () => {
    expect(secretSettingKeys).toEqual([settingKeys.password])
    expect(redactedValue).toBe('***')
  })

  test('secret keys are recognized in any letter case', () => {
    expect(isSecretSettingKey('authentication:password')).toBe(true)
    expect(isSecretSettingKey('Authentication:Password')).toBe(true)
    expect(isSecretSettingKey('AUTHENTICATION:PASSWORD')).toBe(true)
    expect(isSecretSettingKey('authentication:username')).toBe(false)
    expect(isSecretSettingKey('password')).toBe(false)
  })

  test('redaction replaces every secret value and nothing else, without touching the input', () => {
    const flat = { topic: 'customers', 'Authentication:Password': 'hunter2', 'authentication:username': 'me' }
    expect(redactSettings(flat)).toEqual({ topic: 'customers', 'Authentication:Password': '***', 'authentication:username': 'me' })
    expect(flat['Authentication:Password']).toBe('hunter2')
  })

  test('redaction keeps native values of other settings', () => {
    expect(redactSettings({ waitForBrokerAck: true, 'authentication:password': 'x' })).toEqual({ waitForBrokerAck: true, 'authentication:password': '***' })
  })

  test('a map without secrets comes back equal', () => {
    expect(redactSettings({ topic: 'customers' })).toEqual({ topic: 'customers' })
  })
})
