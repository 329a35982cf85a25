import { describe, expect, test } from 'bun:test'
import { createCredentialsCheck, readBasicCredentials } from '../../../src/api/auth.ts'

const basic = (text: string) => `Basic ${Buffer.from(text, 'utf8').toString('base64')}`

describe('readBasicCredentials', () => {
  test('splits at the first colon, so passwords may contain colons', () => {
    expect(readBasicCredentials(basic('admin:pa:ss'))).toEqual({ user: 'admin', password: 'pa:ss' })
    expect(readBasicCredentials(basic('admin:'))).toEqual({ user: 'admin', password: '' })
  })
  test('accepts the scheme in any letter case and UTF-8 credentials', () => {
    expect(readBasicCredentials(basic('ops:wörd').replace('Basic', 'bAsIc'))).toEqual({ user: 'ops', password: 'wörd' })
  })
  test('refuses what is not Basic user:password', () => {
    for (const header of [null, '', 'Basic', 'Bearer token', basic('no-colon'), 'Basic a b']) expect(readBasicCredentials(header)).toBeUndefined()
  })
})

describe('createCredentialsCheck', () => {
  const check = createCredentialsCheck({ user: 'admin', password: 'secret' })
  test('accepts exactly the configured user and password', () => {
    expect(check(basic('admin:secret'))).toBe(true)
    for (const wrong of ['admin:Secret', 'Admin:secret', 'admin:secret ', 'admin:secre', 'admin:secretsecret', ':', 'admin', '']) expect(check(basic(wrong))).toBe(false)
    expect(check(null)).toBe(false)
  })
  test('an empty configured password only matches an empty password', () => {
    const empty = createCredentialsCheck({ user: 'admin', password: '' })
    expect(empty(basic('admin:'))).toBe(true)
    expect(empty(basic('admin:x'))).toBe(false)
    expect(empty(null)).toBe(false)
  })
})
