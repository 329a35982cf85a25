import { describe, expect, test } from 'bun:test'
import { unsupportedServerVersion } from '../../../src/source/server-version.ts'

describe('unsupportedServerVersion', () => {
  test('refuses the releases whose subscriptions skip an event at the live switch, and only those', () => {
    for (const version of ['20.10.5', '21.10.9', '22.10.0', '22.10.3', '23.6.0']) expect(unsupportedServerVersion(version)).toContain(`KurrentDB ${version} is not supported`)
    for (const version of ['21.10.10', '22.10.4', '23.10.0', '24.2.0', '24.10.0', '24.10.5', '25.0.0', '25.1.0', '26.0.0-rc.1']) expect(unsupportedServerVersion(version)).toBeUndefined()
  })

  test('an unknown version is not refused (the server did not say)', () => {
    expect(unsupportedServerVersion('unknown')).toBeUndefined()
  })
})
