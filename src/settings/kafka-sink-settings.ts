/**
 * settings/ owns the connector's settings: the TypeBox schemas that are the single source of truth for their types,
 * defaults, validation and documentation (OpenAPI and the README's settings reference); the one parser of the flat, case-insensitive
 * `a:b:c` settings map (parse-sink-settings.ts); flattening of nested `configuration` bodies; and secrets handling.
 * It uses the keys, defaults and spellings of KurrentDB's Kafka sink connector, and imports nothing else of ours.
 *
 * This file assembles the parsed-settings schema (whose `Static` type is `KafkaSinkSettings`), the ordered list of
 * setting definitions, and the JSON Schema of the flat settings map for the API docs.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox'
import {
  autocommitSchema,
  commonSettingDefinitions,
  commonSettingKeys,
  headersIgnoreSystemSetting,
  instanceTypeNameSetting,
  kafkaSinkInstanceType,
  loggingEnabledSetting,
  subscriptionSchema,
  unsupportedCommonSettings,
  type UnsupportedSetting,
} from './common-sink-settings.ts'
import {
  authenticationSchema,
  bootstrapServersSetting,
  brokerAddressFamilySetting,
  compressionSchema,
  defaultHeadersSetting,
  kafkaSettingKeys,
  partitionKeyExtractionSchema,
  resilienceSchema,
  retrySettingKeys,
  topicSetting,
  unsupportedKafkaSettings,
  waitForBrokerAckSetting,
  securityProtocolSetting,
  saslMechanismSetting,
  usernameSetting,
  passwordSetting,
  partitionKeyEnabledSetting,
  partitionKeySourceSetting,
  partitionKeyExpressionSetting,
  resilienceEnabledSetting,
  maxRetriesSetting,
  transientErrorDelaySetting,
  reconnectBackoffMaxMsSetting,
  messageSendMaxRetriesSetting,
  requestTimeoutMsSetting,
  compressionTypeSetting,
  compressionLevelSetting,
} from './kafka-settings.ts'
import type { SettingDefinition } from './setting-definition.ts'

/** Every flat key, by a name code can refer to (no key is written as a literal outside the definitions). */
export const settingKeys = { ...commonSettingKeys, ...kafkaSettingKeys } as const

/** The parsed settings. Leaves carry their flat key (`x-setting-key`); the parser fills them by walking this schema. */
export const kafkaSinkSettingsSchema = Type.Object(
  {
    instanceTypeName: instanceTypeNameSetting.schema,
    topic: topicSetting.schema,
    bootstrapServers: bootstrapServersSetting.schema,
    defaultHeaders: defaultHeadersSetting.schema,
    authentication: authenticationSchema,
    partitionKeyExtraction: partitionKeyExtractionSchema,
    waitForBrokerAck: waitForBrokerAckSetting.schema,
    resilience: resilienceSchema,
    brokerAddressFamily: brokerAddressFamilySetting.schema,
    compression: compressionSchema,
    subscription: subscriptionSchema,
    autocommit: autocommitSchema,
    headers: Type.Object({ ignoreSystem: headersIgnoreSystemSetting.schema }, { description: 'Which event metadata becomes Kafka headers.' }),
    logging: Type.Object({ enabled: loggingEnabledSetting.schema }, { description: "The connector's own logging." }),
  },
  { description: 'The settings of a kafka-sink connector, parsed, validated and with every default filled in.' },
)

type DeepReadonly<T> = T extends readonly (infer Item)[]
  ? readonly DeepReadonly<Item>[]
  : T extends object
    ? { readonly [Key in keyof T]: DeepReadonly<T[Key]> }
    : T

/** Normalized, fully defaulted and frozen: enum values in canonical lowerCamel spelling, durations in milliseconds. */
export type KafkaSinkSettings = DeepReadonly<Static<typeof kafkaSinkSettingsSchema>>

/** Every setting, in the order of the docs table. */
export const settingDefinitions: readonly SettingDefinition[] = [
  instanceTypeNameSetting,
  topicSetting,
  bootstrapServersSetting,
  defaultHeadersSetting,
  securityProtocolSetting,
  saslMechanismSetting,
  usernameSetting,
  passwordSetting,
  partitionKeyEnabledSetting,
  partitionKeySourceSetting,
  partitionKeyExpressionSetting,
  waitForBrokerAckSetting,
  resilienceEnabledSetting,
  maxRetriesSetting,
  transientErrorDelaySetting,
  reconnectBackoffMaxMsSetting,
  messageSendMaxRetriesSetting,
  requestTimeoutMsSetting,
  brokerAddressFamilySetting,
  compressionTypeSetting,
  compressionLevelSetting,
  ...commonSettingDefinitions.filter((definition) => definition !== instanceTypeNameSetting),
]

/** KurrentDB connector keys that kafka-sink refuses with a reason rather than as typos. */
export const unsupportedSettings: readonly UnsupportedSetting[] = [...unsupportedCommonSettings(retrySettingKeys), ...unsupportedKafkaSettings]

function flatProperties(): Record<string, TSchema> {
  const properties: Record<string, TSchema> = {}
  for (const definition of settingDefinitions) {
    const required = definition.required ? 'Required. ' : ''
    // Keys are matched without letter case, so a JSON-Schema `required` would wrongly refuse `Topic`: say it instead.
    properties[definition.key] = Type.Optional({ ...definition.flatSchema, description: `${required}${definition.flatSchema.description ?? ''}` })
  }
  return properties
}

/**
 * JSON Schema of the flat settings map (`POST /connectors/{id}` `settings`, `PUT …/settings`), for the API docs. Keys
 * are matched case-insensitively and values may be strings or native JSON values, so this schema documents rather than
 * validates: `parseSinkSettings` is the validation.
 */
export const flatSettingsJsonSchema = Type.Object(flatProperties(), {
  description:
    'Connector settings as flat `a:b:c` keys (matched without letter case) with string values; JSON booleans and ' +
    'numbers are accepted too. Unknown keys are refused.',
  patternProperties: { [`^${kafkaSettingKeys.defaultHeaders}:.+$`]: Type.String({ description: 'One header added to every Kafka message.' }) },
  examples: [
    {
      [settingKeys.instanceTypeName]: kafkaSinkInstanceType,
      [settingKeys.topic]: 'customers',
      [settingKeys.bootstrapServers]: 'localhost:9092',
      [settingKeys.filterScope]: 'stream',
      [settingKeys.filterType]: 'streamId',
      [settingKeys.filterExpression]: 'example-stream',
    },
  ],
})
