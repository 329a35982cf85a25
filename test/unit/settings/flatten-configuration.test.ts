import { describe, expect, test } from 'bun:test'
import { flattenConfiguration, nestSettings } from '../../../src/settings/flatten-configuration.ts'
import { parseSinkSettings } from '../../../src/settings/parse-sink-settings.ts'

describe('flattenConfiguration', () => {
  test('nested objects join their keys with ":" and scalars become text', () => {
    const flat = flattenConfiguration({
      instanceTypeName: 'kafka-sink',
      topic: 'customers',
      subscription: { filter: { scope: 'stream', filterType: 'streamId', expression: 'example-stream' } },
      waitForBrokerAck: true,
      autocommit: { enabled: false, interval: 5000 },
      compression: { level: -1 },
    })
    expect(flat).toEqual({
      instanceTypeName: 'kafka-sink',
      topic: 'customers',
      'subscription:filter:scope': 'stream',
      'subscription:filter:filterType': 'streamId',
      'subscription:filter:expression': 'example-stream',
      waitForBrokerAck: 'true',
      'autocommit:enabled': 'false',
      'autocommit:interval': '5000',
      'compression:level': '-1',
    })
  })

  test('array items become key:0, key:1', () => {
    expect(flattenConfiguration({ bootstrapServers: ['a:1', 'b:2'], x: [{ y: 'z' }] })).toEqual({
      'bootstrapServers:0': 'a:1',
      'bootstrapServers:1': 'b:2',
      'x:0:y': 'z',
    })
  })

  test('nulls and empty objects set nothing', () => {
    expect(flattenConfiguration({ topic: null, defaultHeaders: {}, list: [] })).toEqual({})
  })

  test('anything but an object gives an empty map', () => {
    for (const value of [null, undefined, 'text', 5, ['a']]) expect(flattenConfiguration(value)).toEqual({})
  })

  test('the configuration example of the management API parses', () => {
    const result = parseSinkSettings(
      flattenConfiguration({
        instanceTypeName: 'kafka-sink',
        topic: 'customers',
        subscription: { filter: { scope: 'stream', filterType: 'streamId', expression: 'example-stream' } },
        waitForBrokerAck: true,
      }),
    )
    expect(result.ok).toBe(true)
  })

  test('a nested configuration with a broker array, header object and .NET boolean spelling parses', () => {
    const flat = flattenConfiguration({
      instanceTypeName: 'KafkaSink',
      topic: 'customers',
      bootstrapServers: ['a:1', 'b:2'],
      defaultHeaders: { 'X-Api-Key': 'k' },
      resilience: { enabled: 'True', transientErrorDelay: '00:00:05' },
    })
    const result = parseSinkSettings(flat)
    if (!result.ok) throw new Error(JSON.stringify(result.violations))
    expect(result.settings.bootstrapServers).toEqual(['a:1', 'b:2'])
    expect(result.settings.defaultHeaders).toEqual({ 'X-Api-Key': 'k' })
    expect(result.settings.resilience.transientErrorDelayMs).toBe(5000)
  })
})

describe('nestSettings', () => {
  test('flat keys nest; defaultHeaders:<Name> nests under defaultHeaders', () => {
    expect(
      nestSettings({
        instanceTypeName: 'kafka-sink',
        'subscription:filter:scope': 'stream',
        'subscription:initialPosition': 'earliest',
        'defaultHeaders:X-Api-Key': 'k',
      }),
    ).toEqual({
      instanceTypeName: 'kafka-sink',
      subscription: { filter: { scope: 'stream' }, initialPosition: 'earliest' },
      defaultHeaders: { 'X-Api-Key': 'k' },
    })
  })

  test('segments differing only in letter case merge under the first spelling', () => {
    expect(nestSettings({ 'Authentication:Username': 'u', 'authentication:password': 'p' })).toEqual({
      Authentication: { Username: 'u', password: 'p' },
    })
  })

  test('numbered items become an array again', () => {
    expect(nestSettings({ 'bootstrapServers:0': 'a:1', 'bootstrapServers:1': 'b:2' })).toEqual({ bootstrapServers: ['a:1', 'b:2'] })
  })

  test('a key that is both a value and a section keeps the section', () => {
    expect(nestSettings({ defaultHeaders: '{"a":"1"}', 'defaultHeaders:b': '2' })).toEqual({ defaultHeaders: { b: '2' } })
    expect(nestSettings({ 'defaultHeaders:b': '2', defaultHeaders: '{"a":"1"}' })).toEqual({ defaultHeaders: { b: '2' } })
  })
})

describe('round trips', () => {
  const flatExamples: readonly Readonly<Record<string, string>>[] = [
    {
      instanceTypeName: 'kafka-sink',
      topic: 'loans',
      bootstrapServers: 'pkc-z9doz.eu-west-1.aws.confluent.cloud:9092',
      'subscription:filter:scope': 'stream',
      'subscription:filter:filterType': 'prefix',
      'subscription:filter:expression': 'LoanRequest',
      'authentication:username': 'UJ',
      'authentication:password': 'Nh',
      'authentication:securityProtocol': 'SaslSsl',
      waitForBrokerAck: 'true',
    },
    { instanceTypeName: 'kafka-sink', topic: 'customers', 'defaultHeaders:X-Api-Key': 'k', 'defaultHeaders:X-Tenant-ID': 't', 'bootstrapServers:0': 'a:1', 'bootstrapServers:1': 'b:2' },
  ]
  for (const [index, flat] of flatExamples.entries()) {
    test(`flatten(nest(settings)) gives the settings back (${index})`, () => {
      expect(flattenConfiguration(nestSettings(flat))).toEqual({ ...flat })
    })
  }

  test('nest(flatten(configuration)) gives a text-valued configuration back', () => {
    const configuration = {
      instanceTypeName: 'kafka-sink',
      topic: 'customers',
      bootstrapServers: ['a:1', 'b:2'],
      subscription: { filter: { scope: 'stream', filterType: 'streamId', expression: 'example-stream' } },
      defaultHeaders: { 'X-Api-Key': 'k' },
      resilience: { maxRetries: '-1' },
    }
    expect(nestSettings(flattenConfiguration(configuration))).toEqual(configuration)
  })
})
