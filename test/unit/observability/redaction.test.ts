import { describe, expect, test } from 'bun:test'
import { redactConnectionString } from '../../../src/observability/redaction.ts'

describe('redactConnectionString', () => {
  test.each([
    ['kurrentdb://admin:changeit@localhost:2113?tls=false', 'kurrentdb://***@localhost:2113?tls=false'],
    // A password holding `/`, `:`, `#` or an unencoded `@` is still user-info: everything up to the last `@`.
    ['kurrentdb://admin:pa/ss@db:2113?tls=false', 'kurrentdb://***@db:2113?tls=false'],
    ['kurrentdb+discover://admin:a/b:c#d@e@db1:2113,db2:2113', 'kurrentdb+discover://***@db1:2113,db2:2113'],
    ['esdb://admin:x@db:2113?tls=true&tlsCaFile=/etc/ca@2.pem', 'esdb://***@db:2113?tls=true&tlsCaFile=/etc/ca@2.pem'],
    // A mistyped scheme still carries credentials.
    ['admin:s3cret@db:2113', '***@db:2113'],
    ['kurrentdb://localhost:2113?tls=false', 'kurrentdb://localhost:2113?tls=false'],
  ])('%s → %s', (input, expected) => {
    expect(redactConnectionString(input)).toBe(expected)
  })
})
