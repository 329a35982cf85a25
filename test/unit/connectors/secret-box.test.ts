import { describe, expect, test } from 'bun:test'
import { createSecretBox, isSealed, MissingTokenError, openSealedSettings, SecretUnreadableError } from '../../../src/connectors/secret-box.ts'

describe('secret box', () => {
  test('seals to an opaque value and opens it again, for the same key and token only', async () => {
    const box = await createSecretBox('token-1')
    const sealed = await box.seal('p@ssw0rd', 'authentication:password')
    expect(isSealed(sealed)).toBe(true)
    expect(sealed).not.toContain('p@ssw0rd')
    expect(await box.seal('p@ssw0rd', 'authentication:password')).not.toBe(sealed) // a fresh IV every time
    expect(await box.open(sealed, 'Authentication:Password')).toBe('p@ssw0rd')
    await expect(box.open(sealed, 'other:key')).rejects.toBeInstanceOf(SecretUnreadableError)
    const otherToken = await createSecretBox('token-2')
    await expect(otherToken.open(sealed, 'authentication:password')).rejects.toThrow('data-protection token differs')
    await expect(box.open('not sealed', 'authentication:password')).rejects.toBeInstanceOf(SecretUnreadableError)
  })
})

describe('openSealedSettings', () => {
  test('opens the sealed secrets of a stored settings map and leaves every other value as stored', async () => {
    const box = await createSecretBox('token-1')
    const stored = { topic: 'enc:v1:not-a-secret', 'authentication:password': await box.seal('p', 'authentication:password') }
    expect(await openSealedSettings(stored, box)).toEqual({ topic: 'enc:v1:not-a-secret', 'authentication:password': 'p' })
    await expect(openSealedSettings(stored, undefined)).rejects.toBeInstanceOf(MissingTokenError)
    expect(await openSealedSettings({ topic: 't' }, undefined)).toEqual({ topic: 't' })
  })
})
