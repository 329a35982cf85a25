/**
 * Settings every KurrentDB sink connector has (instance type, subscription filter, checkpoints, headers, logging),
 * with the same keys and defaults, plus the KurrentDB sink features kafka-sink does not have, so that their keys are
 * refused with a reason instead of being reported as typos.
 */
import { Type } from '@sinclair/typebox'
import { booleanSetting, durationSetting, enumSetting, integerSetting, literalSetting, textSetting } from './setting-kinds.ts'
import { showRawValue } from './setting-definition.ts'

export const commonSettingKeys = {
  instanceTypeName: 'instanceTypeName',
  filterScope: 'subscription:filter:scope',
  filterType: 'subscription:filter:filterType',
  filterExpression: 'subscription:filter:expression',
  initialPosition: 'subscription:initialPosition',
  autocommitEnabled: 'autocommit:enabled',
  autocommitInterval: 'autocommit:interval',
  autocommitRecordsThreshold: 'autocommit:recordsThreshold',
  headersIgnoreSystem: 'headers:ignoreSystem',
  loggingEnabled: 'logging:enabled',
} as const

const keys = commonSettingKeys

export const kafkaSinkInstanceType = 'kafka-sink'
// KurrentDB's catalogue accepts the kebab-case name, the type name and the full type name for each connector type.
const kafkaSinkInstanceTypeAliases = ['KafkaSink', 'Kurrent.Connectors.Kafka.KafkaSink'] as const

export const instanceTypeNameSetting = literalSetting({
  key: keys.instanceTypeName,
  group: 'kafka',
  value: kafkaSinkInstanceType,
  aliases: kafkaSinkInstanceTypeAliases,
  description:
    `The connector type. kafka-sink runs only KurrentDB's Kafka sink, so this must be \`${kafkaSinkInstanceType}\`; ` +
    `KurrentDB's other names for it (${kafkaSinkInstanceTypeAliases.map((alias) => `\`${alias}\``).join(', ')}) are accepted too, in any letter case.`,
  examples: [kafkaSinkInstanceType, 'KafkaSink'],
  mismatch: (raw) =>
    `must be ${kafkaSinkInstanceType}: kafka-sink runs only the Kafka sink connector, got ${showRawValue(raw)}. ` +
    `Set ${keys.instanceTypeName} to ${kafkaSinkInstanceType}; run other connector types in KurrentDB itself`,
})

export const filterScopeSetting = enumSetting({
  key: keys.filterScope,
  group: 'subscription',
  values: {
    unspecified: 'No filter: every event in the database except system events (event types starting with `$`).',
    stream: 'The filter matches stream ids.',
    record: 'The filter matches event types (`regex`, `prefix`) or the event itself (`jsonPath`).',
  },
  defaultValue: 'unspecified',
  description:
    `What the subscription filter matches. Leave it unset (with no filter type and no expression) to send every event ` +
    `except system events. A scope with no filter type and no expression sends every event, system events included, ` +
    `as in KurrentDB. A \`streamId\` filter implies \`stream\` and a \`jsonPath\` filter implies \`record\`, so the ` +
    `scope may be left out for those; \`regex\` and \`prefix\` need it.`,
  examples: ['stream', 'record', 'Stream'],
})

export const filterTypeSetting = enumSetting({
  key: keys.filterType,
  group: 'subscription',
  values: {
    unspecified: 'No filter.',
    streamId: 'Read one stream: the expression is its exact stream id. Scope `stream` only.',
    prefix: 'Comma-separated prefixes of the stream id (scope `stream`) or of the event type (scope `record`), e.g. `LoanRequest,Order-`.',
    regex:
      'A regular expression matched against the stream id (scope `stream`) or the event type (scope `record`). ' +
      'KurrentDB evaluates it on the server; kafka-sink checks beforehand that it compiles by the rules of .NET, the dialect KurrentDB uses.',
    jsonPath:
      'An RFC 9535 JSONPath query run on each JSON event: the event is forwarded when the query selects something from it ' +
      '(`$.customer.tier`, `$.lines[?@.sku == \'A1\']`) or when the event itself passes a root filter (`$[?@.amount > 100]`, ' +
      'where `@` is the event). Non-JSON events are skipped. Scope `record` only.',
  },
  defaultValue: 'unspecified',
  description:
    `How \`${keys.filterExpression}\` is read. Required whenever an expression is set: unlike KurrentDB's connectors, ` +
    `kafka-sink does not guess the type from the expression, because an expression such as \`orders\` is a valid prefix ` +
    `and a valid regular expression, and the two select different streams.`,
  examples: ['streamId', 'prefix', 'regex', 'jsonPath', 'StreamId', 'json_path'],
})

export const filterExpressionSetting = textSetting({
  key: keys.filterExpression,
  group: 'subscription',
  description:
    `The filter itself, read as \`${keys.filterType}\` says: an exact stream id (\`streamId\`), comma-separated prefixes ` +
    `(\`prefix\`), a regular expression (\`regex\`) or a JSONPath query (\`jsonPath\`). Required when a filter type is set.`,
  examples: ['example-stream', 'LoanRequest', '^orders-.*', '$[?@.amount > 100]'],
  acceptedValues: 'depends on the filter type',
})

export const initialPositionSetting = enumSetting({
  key: keys.initialPosition,
  group: 'subscription',
  values: {
    latest: 'Start at the end: only events appended after the connector first starts are sent.',
    earliest: 'Start at the beginning of the database (of the stream, for a `streamId` filter).',
  },
  defaultValue: 'latest',
  description:
    'Where a connector that has no checkpoint starts reading. Not used once a checkpoint exists, nor when the ' +
    'connector is started or reset at an explicit position.',
  examples: ['earliest', 'Latest'],
})

export const autocommitEnabledSetting = booleanSetting({
  key: keys.autocommitEnabled,
  group: 'checkpoints',
  defaultValue: true,
  description:
    `Commit checkpoints automatically, every \`${keys.autocommitInterval}\` and every \`${keys.autocommitRecordsThreshold}\` ` +
    'records. A checkpoint is the position of the last event Kafka confirmed; after a restart the connector resumes ' +
    'after it, so the fewer checkpoints, the more events are sent again after a restart.',
  examples: ['true', false],
})

export const autocommitIntervalSetting = durationSetting({
  key: keys.autocommitInterval,
  group: 'checkpoints',
  defaultMilliseconds: 5000,
  minimumMilliseconds: 1,
  defaultSpelling: 'milliseconds',
  description: 'The longest time between two checkpoint commits. Milliseconds (`5000`) or a TimeSpan (`00:00:05`).',
  examples: ['5000', 5000, '00:00:05'],
})

export const autocommitRecordsThresholdSetting = integerSetting({
  key: keys.autocommitRecordsThreshold,
  group: 'checkpoints',
  defaultValue: 1000,
  minimum: 1,
  maximum: 2_147_483_647,
  description:
    'Commit a checkpoint once this many records have been confirmed since the last one. With a server-side filter it ' +
    'is also how often KurrentDB reports progress through events the filter skips, so checkpoints move on even when ' +
    'few events match.',
  examples: ['1000', 500],
})

export const headersIgnoreSystemSetting = booleanSetting({
  key: keys.headersIgnoreSystem,
  group: 'headersAndLogging',
  defaultValue: true,
  description:
    'Leave event metadata entries whose names start with `$` (KurrentDB system metadata such as `$schema.name`) out of ' +
    'the Kafka message headers. Set to false to include them.',
  examples: ['true', 'false'],
})

export const loggingEnabledSetting = booleanSetting({
  key: keys.loggingEnabled,
  group: 'headersAndLogging',
  defaultValue: true,
  description:
    "Write the connector's own log lines (starts, stops, retries, checkpoints). An error that stops the connector is " +
    'recorded in its state either way.',
  examples: ['true', false],
})

/** The subscription part of the parsed settings. */
export const subscriptionSchema = Type.Object(
  {
    filter: Type.Object(
      {
        scope: filterScopeSetting.schema,
        filterType: filterTypeSetting.schema,
        expression: Type.Optional(filterExpressionSetting.schema),
      },
      { description: 'Which events are sent to Kafka.' },
    ),
    initialPosition: initialPositionSetting.schema,
  },
  { description: 'What the connector reads from KurrentDB.' },
)

export const autocommitSchema = Type.Object(
  {
    enabled: autocommitEnabledSetting.schema,
    intervalMs: autocommitIntervalSetting.schema,
    recordsThreshold: autocommitRecordsThresholdSetting.schema,
  },
  { description: 'When checkpoints are committed.' },
)

export const commonSettingDefinitions = [
  instanceTypeNameSetting,
  filterScopeSetting,
  filterTypeSetting,
  filterExpressionSetting,
  initialPositionSetting,
  autocommitEnabledSetting,
  autocommitIntervalSetting,
  autocommitRecordsThresholdSetting,
  headersIgnoreSystemSetting,
  loggingEnabledSetting,
] as const

/**
 * A key of a KurrentDB connector feature that kafka-sink does not have. `withChildren` also matches every key below
 * it (`transformer:function`). `harmless` says which values are accepted anyway because they ask for nothing
 * (`transformer:enabled` = false).
 */
export interface UnsupportedSetting {
  readonly key: string
  readonly withChildren: boolean
  readonly reason: string
  readonly harmless?: (raw: unknown) => boolean
}

export const unsupportedCommonSettingKeys = {
  transformer: 'transformer',
  transformerEnabled: 'transformer:enabled',
  firstDelayBound: 'resilience:firstDelayBound',
  secondDelayBound: 'resilience:secondDelayBound',
  thirdDelayBound: 'resilience:thirdDelayBound',
  nodeAffinity: 'subscription:nodeAffinity',
  startPosition: 'subscription:startPosition',
} as const

/** Filled in by the Kafka settings, which own the keys that control kafka-sink's retries. */
export function unsupportedCommonSettings(retryKeys: readonly string[]): readonly UnsupportedSetting[] {
  const unsupported = unsupportedCommonSettingKeys
  const transformerReason =
    `kafka-sink does not support record transformations (${unsupported.transformer}:*): events are produced as they ` +
    'are stored. Remove this key.'
  const delayBounds = [unsupported.firstDelayBound, unsupported.secondDelayBound, unsupported.thirdDelayBound]
  const delayBoundReason =
    `kafka-sink does not use KurrentDB's generic retry delays (${delayBounds.map((key) => `${key}:*`).join(', ')}): ` +
    `its retries are controlled by ${retryKeys.join(', ')}. Remove this key.`
  const isFalse = (raw: unknown): boolean => raw === false || (typeof raw === 'string' && raw.trim().toLowerCase() === 'false')
  return [
    { key: unsupported.transformerEnabled, withChildren: false, reason: transformerReason, harmless: isFalse },
    { key: unsupported.transformer, withChildren: true, reason: transformerReason },
    { key: unsupported.firstDelayBound, withChildren: true, reason: delayBoundReason },
    { key: unsupported.secondDelayBound, withChildren: true, reason: delayBoundReason },
    { key: unsupported.thirdDelayBound, withChildren: true, reason: delayBoundReason },
    {
      key: unsupported.nodeAffinity,
      withChildren: false,
      reason:
        'kafka-sink does not choose a KurrentDB node role through its settings: choose the node with the nodePreference ' +
        'option of the KurrentDB connection string kafka-sink is started with. Remove this key.',
    },
    {
      key: unsupported.startPosition,
      withChildren: false,
      reason:
        'this key is set internally by KurrentDB when a connector is started at a position; to start at a position use ' +
        'POST /connectors/{id}/start/{position} or /reset/{position}. Remove this key.',
    },
  ]
}
