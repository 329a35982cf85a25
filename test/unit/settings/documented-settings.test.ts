// Settings defaults and accepted values as the user documentation states them, written here as literals (not read
// from our setting definitions): the Kafka sink page (../shared/seed/kafka-sink.md, "the docs" below) and the
// connectors specification's tables (§3 common settings, §4.1 Kafka sink settings, "the spec").
import { describe, expect, test } from 'bun:test'
import { parseSinkSettings } from '../../../src/settings/parse-sink-settings.ts'

const minimal = { instanceTypeName: 'kafka-sink', topic: 'orders' }

function parsed(overrides: Record<string, unknown> = {}) {
  const result = parseSinkSettings({ ...minimal, ...overrides })
  if (!result.ok) throw new Error(`refused: ${JSON.stringify(result.violations)}`)
  return result.settings
}

function violationsOf(overrides: Record<string, unknown>): string[] {
  const result = parseSinkSettings({ ...minimal, ...overrides })
  return result.ok ? [] : result.violations.map((violation) => violation.field)
}

describe('defaults, from the documentation', () => {
  test('with only the required keys, every documented default applies', () => {
    const settings = parsed()
    expect(settings.bootstrapServers).toEqual(['localhost:9092']) // docs: `localhost:9092`
    expect(settings.defaultHeaders).toEqual({}) // docs: None
    expect(settings.authentication.securityProtocol).toBe('plaintext') // docs: `Plaintext`
    expect(settings.authentication.saslMechanism).toBe('plain') // spec §4.1: "plain"
    expect(settings.partitionKeyExtraction).toMatchObject({ enabled: false, source: 'partitionKey' }) // docs: false, `PartitionKey`
    // The docs say true; the spec notes that KurrentDB's HEAD changed it to false. The user documentation wins.
    expect(settings.waitForBrokerAck).toBe(true)
    expect(settings.resilience).toMatchObject({
      enabled: true, // docs: `true`
      maxRetries: -1, // docs: `-1` (unlimited)
      transientErrorDelayMs: 0, // docs: `00:00:00`
      reconnectBackoffMaxMs: 20_000, // docs: `20000`
      messageSendMaxRetries: 2_147_483_647, // docs: `2147483647`
      requestTimeoutMs: 3_000, // spec §4.1, historical keys: `resilience:requestTimeoutMs` (3000)
    })
    expect(settings.brokerAddressFamily).toBe('v4') // docs: `V4`
    expect(settings.compression).toEqual({ type: 'zstd', level: 6 }) // docs: `Zstd`, 6
    expect(settings.subscription.initialPosition).toBe('latest') // spec §3.2: `latest`
    expect(settings.autocommit).toEqual({ enabled: true, intervalMs: 5_000, recordsThreshold: 1_000 }) // spec §3.5
    expect(settings.headers.ignoreSystem).toBe(true) // spec §3.6: "true"
    expect(settings.logging.enabled).toBe(true) // spec §3.6: "true"
  })

  test('topic is required (docs: _required_)', () => {
    const result = parseSinkSettings({ instanceTypeName: 'kafka-sink' })
    expect(result.ok).toBe(false)
    expect(result.ok ? [] : result.violations.map((violation) => violation.field)).toContain('topic')
  })
})

describe('accepted values, from the documentation', () => {
  // Each value as the docs or the spec write it, and what it means.
  const enums: Record<string, ReadonlyArray<readonly [string, (settings: ReturnType<typeof parsed>) => unknown, unknown]>> = {
    'partitionKeyExtraction:source': [
      // docs: `stream`, `streamSuffix`, `headers`; spec §4.1 adds `partitionKey`
      ['stream', (settings) => settings.partitionKeyExtraction.source, 'stream'],
      ['streamSuffix', (settings) => settings.partitionKeyExtraction.source, 'streamSuffix'],
      ['headers', (settings) => settings.partitionKeyExtraction.source, 'headers'],
      ['partitionKey', (settings) => settings.partitionKeyExtraction.source, 'partitionKey'],
    ],
    'authentication:securityProtocol': [
      // spec §4.1: `plaintext`, `saslPlaintext`, `saslSsl`; the docs' examples write `SaslSsl`
      ['plaintext', (settings) => settings.authentication.securityProtocol, 'plaintext'],
      ['saslPlaintext', (settings) => settings.authentication.securityProtocol, 'saslPlaintext'],
      ['saslSsl', (settings) => settings.authentication.securityProtocol, 'saslSsl'],
      ['SaslSsl', (settings) => settings.authentication.securityProtocol, 'saslSsl'],
    ],
    'authentication:saslMechanism': [
      ['plain', (settings) => settings.authentication.saslMechanism, 'plain'],
      ['scramSha256', (settings) => settings.authentication.saslMechanism, 'scramSha256'],
      ['scramSha512', (settings) => settings.authentication.saslMechanism, 'scramSha512'],
    ],
    brokerAddressFamily: [
      // spec §4.1: `Any`, `V4`, `V6`
      ['Any', (settings) => settings.brokerAddressFamily, 'any'],
      ['V4', (settings) => settings.brokerAddressFamily, 'v4'],
      ['V6', (settings) => settings.brokerAddressFamily, 'v6'],
    ],
    'compression:type': [
      // spec §4.1: `None`, `Gzip`, `Lz4`, `Zstd`, `Snappy`
      ['None', (settings) => settings.compression.type, 'none'],
      ['Gzip', (settings) => settings.compression.type, 'gzip'],
      ['Lz4', (settings) => settings.compression.type, 'lz4'],
      ['Zstd', (settings) => settings.compression.type, 'zstd'],
      ['Snappy', (settings) => settings.compression.type, 'snappy'],
    ],
    'subscription:initialPosition': [
      ['latest', (settings) => settings.subscription.initialPosition, 'latest'],
      ['earliest', (settings) => settings.subscription.initialPosition, 'earliest'],
    ],
  }

  for (const [key, values] of Object.entries(enums)) {
    test(`${key}: each documented value is accepted and means what it says; another is refused`, () => {
      const credentials = { 'authentication:username': 'u', 'authentication:password': 'p' }
      const extra = key === 'authentication:saslMechanism' ? credentials : {}
      const withSasl = key === 'authentication:saslMechanism' ? { 'authentication:securityProtocol': 'saslSsl' } : {}
      const withExpression = key === 'partitionKeyExtraction:source' ? { 'partitionKeyExtraction:enabled': 'true' } : {}
      for (const [value, read, expected] of values) {
        const overrides: Record<string, unknown> = { ...extra, ...withSasl, ...withExpression, [key]: value }
        // SASL protocols need credentials; plaintext refuses them.
        if (key === 'authentication:securityProtocol' && /^sasl/i.test(value)) Object.assign(overrides, credentials)
        if (value === 'headers') Object.assign(overrides, { 'partitionKeyExtraction:expression': 'key1,key2' })
        expect(read(parsed(overrides))).toEqual(expected)
      }
      expect(violationsOf({ ...extra, ...withSasl, ...withExpression, [key]: 'not-a-documented-value' })).toContain(key)
    })
  }

  test('booleans: `true` / `false` as strings (all values are strings in the spec) and as JSON booleans', () => {
    expect(parsed({ waitForBrokerAck: 'false' }).waitForBrokerAck).toBe(false)
    expect(parsed({ waitForBrokerAck: false }).waitForBrokerAck).toBe(false)
    expect(parsed({ 'headers:ignoreSystem': 'false' }).headers.ignoreSystem).toBe(false)
    expect(violationsOf({ waitForBrokerAck: 'yes please' })).toContain('waitForBrokerAck')
  })

  test('resilience:transientErrorDelay is a TimeSpan (docs): `00:00:05` is five seconds', () => {
    expect(parsed({ 'resilience:transientErrorDelay': '00:00:05' }).resilience.transientErrorDelayMs).toBe(5_000)
    expect(parsed({ 'resilience:transientErrorDelay': '00:01:00' }).resilience.transientErrorDelayMs).toBe(60_000)
  })

  test('autocommit:interval is in milliseconds (spec §3.5: "5000" ms)', () => {
    expect(parsed({ 'autocommit:interval': '250' }).autocommit.intervalMs).toBe(250)
  })

  test('bootstrapServers: a comma-separated list (docs), kept in order', () => {
    expect(parsed({ bootstrapServers: 'a:9092,b:9093' }).bootstrapServers).toEqual(['a:9092', 'b:9093'])
  })

  test('defaultHeaders:<Name> (spec §4.1): one static header per key', () => {
    expect(parsed({ 'defaultHeaders:X-Tenant-ID': 'production-tenant' }).defaultHeaders).toEqual({ 'X-Tenant-ID': 'production-tenant' })
  })

  test('resilience:maxRetries -1 means unlimited (docs); an int', () => {
    expect(parsed({ 'resilience:maxRetries': '-1' }).resilience.maxRetries).toBe(-1)
    expect(parsed({ 'resilience:maxRetries': '3' }).resilience.maxRetries).toBe(3)
    expect(violationsOf({ 'resilience:maxRetries': '1.5' })).toContain('resilience:maxRetries')
  })
})
