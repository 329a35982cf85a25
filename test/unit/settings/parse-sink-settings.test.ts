import { describe, expect, test } from 'bun:test'
import { settingKeys, type KafkaSinkSettings } from '../../../src/settings/kafka-sink-settings.ts'
import { parseSinkSettings, type FieldViolation } from '../../../src/settings/parse-sink-settings.ts'
import { quickstartSettings, tutorialSettings } from '../../support/documentation-examples.ts'

/** The smallest settings that parse: everything else takes its default. */
const minimal = { instanceTypeName: 'kafka-sink', topic: 'customers' } as const

function parsed(settings: Readonly<Record<string, unknown>>): KafkaSinkSettings {
  const result = parseSinkSettings(settings)
  if (!result.ok) throw new Error(`expected settings to parse, got ${JSON.stringify(result.violations, null, 2)}`)
  return result.settings
}

function violationsOf(settings: Readonly<Record<string, unknown>>): FieldViolation[] {
  const result = parseSinkSettings(settings)
  if (result.ok) throw new Error(`expected violations, got settings ${JSON.stringify(result.settings)}`)
  return result.violations
}

// The contract other folders code against; the parsed type must be exactly this.
interface ContractSettings {
  readonly instanceTypeName: 'kafka-sink'
  readonly topic: string
  readonly bootstrapServers: readonly string[]
  readonly defaultHeaders: { readonly [name: string]: string }
  readonly authentication: {
    readonly securityProtocol: 'plaintext' | 'ssl' | 'saslPlaintext' | 'saslSsl'
    readonly saslMechanism: 'plain' | 'scramSha256' | 'scramSha512'
    readonly username?: string
    readonly password?: string
  }
  readonly partitionKeyExtraction: {
    readonly enabled: boolean
    readonly source: 'partitionKey' | 'stream' | 'streamSuffix' | 'headers'
    readonly expression?: string
  }
  readonly waitForBrokerAck: boolean
  readonly resilience: {
    readonly enabled: boolean
    readonly maxRetries: number
    readonly transientErrorDelayMs: number
    readonly reconnectBackoffMaxMs: number
    readonly messageSendMaxRetries: number
    readonly requestTimeoutMs: number
  }
  readonly brokerAddressFamily: 'any' | 'v4' | 'v6'
  readonly compression: { readonly type: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'; readonly level: number }
  readonly subscription: {
    readonly filter: {
      readonly scope: 'unspecified' | 'stream' | 'record'
      readonly filterType: 'unspecified' | 'streamId' | 'prefix' | 'regex' | 'jsonPath'
      readonly expression?: string
    }
    readonly initialPosition: 'latest' | 'earliest'
  }
  readonly autocommit: { readonly enabled: boolean; readonly intervalMs: number; readonly recordsThreshold: number }
  readonly headers: { readonly ignoreSystem: boolean }
  readonly logging: { readonly enabled: boolean }
}

// A compile-time check, enforced by `tsc --noEmit` (./scripts/test runs it first): the parsed type is exactly the
// contract, or this line does not type-check. There is nothing to assert at run time.
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
export const parsedTypeIsTheContract: Equals<KafkaSinkSettings, ContractSettings> = true

describe('parseSinkSettings: defaults', () => {
  test('every setting takes its default', () => {
    const expected: ContractSettings = {
      instanceTypeName: 'kafka-sink',
      topic: 'customers',
      bootstrapServers: ['localhost:9092'],
      defaultHeaders: {},
      authentication: { securityProtocol: 'plaintext', saslMechanism: 'plain' },
      partitionKeyExtraction: { enabled: false, source: 'partitionKey' },
      waitForBrokerAck: true,
      resilience: {
        enabled: true,
        maxRetries: -1,
        transientErrorDelayMs: 0,
        reconnectBackoffMaxMs: 20000,
        messageSendMaxRetries: 2147483647,
        requestTimeoutMs: 3000,
      },
      brokerAddressFamily: 'v4',
      compression: { type: 'zstd', level: 6 },
      subscription: { filter: { scope: 'unspecified', filterType: 'unspecified' }, initialPosition: 'latest' },
      autocommit: { enabled: true, intervalMs: 5000, recordsThreshold: 1000 },
      headers: { ignoreSystem: true },
      logging: { enabled: true },
    }
    expect(parsed(minimal)).toEqual(expected)
  })

  test('optional settings that are unset are absent, not undefined-valued', () => {
    const settings = parsed(minimal)
    expect('username' in settings.authentication).toBe(false)
    expect('expression' in settings.subscription.filter).toBe(false)
  })

  test('blank values count as unset and take the default', () => {
    const settings = parsed({ ...minimal, [settingKeys.waitForBrokerAck]: '', [settingKeys.compressionLevel]: '  ', [settingKeys.maxRetries]: null, [settingKeys.compressionType]: undefined })
    expect(settings.waitForBrokerAck).toBe(true)
    expect(settings.compression.level).toBe(6)
    expect(settings.resilience.maxRetries).toBe(-1)
  })

  test('the result is deeply frozen', () => {
    const settings = parsed({ ...minimal, 'defaultHeaders:X-Id': '1' })
    expect(Object.isFrozen(settings)).toBe(true)
    expect(Object.isFrozen(settings.authentication)).toBe(true)
    expect(Object.isFrozen(settings.bootstrapServers)).toBe(true)
    expect(Object.isFrozen(settings.defaultHeaders)).toBe(true)
    expect(Object.isFrozen(settings.subscription.filter)).toBe(true)
  })
})

describe('parseSinkSettings: the documented examples', () => {
  const quickstart = quickstartSettings('customers', 'localhost:9092')

  test('quickstart', () => {
    const settings = parsed(quickstart)
    expect(settings.authentication).toEqual({ securityProtocol: 'saslSsl', saslMechanism: 'plain', username: 'your-username', password: 'your-password' })
    expect(settings.subscription.filter).toEqual({ scope: 'stream', filterType: 'streamId', expression: 'example-stream' })
    expect(settings.waitForBrokerAck).toBe(true)
  })

  test('quickstart (bash variant)', () => {
    const settings = parsed({ ...quickstart, topic: 'your-topic', bootstrapServers: 'your-kafka-cluster-address:9092' })
    expect(settings.bootstrapServers).toEqual(['your-kafka-cluster-address:9092'])
  })

  test('Confluent Cloud tutorial', () => {
    const settings = parsed(tutorialSettings('pkc-z9doz.eu-west-1.aws.confluent.cloud:9092'))
    expect(settings.subscription.filter).toEqual({ scope: 'stream', filterType: 'prefix', expression: 'LoanRequest' })
    expect(settings.bootstrapServers).toEqual(['pkc-z9doz.eu-west-1.aws.confluent.cloud:9092'])
  })

  const partitioningExamples = [
    {
      name: 'partition by stream with a regex',
      settings: { 'partitionKeyExtraction:enabled': 'true', 'partitionKeyExtraction:source': 'stream', 'partitionKeyExtraction:expression': '^(.*)_data$' },
      expected: { enabled: true, source: 'stream', expression: '^(.*)_data$' },
    },
    {
      name: 'partition by stream suffix',
      settings: { 'partitionKeyExtraction:enabled': 'true', 'partitionKeyExtraction:source': 'streamSuffix' },
      expected: { enabled: true, source: 'streamSuffix' },
    },
    {
      name: 'partition by headers',
      settings: { 'partitionKeyExtraction:enabled': 'true', 'partitionKeyExtraction:source': 'headers', 'partitionKeyExtraction:expression': 'key1,key2' },
      expected: { enabled: true, source: 'headers', expression: 'key1,key2' },
    },
  ] as const
  for (const example of partitioningExamples) {
    test(example.name, () => {
      expect(parsed({ ...minimal, ...example.settings }).partitionKeyExtraction).toEqual(example.expected)
    })
  }

  test('resilience example (native booleans and numbers mixed with strings)', () => {
    const settings = parsed({
      ...minimal,
      'resilience:enabled': true,
      'resilience:requestTimeoutMs': 3000,
      'resilience:maxRetries': -1,
      'resilience:transientErrorDelay': '00:00:05',
      'resilience:reconnectBackoffMaxMs': 20000,
      'resilience:messageSendMaxRetries': 2147483647,
    })
    expect(settings.resilience).toEqual({
      enabled: true,
      maxRetries: -1,
      transientErrorDelayMs: 5000,
      reconnectBackoffMaxMs: 20000,
      messageSendMaxRetries: 2147483647,
      requestTimeoutMs: 3000,
    })
  })

  test('create example of the management API', () => {
    const settings = parsed({
      instanceTypeName: 'kafka-sink',
      bootstrapServers: 'localhost:9092',
      topic: 'customers',
      'subscription:filter:scope': 'stream',
      'subscription:filter:filterType': 'streamId',
      'subscription:filter:expression': 'example-stream',
      'subscription:initialPosition': 'earliest',
    })
    expect(settings.subscription.initialPosition).toBe('earliest')
  })

  test('default headers example of the management API', () => {
    const settings = parsed({ ...minimal, 'defaultHeaders:X-API-Key': 'k', 'defaultHeaders:X-Tenant-ID': 'production-tenant' })
    expect(settings.defaultHeaders).toEqual({ 'X-API-Key': 'k', 'X-Tenant-ID': 'production-tenant' })
  })
})

describe('parseSinkSettings: spellings', () => {
  test('keys are matched without letter case', () => {
    const settings = parsed({
      INSTANCETYPENAME: 'kafka-sink',
      Topic: 'customers',
      'Authentication:SecurityProtocol': 'saslSsl',
      'AUTHENTICATION:USERNAME': 'user',
      'authentication:Password': 'secret',
      'Subscription:Filter:Scope': 'stream',
      'subscription:filter:FILTERTYPE': 'streamId',
      'Subscription:Filter:Expression': 'orders',
    })
    expect(settings.authentication.securityProtocol).toBe('saslSsl')
    expect(settings.authentication.username).toBe('user')
    expect(settings.subscription.filter.expression).toBe('orders')
  })

  test('instance type aliases, in any letter case', () => {
    for (const alias of ['kafka-sink', 'KafkaSink', 'Kurrent.Connectors.Kafka.KafkaSink', 'KAFKA-SINK', 'kafkasink']) {
      expect(parsed({ ...minimal, instanceTypeName: alias }).instanceTypeName).toBe('kafka-sink')
    }
  })

  const credentials = { [settingKeys.username]: 'user', [settingKeys.password]: 'secret' }
  const saslSsl = { ...credentials, [settingKeys.securityProtocol]: 'saslSsl' }
  const enumSpellings: readonly {
    readonly key: string
    readonly spellings: readonly string[]
    readonly expected: string
    readonly pick: (settings: KafkaSinkSettings) => string
    /** Settings the value needs to be valid in combination. */
    readonly with?: Readonly<Record<string, string>>
  }[] = [
    { key: settingKeys.securityProtocol, spellings: ['SaslSsl', 'saslSsl', 'sasl_ssl', 'SASL_SSL', 'sasl-ssl'], expected: 'saslSsl', pick: (s) => s.authentication.securityProtocol, with: credentials },
    { key: settingKeys.securityProtocol, spellings: ['SaslPlaintext', 'SASL_PLAINTEXT'], expected: 'saslPlaintext', pick: (s) => s.authentication.securityProtocol, with: credentials },
    { key: settingKeys.securityProtocol, spellings: ['Plaintext', 'PLAINTEXT'], expected: 'plaintext', pick: (s) => s.authentication.securityProtocol },
    { key: settingKeys.securityProtocol, spellings: ['Ssl', 'SSL'], expected: 'ssl', pick: (s) => s.authentication.securityProtocol },
    { key: settingKeys.saslMechanism, spellings: ['Plain', 'PLAIN'], expected: 'plain', pick: (s) => s.authentication.saslMechanism, with: saslSsl },
    { key: settingKeys.saslMechanism, spellings: ['ScramSha256', 'SCRAM-SHA-256', 'scram_sha_256'], expected: 'scramSha256', pick: (s) => s.authentication.saslMechanism, with: saslSsl },
    { key: settingKeys.saslMechanism, spellings: ['ScramSha512', 'SCRAM-SHA-512'], expected: 'scramSha512', pick: (s) => s.authentication.saslMechanism, with: saslSsl },
    { key: settingKeys.brokerAddressFamily, spellings: ['V4', 'v4'], expected: 'v4', pick: (s) => s.brokerAddressFamily },
    { key: settingKeys.brokerAddressFamily, spellings: ['Any', 'ANY'], expected: 'any', pick: (s) => s.brokerAddressFamily },
    { key: settingKeys.brokerAddressFamily, spellings: ['V6'], expected: 'v6', pick: (s) => s.brokerAddressFamily },
    { key: settingKeys.compressionType, spellings: ['Zstd', 'ZSTD'], expected: 'zstd', pick: (s) => s.compression.type },
    { key: settingKeys.compressionType, spellings: ['Gzip', 'GZIP'], expected: 'gzip', pick: (s) => s.compression.type },
    { key: settingKeys.compressionType, spellings: ['Snappy'], expected: 'snappy', pick: (s) => s.compression.type },
    { key: settingKeys.compressionType, spellings: ['Lz4', 'LZ4'], expected: 'lz4', pick: (s) => s.compression.type },
    { key: settingKeys.compressionType, spellings: ['None', 'NONE'], expected: 'none', pick: (s) => s.compression.type },
    { key: settingKeys.initialPosition, spellings: ['Earliest', 'EARLIEST'], expected: 'earliest', pick: (s) => s.subscription.initialPosition },
    { key: settingKeys.initialPosition, spellings: ['Latest'], expected: 'latest', pick: (s) => s.subscription.initialPosition },
  ]
  for (const row of enumSpellings) {
    for (const spelling of row.spellings) {
      test(`${row.key} = ${spelling} is ${row.expected}`, () => {
        expect(row.pick(parsed({ ...minimal, ...row.with, [row.key]: spelling }))).toBe(row.expected)
      })
    }
  }

  const partitionSources = [
    { spellings: ['PartitionKey', 'partition_key'], expected: 'partitionKey', expression: undefined },
    { spellings: ['Stream', 'STREAM'], expected: 'stream', expression: undefined },
    { spellings: ['StreamSuffix', 'stream_suffix'], expected: 'streamSuffix', expression: undefined },
    { spellings: ['Headers', 'HEADERS'], expected: 'headers', expression: 'key1' },
  ] as const
  for (const row of partitionSources) {
    for (const spelling of row.spellings) {
      test(`partitionKeyExtraction:source = ${spelling} is ${row.expected}`, () => {
        const settings = parsed({
          ...minimal,
          [settingKeys.partitionKeyEnabled]: 'true',
          [settingKeys.partitionKeySource]: spelling,
          ...(row.expression === undefined ? {} : { [settingKeys.partitionKeyExpression]: row.expression }),
        })
        expect(settings.partitionKeyExtraction.source).toBe(row.expected)
      })
    }
  }

  const filters = [
    { scope: 'Stream', filterType: 'StreamId', expression: 'orders-1', expected: { scope: 'stream', filterType: 'streamId', expression: 'orders-1' } },
    { scope: 'RECORD', filterType: 'JsonPath', expression: '$[?@.amount > 100]', expected: { scope: 'record', filterType: 'jsonPath', expression: '$[?@.amount > 100]' } },
    { scope: 'record', filterType: 'json_path', expression: '$.a', expected: { scope: 'record', filterType: 'jsonPath', expression: '$.a' } },
    { scope: 'Stream', filterType: 'Regex', expression: '^orders-.*', expected: { scope: 'stream', filterType: 'regex', expression: '^orders-.*' } },
    { scope: 'record', filterType: 'Prefix', expression: 'Loan,Order', expected: { scope: 'record', filterType: 'prefix', expression: 'Loan,Order' } },
  ] as const
  for (const row of filters) {
    test(`filter ${row.scope}/${row.filterType}`, () => {
      const settings = parsed({
        ...minimal,
        [settingKeys.filterScope]: row.scope,
        [settingKeys.filterType]: row.filterType,
        [settingKeys.filterExpression]: row.expression,
      })
      expect(settings.subscription.filter).toEqual(row.expected)
    })
  }

  const booleans = [
    { raw: 'true', expected: true },
    { raw: 'True', expected: true },
    { raw: ' TRUE ', expected: true },
    { raw: 'False', expected: false },
    { raw: 'false', expected: false },
    { raw: true, expected: true },
    { raw: false, expected: false },
  ] as const
  for (const row of booleans) {
    test(`boolean ${JSON.stringify(row.raw)}`, () => {
      expect(parsed({ ...minimal, [settingKeys.waitForBrokerAck]: row.raw }).waitForBrokerAck).toBe(row.expected)
    })
  }

  const integers = [
    { raw: '-1', expected: -1 },
    { raw: -1, expected: -1 },
    { raw: ' 10 ', expected: 10 },
    { raw: '+5', expected: 5 },
    { raw: 7.0, expected: 7 },
    { raw: '2147483647', expected: 2147483647 },
  ] as const
  for (const row of integers) {
    test(`integer ${JSON.stringify(row.raw)}`, () => {
      expect(parsed({ ...minimal, [settingKeys.maxRetries]: row.raw }).resilience.maxRetries).toBe(row.expected)
    })
  }
})

describe('parseSinkSettings: durations', () => {
  const durations = [
    { raw: '00:00:05', expected: 5000 },
    { raw: '5000', expected: 5000 },
    { raw: 5000, expected: 5000 },
    { raw: ' 00:00:05 ', expected: 5000 },
    { raw: '00:00:00', expected: 0 },
    { raw: '0', expected: 0 },
    { raw: '00:00:00.5', expected: 500 },
    { raw: '00:00:00.250', expected: 250 },
    { raw: '00:00:01.0000001', expected: 1000 },
    { raw: '00:05', expected: 300_000 },
    { raw: '01:02:03', expected: 3_723_000 },
    { raw: '1.02:03:04', expected: 93_784_000 },
    { raw: '1:02:03:04', expected: 93_784_000 },
    { raw: '1.00:00:00.001', expected: 86_400_001 },
  ] as const
  for (const row of durations) {
    test(`resilience:transientErrorDelay ${JSON.stringify(row.raw)} is ${row.expected} ms`, () => {
      expect(parsed({ ...minimal, [settingKeys.transientErrorDelay]: row.raw }).resilience.transientErrorDelayMs).toBe(row.expected)
    })
  }

  test('autocommit:interval takes a TimeSpan or milliseconds', () => {
    expect(parsed({ ...minimal, [settingKeys.autocommitInterval]: '00:00:10' }).autocommit.intervalMs).toBe(10_000)
    expect(parsed({ ...minimal, [settingKeys.autocommitInterval]: '2500' }).autocommit.intervalMs).toBe(2500)
    expect(parsed({ ...minimal, [settingKeys.autocommitInterval]: 2500 }).autocommit.intervalMs).toBe(2500)
  })
})

describe('parseSinkSettings: values that are normalized', () => {
  const brokers = [
    { raw: 'a:1, b:2', expected: ['a:1', 'b:2'] },
    { raw: 'broker', expected: ['broker:9092'] },
    { raw: '127.0.0.1:9093', expected: ['127.0.0.1:9093'] },
    { raw: '[::1]:9092', expected: ['[::1]:9092'] },
    { raw: '[fe80::1]', expected: ['[fe80::1]:9092'] },
    { raw: 'kafka_broker-1.internal:09092', expected: ['kafka_broker-1.internal:9092'] },
    { raw: ['a:1', 'b:2'], expected: ['a:1', 'b:2'] },
  ] as const
  for (const row of brokers) {
    test(`bootstrapServers ${JSON.stringify(row.raw)}`, () => {
      expect(parsed({ ...minimal, bootstrapServers: row.raw }).bootstrapServers).toEqual([...row.expected])
    })
  }

  test('bootstrapServers as numbered items, as a nested JSON array flattens', () => {
    const settings = parsed({ ...minimal, 'bootstrapServers:1': 'b:2', 'BootstrapServers:0': 'a:1' })
    expect(settings.bootstrapServers).toEqual(['a:1', 'b:2'])
  })

  test('defaultHeaders as one key per header keep the header name as written', () => {
    const settings = parsed({ ...minimal, 'DefaultHeaders:X-Api-Key': 'k', 'defaultHeaders:x-count': 3, 'defaultHeaders:X-On': true })
    expect(settings.defaultHeaders).toEqual({ 'X-Api-Key': 'k', 'x-count': '3', 'X-On': 'true' })
  })

  test('defaultHeaders as a JSON object string', () => {
    const settings = parsed({ ...minimal, defaultHeaders: '{"X-Api-Key":"k","X-Count":3}' })
    expect(settings.defaultHeaders).toEqual({ 'X-Api-Key': 'k', 'X-Count': '3' })
  })

  test('defaultHeaders as a native object', () => {
    expect(parsed({ ...minimal, defaultHeaders: { 'X-Api-Key': 'k' } }).defaultHeaders).toEqual({ 'X-Api-Key': 'k' })
  })

  test('a streamId filter without a scope implies scope stream', () => {
    const settings = parsed({ ...minimal, [settingKeys.filterType]: 'streamId', [settingKeys.filterExpression]: 'orders-1' })
    expect(settings.subscription.filter).toEqual({ scope: 'stream', filterType: 'streamId', expression: 'orders-1' })
  })

  test('a server-side regex is read by the rules of .NET, which KurrentDB evaluates it with: inline options and atomic groups pass', () => {
    for (const expression of ['(?i)^orders-', '(?>\\d+)-x', '\\Aorders\\z', '[a-z-[aeiou]]+']) {
      expect(parsed({ ...minimal, [settingKeys.filterScope]: 'stream', [settingKeys.filterType]: 'regex', [settingKeys.filterExpression]: expression }).subscription.filter.expression).toBe(expression)
    }
  })

  test('a jsonPath filter without a scope implies scope record', () => {
    const settings = parsed({ ...minimal, [settingKeys.filterType]: 'jsonPath', [settingKeys.filterExpression]: '$.a' })
    expect(settings.subscription.filter.scope).toBe('record')
  })

  test('a scope alone is accepted (every event, system events included)', () => {
    expect(parsed({ ...minimal, [settingKeys.filterScope]: 'stream' }).subscription.filter).toEqual({ scope: 'stream', filterType: 'unspecified' })
  })

  test('prefix lists and header lists are trimmed', () => {
    const settings = parsed({
      ...minimal,
      [settingKeys.filterScope]: 'stream',
      [settingKeys.filterType]: 'prefix',
      [settingKeys.filterExpression]: 'Loan, Order-',
      [settingKeys.partitionKeyEnabled]: 'true',
      [settingKeys.partitionKeySource]: 'headers',
      [settingKeys.partitionKeyExpression]: ' key1 , key2',
    })
    expect(settings.subscription.filter.expression).toBe('Loan,Order-')
    expect(settings.partitionKeyExtraction.expression).toBe('key1,key2')
  })

  test('the password is kept exactly as given', () => {
    const settings = parsed({ ...minimal, [settingKeys.securityProtocol]: 'saslSsl', [settingKeys.username]: 'u', [settingKeys.password]: ' p a s s ' })
    expect(settings.authentication.password).toBe(' p a s s ')
  })

  const compressionLevels = [
    { type: 'gzip', level: '-1' },
    { type: 'gzip', level: '9' },
    { type: 'gzip', level: '0' },
    { type: 'lz4', level: '12' },
    { type: 'zstd', level: '12' },
    { type: 'zstd', level: '1' },
    { type: 'snappy', level: '12' },
    { type: 'none', level: '-1' },
  ] as const
  for (const row of compressionLevels) {
    test(`compression ${row.type} level ${row.level}`, () => {
      const settings = parsed({ ...minimal, [settingKeys.compressionType]: row.type, [settingKeys.compressionLevel]: row.level })
      expect(settings.compression).toEqual({ type: row.type, level: Number(row.level) })
    })
  }

  test('transformer:enabled = false is accepted (it asks for nothing)', () => {
    expect(parseSinkSettings({ ...minimal, 'transformer:enabled': 'false' }).ok).toBe(true)
    expect(parseSinkSettings({ ...minimal, 'Transformer:Enabled': false }).ok).toBe(true)
  })
})

interface ViolationRow {
  readonly name: string
  readonly settings: Readonly<Record<string, unknown>>
  /** Whether `settings` replaces the minimal settings instead of adding to them. */
  readonly alone?: boolean
  readonly expectField: string
  readonly expectDescriptionContains: string
}

const sasl = { [settingKeys.securityProtocol]: 'SaslSsl', [settingKeys.username]: 'user', [settingKeys.password]: 'secret' }
const partitioning = { [settingKeys.partitionKeyEnabled]: 'true' }

const violationRows: readonly ViolationRow[] = [
  // required and instance type
  { name: 'instanceTypeName missing', settings: { topic: 'customers' }, alone: true, expectField: 'instanceTypeName', expectDescriptionContains: 'instanceTypeName is required: set it to kafka-sink' },
  { name: 'topic missing', settings: { instanceTypeName: 'kafka-sink' }, alone: true, expectField: 'topic', expectDescriptionContains: 'topic is required' },
  { name: 'topic blank', settings: { topic: '  ' }, expectField: 'topic', expectDescriptionContains: 'topic is required' },
  { name: 'topic blank, spelled Topic', settings: { instanceTypeName: 'kafka-sink', Topic: '' }, alone: true, expectField: 'Topic', expectDescriptionContains: 'topic is required' },
  { name: 'another connector type', settings: { instanceTypeName: 'http-sink' }, expectField: 'instanceTypeName', expectDescriptionContains: 'must be kafka-sink' },
  // Kafka
  { name: 'topic with a space', settings: { topic: 'my topic' }, expectField: 'topic', expectDescriptionContains: 'must be a Kafka topic name' },
  { name: 'topic too long', settings: { topic: 'a'.repeat(250) }, expectField: 'topic', expectDescriptionContains: '1 to 249 characters' },
  { name: 'topic "."', settings: { topic: '.' }, expectField: 'topic', expectDescriptionContains: 'not "." or ".."' },
  { name: 'topic is an object', settings: { topic: { name: 'x' } }, expectField: 'topic', expectDescriptionContains: 'must be a text value' },
  { name: 'bootstrap entry with a scheme', settings: { bootstrapServers: 'SASL_SSL://b:9092' }, expectField: 'bootstrapServers', expectDescriptionContains: 'without a scheme: remove it and choose the protocol with authentication:securityProtocol' },
  { name: 'bootstrap port out of range', settings: { bootstrapServers: 'b:99999' }, expectField: 'bootstrapServers', expectDescriptionContains: 'a port is a number from 1 to 65535' },
  { name: 'bootstrap port not a number', settings: { bootstrapServers: 'b:http' }, expectField: 'bootstrapServers', expectDescriptionContains: 'has port "http"' },
  { name: 'bootstrap empty entry', settings: { bootstrapServers: 'a:9092,,b:9092' }, expectField: 'bootstrapServers', expectDescriptionContains: 'empty entry' },
  { name: 'bootstrap trailing comma', settings: { bootstrapServers: 'a:9092,' }, expectField: 'bootstrapServers', expectDescriptionContains: 'empty entry' },
  { name: 'bootstrap IPv6 without brackets', settings: { bootstrapServers: '::1:9092' }, expectField: 'bootstrapServers', expectDescriptionContains: 'in brackets' },
  { name: 'bootstrap bad host', settings: { bootstrapServers: 'bad host:9092' }, expectField: 'bootstrapServers', expectDescriptionContains: 'valid host name' },
  { name: 'bootstrap in both forms', settings: { bootstrapServers: 'a:1', 'bootstrapServers:0': 'b:2' }, expectField: 'bootstrapServers', expectDescriptionContains: 'both set' },
  { name: 'bootstrap item not numbered', settings: { 'bootstrapServers:first': 'b:2' }, expectField: 'bootstrapServers:first', expectDescriptionContains: 'numbered bootstrapServers:0' },
  { name: 'defaultHeaders in both forms', settings: { defaultHeaders: '{"a":"1"}', 'defaultHeaders:b': '2' }, expectField: 'defaultHeaders', expectDescriptionContains: 'both set: use one form' },
  { name: 'defaultHeaders not JSON', settings: { defaultHeaders: 'X-Api-Key=k' }, expectField: 'defaultHeaders', expectDescriptionContains: 'must be a JSON object' },
  { name: 'defaultHeaders JSON array', settings: { defaultHeaders: '["a"]' }, expectField: 'defaultHeaders', expectDescriptionContains: 'must be a JSON object' },
  { name: 'defaultHeaders value not text', settings: { defaultHeaders: '{"a":{"b":1}}' }, expectField: 'defaultHeaders', expectDescriptionContains: 'value is not text' },
  { name: 'defaultHeaders names differing in case', settings: { defaultHeaders: '{"X-Id":"1","x-id":"2"}' }, expectField: 'defaultHeaders', expectDescriptionContains: 'twice' },
  { name: 'defaultHeaders:<Name> value not text', settings: { 'defaultHeaders:X-Id': ['a'] }, expectField: 'defaultHeaders:X-Id', expectDescriptionContains: 'must be a text value' },
  { name: 'defaultHeaders: without a name', settings: { 'defaultHeaders: ': 'x' }, expectField: 'defaultHeaders: ', expectDescriptionContains: 'no name after the colon' },
  // values
  { name: 'boolean "yes"', settings: { waitForBrokerAck: 'yes' }, expectField: 'waitForBrokerAck', expectDescriptionContains: 'must be true or false, got "yes"' },
  { name: 'boolean 1', settings: { 'resilience:enabled': 1 }, expectField: 'resilience:enabled', expectDescriptionContains: 'must be true or false' },
  { name: 'integer "abc"', settings: { 'resilience:maxRetries': 'abc' }, expectField: 'resilience:maxRetries', expectDescriptionContains: 'must be a whole number from -1 to 2147483647, got "abc"' },
  { name: 'integer with a fraction', settings: { 'resilience:maxRetries': 1.5 }, expectField: 'resilience:maxRetries', expectDescriptionContains: 'whole number' },
  { name: 'integer in exponent form', settings: { 'resilience:maxRetries': '1e3' }, expectField: 'resilience:maxRetries', expectDescriptionContains: 'whole number' },
  { name: 'maxRetries below -1', settings: { 'resilience:maxRetries': '-2' }, expectField: 'resilience:maxRetries', expectDescriptionContains: 'from -1 to' },
  { name: 'messageSendMaxRetries above int32', settings: { 'resilience:messageSendMaxRetries': '2147483648' }, expectField: 'resilience:messageSendMaxRetries', expectDescriptionContains: 'from 0 to 2147483647' },
  { name: 'requestTimeoutMs zero', settings: { 'resilience:requestTimeoutMs': 0 }, expectField: 'resilience:requestTimeoutMs', expectDescriptionContains: 'from 1 to 900000' },
  { name: 'reconnectBackoffMaxMs above an hour', settings: { 'resilience:reconnectBackoffMaxMs': '3600001' }, expectField: 'resilience:reconnectBackoffMaxMs', expectDescriptionContains: 'from 0 to 3600000' },
  { name: 'recordsThreshold zero', settings: { 'autocommit:recordsThreshold': '0' }, expectField: 'autocommit:recordsThreshold', expectDescriptionContains: 'from 1 to' },
  { name: 'compression level above 12', settings: { 'compression:level': '13' }, expectField: 'compression:level', expectDescriptionContains: 'from -1 to 12' },
  { name: 'compression level below -1', settings: { 'compression:level': '-5' }, expectField: 'compression:level', expectDescriptionContains: 'from -1 to 12' },
  { name: 'gzip level above 9', settings: { 'compression:type': 'Gzip', 'compression:level': '10' }, expectField: 'compression:level', expectDescriptionContains: 'gzip accepts levels -1 to 9' },
  { name: 'enum typo', settings: { 'authentication:securityProtocol': 'SaslSssl' }, expectField: 'authentication:securityProtocol', expectDescriptionContains: 'must be plaintext, ssl, saslPlaintext or saslSsl, got "SaslSssl" (did you mean saslSsl?)' },
  { name: 'enum not supported', settings: { 'authentication:saslMechanism': 'GSSAPI' }, expectField: 'authentication:saslMechanism', expectDescriptionContains: 'must be plain, scramSha256 or scramSha512' },
  { name: 'enum as a number', settings: { 'compression:type': 4 }, expectField: 'compression:type', expectDescriptionContains: 'must be none, gzip, snappy, lz4 or zstd' },
  // durations
  { name: 'duration with a unit', settings: { 'resilience:transientErrorDelay': '5s' }, expectField: 'resilience:transientErrorDelay', expectDescriptionContains: 'must be a duration' },
  { name: 'duration with 24 hours', settings: { 'resilience:transientErrorDelay': '24:00:00' }, expectField: 'resilience:transientErrorDelay', expectDescriptionContains: 'hours go up to 23' },
  { name: 'duration with 60 seconds', settings: { 'resilience:transientErrorDelay': '00:00:60' }, expectField: 'resilience:transientErrorDelay', expectDescriptionContains: 'seconds go up to 59' },
  { name: 'negative duration', settings: { 'resilience:transientErrorDelay': '-00:00:05' }, expectField: 'resilience:transientErrorDelay', expectDescriptionContains: 'must not be negative' },
  { name: 'negative milliseconds', settings: { 'resilience:transientErrorDelay': -5 }, expectField: 'resilience:transientErrorDelay', expectDescriptionContains: 'must be a duration' },
  { name: 'fractional milliseconds', settings: { 'autocommit:interval': 1.5 }, expectField: 'autocommit:interval', expectDescriptionContains: 'must be a duration' },
  { name: 'autocommit interval zero', settings: { 'autocommit:interval': '0' }, expectField: 'autocommit:interval', expectDescriptionContains: 'must be from 1 ms' },
  { name: 'autocommit interval beyond a timer', settings: { 'autocommit:interval': '25.00:00:00' }, expectField: 'autocommit:interval', expectDescriptionContains: '2147483647 ms' },
  // authentication
  { name: 'SASL without username', settings: { 'authentication:securityProtocol': 'SaslSsl', 'authentication:password': 'p' }, expectField: 'authentication:username', expectDescriptionContains: 'authentication:username is required when authentication:securityProtocol is saslSsl' },
  { name: 'SASL without password', settings: { 'authentication:securityProtocol': 'SASL_PLAINTEXT', 'authentication:username': 'u' }, expectField: 'authentication:password', expectDescriptionContains: 'authentication:password is required when authentication:securityProtocol is saslPlaintext' },
  { name: 'SASL with a blank password', settings: { ...sasl, 'authentication:password': '' }, expectField: 'authentication:password', expectDescriptionContains: 'is required when' },
  { name: 'credentials without SASL', settings: { 'authentication:username': 'u', 'authentication:password': 'p' }, expectField: 'authentication:username', expectDescriptionContains: 'which does not use SASL: set authentication:securityProtocol to saslSsl' },
  { name: 'SCRAM without SASL', settings: { 'authentication:securityProtocol': 'Ssl', 'authentication:saslMechanism': 'ScramSha512' }, expectField: 'authentication:saslMechanism', expectDescriptionContains: 'is ssl, which does not use SASL' },
  { name: 'password is the redaction placeholder', settings: { ...sasl, 'authentication:password': '***' }, expectField: 'authentication:password', expectDescriptionContains: 'placeholder' },
  // partitioning
  { name: 'headers source without expression', settings: { ...partitioning, 'partitionKeyExtraction:source': 'headers' }, expectField: 'partitionKeyExtraction:expression', expectDescriptionContains: 'is required when partitionKeyExtraction:source is headers' },
  { name: 'headers source with an empty name', settings: { ...partitioning, 'partitionKeyExtraction:source': 'headers', 'partitionKeyExtraction:expression': 'a,,b' }, expectField: 'partitionKeyExtraction:expression', expectDescriptionContains: 'empty header name' },
  { name: 'stream source with a bad regex', settings: { ...partitioning, 'partitionKeyExtraction:source': 'stream', 'partitionKeyExtraction:expression': '^(.*_data$' }, expectField: 'partitionKeyExtraction:expression', expectDescriptionContains: 'is not a regular expression kafka-sink can run' },
  { name: 'stream source with a lookahead (backtracking)', settings: { ...partitioning, 'partitionKeyExtraction:source': 'stream', 'partitionKeyExtraction:expression': '^(?=orders)(.*)$' }, expectField: 'partitionKeyExtraction:expression', expectDescriptionContains: 'uses lookahead/lookbehind' },
  { name: 'stream source with a backreference', settings: { ...partitioning, 'partitionKeyExtraction:source': 'stream', 'partitionKeyExtraction:expression': '^(\\w)\\1' }, expectField: 'partitionKeyExtraction:expression', expectDescriptionContains: 'backreferences' },
  { name: 'stream source with an over-long regex', settings: { ...partitioning, 'partitionKeyExtraction:source': 'stream', 'partitionKeyExtraction:expression': 'a'.repeat(2049) }, expectField: 'partitionKeyExtraction:expression', expectDescriptionContains: 'the limit is 2048' },
  { name: 'JSONPath match() with a lookbehind', settings: { 'subscription:filter:filterType': 'jsonPath', 'subscription:filter:expression': "$[?match(@.id, '(?<!x)a.*')]" }, expectField: 'subscription:filter:expression', expectDescriptionContains: 'match() pattern' },
  { name: 'JSONPath search() with a backreference, nested in a filter', settings: { 'subscription:filter:filterType': 'jsonPath', 'subscription:filter:expression': "$.lines[?search(@.sku, '(a)\\\\1')]" }, expectField: 'subscription:filter:expression', expectDescriptionContains: 'search() pattern' },
  { name: 'JSONPath over the length cap', settings: { 'subscription:filter:filterType': 'jsonPath', 'subscription:filter:expression': `$.${'a'.repeat(5000)}` }, expectField: 'subscription:filter:expression', expectDescriptionContains: 'the limit is 4096' },
  { name: 'server regex .NET refuses: \\q', settings: { 'subscription:filter:scope': 'stream', 'subscription:filter:filterType': 'regex', 'subscription:filter:expression': '^orders\\q' }, expectField: 'subscription:filter:expression', expectDescriptionContains: 'unrecognized escape sequence' },
  { name: 'server regex .NET refuses: \\u{…}', settings: { 'subscription:filter:scope': 'stream', 'subscription:filter:filterType': 'regex', 'subscription:filter:expression': '\\u{41}' }, expectField: 'subscription:filter:expression', expectDescriptionContains: 'insufficient hex digits' },
  { name: 'server regex .NET refuses: a backreference to no group', settings: { 'subscription:filter:scope': 'stream', 'subscription:filter:filterType': 'regex', 'subscription:filter:expression': '(a)\\2' }, expectField: 'subscription:filter:expression', expectDescriptionContains: 'undefined group number 2' },
  { name: 'streamSuffix source with an expression', settings: { ...partitioning, 'partitionKeyExtraction:source': 'streamSuffix', 'partitionKeyExtraction:expression': 'x' }, expectField: 'partitionKeyExtraction:expression', expectDescriptionContains: 'is not used when partitionKeyExtraction:source is streamSuffix' },
  { name: 'source set while extraction is off', settings: { 'partitionKeyExtraction:source': 'stream' }, expectField: 'partitionKeyExtraction:source', expectDescriptionContains: 'partitionKeyExtraction:enabled is false, so it would be ignored: set partitionKeyExtraction:enabled to true' },
  { name: 'expression set while extraction is off', settings: { 'partitionKeyExtraction:enabled': 'false', 'partitionKeyExtraction:expression': 'key1' }, expectField: 'partitionKeyExtraction:expression', expectDescriptionContains: 'would be ignored' },
  // subscription filter
  { name: 'streamId with scope record', settings: { 'subscription:filter:scope': 'record', 'subscription:filter:filterType': 'streamId', 'subscription:filter:expression': 's' }, expectField: 'subscription:filter:scope', expectDescriptionContains: 'must be stream when subscription:filter:filterType is streamId' },
  { name: 'jsonPath with scope stream', settings: { 'subscription:filter:scope': 'stream', 'subscription:filter:filterType': 'jsonPath', 'subscription:filter:expression': '$.a' }, expectField: 'subscription:filter:scope', expectDescriptionContains: 'must be record when subscription:filter:filterType is jsonPath' },
  { name: 'filter type without expression', settings: { 'subscription:filter:scope': 'stream', 'subscription:filter:filterType': 'prefix' }, expectField: 'subscription:filter:expression', expectDescriptionContains: 'subscription:filter:expression is required when subscription:filter:filterType is prefix' },
  { name: 'expression without filter type', settings: { 'subscription:filter:scope': 'stream', 'subscription:filter:expression': 'orders' }, expectField: 'subscription:filter:filterType', expectDescriptionContains: 'does not guess it from the expression' },
  { name: 'regex without scope', settings: { 'subscription:filter:filterType': 'regex', 'subscription:filter:expression': '^a' }, expectField: 'subscription:filter:scope', expectDescriptionContains: 'subscription:filter:scope is required when subscription:filter:filterType is regex' },
  { name: 'filter regex does not compile', settings: { 'subscription:filter:scope': 'stream', 'subscription:filter:filterType': 'regex', 'subscription:filter:expression': '[a-' }, expectField: 'subscription:filter:expression', expectDescriptionContains: 'is not a valid .NET regular expression' },
  { name: 'JSONPath does not parse', settings: { 'subscription:filter:scope': 'record', 'subscription:filter:filterType': 'jsonPath', 'subscription:filter:expression': '$[?(@.a ==' }, expectField: 'subscription:filter:expression', expectDescriptionContains: 'is not a valid JSONPath query' },
  { name: 'JSONPath without $', settings: { 'subscription:filter:filterType': 'jsonPath', 'subscription:filter:expression': 'amount > 5' }, expectField: 'subscription:filter:expression', expectDescriptionContains: "expected '$'" },
  { name: 'prefix list with an empty item', settings: { 'subscription:filter:scope': 'stream', 'subscription:filter:filterType': 'prefix', 'subscription:filter:expression': 'a,,b' }, expectField: 'subscription:filter:expression', expectDescriptionContains: 'empty prefix' },
  { name: 'stream id with spaces around it', settings: { 'subscription:filter:filterType': 'streamId', 'subscription:filter:expression': ' orders-1' }, expectField: 'subscription:filter:expression', expectDescriptionContains: 'spaces around the stream id' },
  { name: 'several stream ids for a streamId filter', settings: { 'subscription:filter:filterType': 'streamId', 'subscription:filter:expression': 'orders-1,orders-2' }, expectField: 'subscription:filter:expression', expectDescriptionContains: 'reads exactly one' },
  { name: 'invalid scope', settings: { 'subscription:filter:scope': 'all' }, expectField: 'subscription:filter:scope', expectDescriptionContains: 'must be unspecified, stream or record' },
  // keys
  // default headers must not replace the record's identity headers, which consumers deduplicate on
  { name: 'defaultHeaders:esdb-record-id', settings: { 'defaultHeaders:esdb-record-id': 'forged' }, expectField: 'defaultHeaders', expectDescriptionContains: 'names starting with esdb- are' },
  { name: 'defaultHeaders:ESDB-Record-Stream-Id', settings: { 'defaultHeaders:ESDB-Record-Stream-Id': 'x' }, expectField: 'defaultHeaders', expectDescriptionContains: 'names starting with esdb- are' },
  { name: 'defaultHeaders JSON with esdb-anything', settings: { defaultHeaders: '{"X-Ok":"1","esdb-anything":"x"}' }, expectField: 'defaultHeaders', expectDescriptionContains: '"esdb-anything"' },
  { name: 'typo in a key', settings: { topik: 'x' }, expectField: 'topik', expectDescriptionContains: 'did you mean topic?' },
  { name: 'typo in a nested key', settings: { 'subscription:filter:expresion': 'x' }, expectField: 'subscription:filter:expresion', expectDescriptionContains: 'did you mean subscription:filter:expression?' },
  { name: 'key at the wrong level', settings: { maxRetries: '3' }, expectField: 'maxRetries', expectDescriptionContains: 'did you mean resilience:maxRetries?' },
  { name: 'ambiguous short key', settings: { enabled: 'true' }, expectField: 'enabled', expectDescriptionContains: 'partitionKeyExtraction:enabled, resilience:enabled, autocommit:enabled or logging:enabled' },
  { name: 'below a scalar setting', settings: { 'topic:name': 'x' }, expectField: 'topic:name', expectDescriptionContains: 'is not a kafka-sink setting' },
  { name: 'typo in the prefix of a header key', settings: { 'defaultHeader:X-Api-Key': 'k' }, expectField: 'defaultHeader:X-Api-Key', expectDescriptionContains: 'did you mean defaultHeaders:X-Api-Key?' },
  { name: 'nested object sent as settings', settings: { authentication: { username: 'u' } }, expectField: 'authentication', expectDescriptionContains: 'settings are flat keys' },
  { name: 'key set twice in different case', settings: { TOPIC: 'other' }, expectField: 'TOPIC', expectDescriptionContains: 'set twice (as topic and TOPIC)' },
  // KurrentDB features kafka-sink does not have
  { name: 'transformer enabled', settings: { 'transformer:enabled': 'true' }, expectField: 'transformer:enabled', expectDescriptionContains: 'does not support record transformations' },
  { name: 'transformer function', settings: { 'Transformer:Function': 'ZnVuY3Rpb24=' }, expectField: 'Transformer:Function', expectDescriptionContains: 'does not support record transformations' },
  { name: 'generic resilience delays', settings: { 'resilience:firstDelayBound:upperLimitMs': '60000' }, expectField: 'resilience:firstDelayBound:upperLimitMs', expectDescriptionContains: 'its retries are controlled by resilience:maxRetries, resilience:transientErrorDelay' },
  { name: 'generic resilience delays, third bound', settings: { 'Resilience:ThirdDelayBound:DelayMs': '1' }, expectField: 'Resilience:ThirdDelayBound:DelayMs', expectDescriptionContains: "generic retry delays" },
  { name: 'node affinity', settings: { 'subscription:nodeAffinity': 'Leader' }, expectField: 'subscription:nodeAffinity', expectDescriptionContains: 'nodePreference' },
  { name: 'internal start position', settings: { 'Subscription:StartPosition': '100' }, expectField: 'Subscription:StartPosition', expectDescriptionContains: 'start/{position}' },
  { name: 'historical headerKey', settings: { 'partitionKeyExtraction:headerKey': 'key1' }, expectField: 'partitionKeyExtraction:headerKey', expectDescriptionContains: 'set partitionKeyExtraction:source to headers' },
]

describe('parseSinkSettings: violations', () => {
  for (const row of violationRows) {
    test(row.name, () => {
      const violations = violationsOf(row.alone ? row.settings : { ...minimal, ...row.settings })
      const matching = violations.filter((violation) => violation.field === row.expectField)
      expect(matching.length, JSON.stringify(violations)).toBeGreaterThan(0)
      expect(matching.map((violation) => violation.description).join('\n')).toContain(row.expectDescriptionContains)
    })
  }

  test('every problem is reported at once', () => {
    const violations = violationsOf({
      instanceTypeName: 'kafka-sink',
      topik: 'customers',
      waitForBrokerAck: 'maybe',
      'authentication:securityProtocol': 'saslSsl',
      'compression:type': 'gzip',
      'compression:level': '11',
      'transformer:enabled': 'true',
    })
    expect(violations.map((violation) => violation.field).sort()).toEqual(
      ['authentication:password', 'authentication:username', 'compression:level', 'topic', 'topik', 'transformer:enabled', 'waitForBrokerAck'].sort(),
    )
  })

  test('an invalid value does not also trip the rules that depend on it', () => {
    const violations = violationsOf({ ...minimal, 'authentication:securityProtocol': 'sasl', 'authentication:username': 'u' })
    expect(violations).toHaveLength(1)
    expect(violations[0]?.field).toBe('authentication:securityProtocol')
  })

  test('violations never echo a secret', () => {
    const secret = 'hunter2-very-secret'
    const cases: readonly Readonly<Record<string, unknown>>[] = [
      { ...minimal, 'authentication:password': secret },
      { ...minimal, 'authentication:password': { value: secret } },
      { ...minimal, 'Authentication:Password': secret, 'authentication:password': secret },
      { ...minimal, 'authentication:pasword': secret },
    ]
    for (const settings of cases) {
      const violations = violationsOf(settings)
      expect(JSON.stringify(violations)).not.toContain(secret)
    }
  })

  test('a field is the key as the user spelled it', () => {
    const violations = violationsOf({ ...minimal, 'Resilience:MaxRetries': 'many' })
    expect(violations).toEqual([{ field: 'Resilience:MaxRetries', description: 'Resilience:MaxRetries must be a whole number from -1 to 2147483647, got "many"' }])
  })
})

describe('parseSinkSettings: hostile sizes', () => {
  // Edit distance costs length × length: a 1 MiB key (the body cap) must not be compared with every known key.
  const huge = 'x'.repeat(1024 * 1024)

  test('a 1 MiB unknown key, key prefix or enum value is refused without a suggestion, and not echoed in full', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...minimal, [huge]: 'x' }, huge],
      [{ ...minimal, [`${huge}:topic`]: 'x' }, `${huge}:topic`],
      [{ ...minimal, 'authentication:securityProtocol': huge }, 'authentication:securityProtocol'],
    ]
    for (const [settings, field] of cases) {
      const violation = violationsOf(settings).find((candidate) => candidate.field === field)
      expect(violation).toBeDefined()
      expect(violation!.description).not.toContain('did you mean')
      expect(violation!.description.length).toBeLessThan(1000)
    }
  })
})

describe('parseSinkSettings: what each refusal says, and only once', () => {
  const only = (settings: Readonly<Record<string, unknown>>) => violationsOf({ ...minimal, ...settings })

  test('a list in both forms is one violation that shows the numbered form', () => {
    expect(only({ bootstrapServers: 'a:1', 'bootstrapServers:0': 'b:2' })).toEqual([
      { field: 'bootstrapServers', description: 'bootstrapServers and bootstrapServers:0, bootstrapServers:1… keys are both set: use one form or the other' },
    ])
  })

  test('a header map in both forms is one violation that shows the named form', () => {
    expect(only({ DefaultHeaders: '{"a":"1"}', 'defaultHeaders:b': '2' })).toEqual([
      { field: 'DefaultHeaders', description: 'DefaultHeaders and defaultHeaders:<Name> keys are both set: use one form or the other' },
    ])
  })

  test('each item that is not text is one violation, and the setting is not read further', () => {
    expect(only({ 'defaultHeaders:X-A': { nested: true }, 'defaultHeaders:X-B': 'fine' })).toEqual([
      { field: 'defaultHeaders:X-A', description: 'defaultHeaders:X-A must be a text value' },
    ])
    expect(only({ 'bootstrapServers:0': ['a:1'], 'bootstrapServers:1': null })).toEqual([
      { field: 'bootstrapServers:0', description: 'bootstrapServers:0 must be a text value' },
      { field: 'bootstrapServers:1', description: 'bootstrapServers:1 must be a text value' },
    ])
  })

  test('numbered items are whole numbers, compared as numbers', () => {
    for (const name of ['x1', '1x', '-1', '1.5']) {
      expect(only({ [`bootstrapServers:${name}`]: 'a:1' }).map((violation) => violation.field)).toEqual([`bootstrapServers:${name}`])
    }
    expect(parsed({ ...minimal, 'bootstrapServers:10': 'c:3', 'bootstrapServers:2': 'b:2', 'bootstrapServers:0': 'a:1' }).bootstrapServers).toEqual(['a:1', 'b:2', 'c:3'])
  })

  test('credentials that cannot be read are not also reported missing (SASL) or unused (no SASL)', () => {
    expect(only({ ...sasl, 'authentication:username': { name: 'u' } })).toEqual([
      { field: 'authentication:username', description: 'authentication:username must be a text value, got a JSON object' },
    ])
    expect(only({ 'authentication:username': ['u'] })).toEqual([
      { field: 'authentication:username', description: 'authentication:username must be a text value, got a JSON array' },
    ])
  })

  test('a password that is the redaction placeholder is not also reported missing (SASL) or unused (no SASL)', () => {
    for (const settings of [{ ...sasl, 'authentication:password': '***' }, { 'authentication:password': '***' }]) {
      const violations = only(settings)
      expect(violations.map((violation) => violation.field)).toEqual(['authentication:password'])
      expect(violations[0]!.description).toContain('placeholder')
    }
  })

  test('a rule names the key as the user spelled it', () => {
    const violations = only({ 'Authentication:Username': 'u' })
    expect(violations.map((violation) => violation.field)).toEqual(['Authentication:Username'])
    expect(violations[0]!.description).toStartWith('Authentication:Username is set but')
  })
})

describe('parseSinkSettings: unknown keys', () => {
  const describedAs = (key: string, raw: unknown = 'x') => {
    const violation = violationsOf({ ...minimal, [key]: raw }).find((candidate) => candidate.field === key)
    expect(violation).toBeDefined()
    return violation!.description
  }

  test('a key of up to 100 characters is shown whole; a longer one is cut, with its length, and gets no suggestion', () => {
    const hundred = `topic${'x'.repeat(95)}`
    expect(describedAs(hundred)).toStartWith(`${hundred} is not a kafka-sink setting: did you mean`)
    expect(describedAs(`${hundred}y`)).toBe(
      `${hundred}… (101 characters) is not a kafka-sink setting: Unknown settings are refused so that a typo never goes unnoticed`,
    )
    expect(describedAs('topik')).toStartWith('topik is not a kafka-sink setting: did you mean topic?')
  })

  test('a misspelt list key without a colon suggests the key itself, not an item', () => {
    expect(describedAs('bootstrapServer')).toContain('did you mean bootstrapServers?')
  })

  test('a header key whose prefix is two edits off suggests the header key', () => {
    expect(describedAs('defaultHeadr:X-Tenant-Id')).toContain('did you mean defaultHeaders:X-Tenant-Id?')
  })

  test('spaces around a key are ignored for the suggestion', () => {
    expect(describedAs('  partitionKeyExtraction:enabled  ', 'true')).toContain('did you mean partitionKeyExtraction:enabled?')
  })

  test('a nested object is explained only under the name of a settings group', () => {
    const nested = describedAs('Authentication', { username: 'u' })
    expect(nested).toMatch(/^Authentication holds a nested object, but settings are flat keys: write each value under its own key \(e\.g\. authentication:\w+\), or send the nested object as the connector's configuration instead of its settings$/)
    expect(describedAs('authentication', 'saslSsl')).toContain('is not a kafka-sink setting')
    expect(describedAs('topik', { name: 'x' })).toContain('did you mean topic?')
  })
})
