/**
 * The Kafka sink's own settings, with the keys and defaults of KurrentDB's Kafka sink connector. Numeric bounds are
 * librdkafka's (the client KurrentDB's connector uses), so a number accepted here is one that client accepts too.
 */
import { Type } from '@sinclair/typebox'
import { defaultKafkaPort } from './broker-addresses.ts'
import {
  booleanSetting,
  brokerListSetting,
  durationSetting,
  enumSetting,
  headerMapSetting,
  integerSetting,
  textSetting,
} from './setting-kinds.ts'
import { showRawValue } from './setting-definition.ts'
import type { UnsupportedSetting } from './common-sink-settings.ts'

export const kafkaSettingKeys = {
  topic: 'topic',
  bootstrapServers: 'bootstrapServers',
  defaultHeaders: 'defaultHeaders',
  securityProtocol: 'authentication:securityProtocol',
  saslMechanism: 'authentication:saslMechanism',
  username: 'authentication:username',
  password: 'authentication:password',
  partitionKeyEnabled: 'partitionKeyExtraction:enabled',
  partitionKeySource: 'partitionKeyExtraction:source',
  partitionKeyExpression: 'partitionKeyExtraction:expression',
  waitForBrokerAck: 'waitForBrokerAck',
  resilienceEnabled: 'resilience:enabled',
  maxRetries: 'resilience:maxRetries',
  transientErrorDelay: 'resilience:transientErrorDelay',
  reconnectBackoffMaxMs: 'resilience:reconnectBackoffMaxMs',
  messageSendMaxRetries: 'resilience:messageSendMaxRetries',
  requestTimeoutMs: 'resilience:requestTimeoutMs',
  brokerAddressFamily: 'brokerAddressFamily',
  compressionType: 'compression:type',
  compressionLevel: 'compression:level',
} as const

const keys = kafkaSettingKeys

const int32Maximum = 2_147_483_647

// Kafka's rule for topic names (org.apache.kafka.common.internals.Topic): a broker refuses any other name, and the
// producer would retry that refusal until it gives up.
const topicNamePattern = '^[a-zA-Z0-9._-]+$'
const topicNameMaximumLength = 249

function checkTopicName(topic: string): string | undefined {
  if (topic.length > topicNameMaximumLength || !new RegExp(topicNamePattern).test(topic) || topic === '.' || topic === '..') {
    return `must be a Kafka topic name: 1 to ${topicNameMaximumLength} characters from a-z, A-Z, 0-9, ".", "_" and "-" (not "." or ".."), got ${showRawValue(topic)}`
  }
  return undefined
}

export const topicSetting = textSetting({
  key: keys.topic,
  group: 'kafka',
  required: true,
  missingHint: 'set it to the Kafka topic to produce events to, e.g. customers',
  constraints: { minLength: 1, maxLength: topicNameMaximumLength, pattern: topicNamePattern },
  check: checkTopicName,
  description:
    `The Kafka topic every event is produced to. Up to ${topicNameMaximumLength} characters from a-z, A-Z, 0-9, \`.\`, ` +
    '`_` and `-`. The topic must exist, unless the brokers create topics automatically.',
  examples: ['customers', 'loans'],
  acceptedValues: `a Kafka topic name (1-${topicNameMaximumLength} of \`a-zA-Z0-9._-\`)`,
})

export const bootstrapServersSetting = brokerListSetting({
  key: keys.bootstrapServers,
  group: 'kafka',
  defaultValue: [`localhost:${defaultKafkaPort}`],
  schemeHint: keys.securityProtocol,
  description:
    'The Kafka brokers to connect to first, as comma-separated `host:port` pairs; the client discovers the rest of the ' +
    `cluster from them. The port defaults to ${defaultKafkaPort}; write IPv6 addresses in brackets (\`[::1]:9092\`). ` +
    'In a nested `configuration`, a JSON array of addresses works too.',
  examples: ['localhost:9092', 'broker-1:9092,broker-2:9092', 'pkc-z9doz.eu-west-1.aws.confluent.cloud:9092'],
})

export const defaultHeadersSetting = headerMapSetting({
  key: keys.defaultHeaders,
  group: 'kafka',
  description:
    `Headers added to every Kafka message: one \`${keys.defaultHeaders}:<Name>\` key per header ` +
    `(e.g. \`${keys.defaultHeaders}:X-Tenant-Id\`), or a JSON object of names to values under \`${keys.defaultHeaders}\`; ` +
    'not both. Names starting with `esdb-` are refused: they are the record\'s identity headers. The values are not secret: the API shows them and logs may contain them, so keep credentials out of them.',
  examples: ['{"X-Tenant-Id":"production-tenant"}'],
})

export const securityProtocolSetting = enumSetting({
  key: keys.securityProtocol,
  group: 'authentication',
  values: {
    plaintext: 'No encryption and no authentication.',
    ssl: "TLS encryption, no authentication; the brokers' certificates are checked against the system's trusted CAs.",
    saslPlaintext: `SASL authentication (\`${keys.saslMechanism}\`) over an unencrypted connection.`,
    saslSsl:
      "SASL authentication over TLS; the brokers' certificates are checked against the system's trusted CAs. " +
      'This is what Confluent Cloud, Amazon MSK and Azure Event Hubs use.',
  },
  defaultValue: 'plaintext',
  description:
    `How kafka-sink connects to the brokers. The SASL protocols need \`${keys.username}\` and \`${keys.password}\`. ` +
    "There is no setting for a private CA: add it to the system's trusted certificates.",
  examples: ['SaslSsl', 'saslSsl', 'SASL_SSL', 'Plaintext'],
})

export const saslMechanismSetting = enumSetting({
  key: keys.saslMechanism,
  group: 'authentication',
  values: {
    plain: 'SASL/PLAIN: the password is sent as it is, so use it with `saslSsl`.',
    scramSha256: 'SASL/SCRAM-SHA-256: the password is never sent.',
    scramSha512: 'SASL/SCRAM-SHA-512: the password is never sent.',
  },
  defaultValue: 'plain',
  description: `The SASL mechanism used with the \`saslPlaintext\` and \`saslSsl\` protocols of \`${keys.securityProtocol}\`.`,
  examples: ['Plain', 'ScramSha512', 'SCRAM-SHA-256'],
})

export const usernameSetting = textSetting({
  key: keys.username,
  group: 'authentication',
  description:
    `SASL username. Required with the SASL protocols of \`${keys.securityProtocol}\`, and refused with the others ` +
    '(it would not be used). For Confluent Cloud, the API key.',
  examples: ['your-username'],
})

export const passwordSetting = textSetting({
  key: keys.password,
  group: 'authentication',
  secret: true,
  description:
    `SASL password. Required with the SASL protocols of \`${keys.securityProtocol}\`, and refused with the others. ` +
    'Secret: the API shows it as `***` and it never appears in logs. For Confluent Cloud, the API secret.',
  examples: ['your-password'],
})

export const partitionKeyEnabledSetting = booleanSetting({
  key: keys.partitionKeyEnabled,
  group: 'partitioning',
  defaultValue: false,
  description:
    `Build each message's key from \`${keys.partitionKeySource}\`. Kafka sends messages with the same key to the same ` +
    'partition, which keeps their order. When false, every message is keyed by the record\'s partition key, so setting a ' +
    'source or an expression without turning this on is refused (they would be ignored).',
  examples: ['true', true, 'false'],
})

export const partitionKeySourceSetting = enumSetting({
  key: keys.partitionKeySource,
  group: 'partitioning',
  values: {
    partitionKey: 'The partition key of the KurrentDB record, which is its stream id: all events of a stream land on one partition, in order.',
    stream:
      `The stream id, or the part of it that \`${keys.partitionKeyExpression}\` (a regular expression, optional) ` +
      'captures: its first capture group, or the whole match when it has none. `^(.*)_data$` keys `orders_data` as `orders`. ' +
      'A stream id the expression does not match is keyed by the whole stream id.',
    streamSuffix:
      'The part of the stream id after its first `-`: `user-123` is keyed `123`, `order-3f2a-77c1` is keyed `3f2a-77c1` ' +
      '(ids are often GUIDs or dates). A stream id without `-` is keyed by the whole stream id.',
    headers:
      `The values of the event metadata fields listed in \`${keys.partitionKeyExpression}\` (comma-separated names), joined ` +
      'with `-`: `key1,key2` keys an event with metadata key1=value1, key2=value2 as `value1-value2`. Missing fields are ' +
      'skipped; when none is present the event is keyed by its stream id.',
  },
  defaultValue: 'partitionKey',
  description: `Where the message key comes from when \`${keys.partitionKeyEnabled}\` is true.`,
  examples: ['stream', 'streamSuffix', 'headers', 'PartitionKey', 'Headers'],
})

export const partitionKeyExpressionSetting = textSetting({
  key: keys.partitionKeyExpression,
  group: 'partitioning',
  description:
    'For the `stream` source, an optional regular expression (RE2 syntax, evaluated in linear time: no lookaround or backreferences) applied to the stream id. For the ' +
    '`headers` source, the comma-separated names of the headers whose values form the key (required). Refused with the ' +
    'other sources, which do not use it.',
  examples: ['^(.*)_data$', 'key1,key2'],
  acceptedValues: 'a regular expression (`stream`) or header names (`headers`)',
})

export const waitForBrokerAckSetting = booleanSetting({
  key: keys.waitForBrokerAck,
  group: 'resilience',
  defaultValue: true,
  description:
    'When true, each batch waits for the brokers\' acknowledgement before the next one is sent: strict per-key order ' +
    'even across failures. When false, several batches are in flight at once: more throughput on distant brokers, but ' +
    'after a failure that outlasts the client\'s own retries a later batch can land before the re-sent earlier one. ' +
    'Either way the producer is idempotent with `acks=all` (Kafka allows idempotence only with `acks=all`), and ' +
    'checkpoints move only past messages Kafka has confirmed.',
  examples: ['true', true, 'false'],
})

export const resilienceEnabledSetting = booleanSetting({
  key: keys.resilienceEnabled,
  group: 'resilience',
  defaultValue: true,
  description:
    `Retry messages that failed with a transient Kafka error (\`${keys.maxRetries}\` times, \`${keys.transientErrorDelay}\` ` +
    'apart). When false, the first such failure stops the connector with an error.',
  examples: [true, 'true', 'false'],
})

export const maxRetriesSetting = integerSetting({
  key: keys.maxRetries,
  group: 'resilience',
  defaultValue: -1,
  minimum: -1,
  maximum: int32Maximum,
  description:
    'How many times kafka-sink retries a message that failed with a transient Kafka error before the connector stops ' +
    'with an error. -1 retries without limit; 0 does not retry.',
  examples: [-1, '-1', '10'],
})

export const transientErrorDelaySetting = durationSetting({
  key: keys.transientErrorDelay,
  group: 'resilience',
  defaultMilliseconds: 0,
  minimumMilliseconds: 0,
  defaultSpelling: 'timeSpan',
  description: 'How long to wait before retrying after a transient Kafka error. A TimeSpan (`00:00:05`) or milliseconds (`5000`).',
  examples: ['00:00:05', '00:00:00.500', '5000'],
})

export const reconnectBackoffMaxMsSetting = integerSetting({
  key: keys.reconnectBackoffMaxMs,
  group: 'resilience',
  defaultValue: 20000,
  minimum: 0,
  maximum: 3_600_000,
  description:
    'The longest wait, in milliseconds, between attempts to reconnect to a broker; the wait doubles from 100 ms up to ' +
    'this value (Kafka client setting `reconnect.backoff.max.ms`).',
  examples: [20000, '20000'],
})

export const messageSendMaxRetriesSetting = integerSetting({
  key: keys.messageSendMaxRetries,
  group: 'resilience',
  defaultValue: int32Maximum,
  minimum: 0,
  maximum: int32Maximum,
  description:
    'How many times the Kafka client itself resends a message that failed before reporting the failure to kafka-sink ' +
    '(Kafka client setting `message.send.max.retries`). The producer is idempotent, so these resends keep the order ' +
    'within a partition and write no duplicates.',
  examples: [2147483647, '5'],
})

export const requestTimeoutMsSetting = integerSetting({
  key: keys.requestTimeoutMs,
  group: 'resilience',
  defaultValue: 3000,
  minimum: 1,
  maximum: 900_000,
  description:
    'How long, in milliseconds, a broker may take to acknowledge a produce request before the client treats it as ' +
    'failed and retries it (Kafka client setting `request.timeout.ms`).',
  examples: [3000, '30000'],
})

export const brokerAddressFamilySetting = enumSetting({
  key: keys.brokerAddressFamily,
  group: 'miscellaneous',
  values: {
    any: 'IPv4 and IPv6.',
    v4: 'IPv4 only.',
    v6: 'IPv6 only.',
  },
  defaultValue: 'v4',
  description: 'Which IP address families broker host names may resolve to.',
  examples: ['V4', 'Any', 'v6'],
})

export const compressionTypeSetting = enumSetting({
  key: keys.compressionType,
  group: 'miscellaneous',
  values: {
    none: 'No compression.',
    gzip: 'gzip: a high ratio, but slow and CPU-heavy.',
    snappy: 'Snappy: fast, a moderate ratio.',
    lz4: 'LZ4: very fast, a moderate ratio.',
    zstd: 'Zstandard: a high ratio at a good speed. Needs Kafka 2.1 or later.',
  },
  defaultValue: 'zstd',
  description: `How message batches are compressed before they are sent. See \`${keys.compressionLevel}\` for the level.`,
  examples: ['Zstd', 'lz4', 'None', 'GZIP'],
})

/**
 * Levels each codec accepts. -1 asks for the codec's own default (`codecDefault`). librdkafka accepts -1 to 12 for
 * every codec and caps gzip at 9; zstd itself goes to 22 but librdkafka's setting stops at 12, so 12 is the limit
 * here too. Snappy and none have no levels: the level is ignored.
 */
export const compressionLevelRanges = {
  none: undefined,
  snappy: undefined,
  gzip: { minimum: -1, maximum: 9, codecDefault: 6 },
  lz4: { minimum: -1, maximum: 12, codecDefault: 0 },
  zstd: { minimum: -1, maximum: 12, codecDefault: 3 },
} as const

export const compressionLevelSetting = integerSetting({
  key: keys.compressionLevel,
  group: 'miscellaneous',
  defaultValue: 6,
  minimum: -1,
  maximum: 12,
  description:
    'Compression level: higher compresses better and costs more CPU. gzip accepts -1 to 9, lz4 and zstd -1 to 12; -1 ' +
    `selects the codec's own default (gzip ${compressionLevelRanges.gzip.codecDefault}, lz4 ` +
    `${compressionLevelRanges.lz4.codecDefault}, zstd ${compressionLevelRanges.zstd.codecDefault}). Ignored with \`none\` and \`snappy\`.`,
  examples: [6, '3', '-1'],
})

export const authenticationSchema = Type.Object(
  {
    securityProtocol: securityProtocolSetting.schema,
    saslMechanism: saslMechanismSetting.schema,
    username: Type.Optional(usernameSetting.schema),
    password: Type.Optional(passwordSetting.schema),
  },
  { description: 'How kafka-sink connects and authenticates to the brokers.' },
)

export const partitionKeyExtractionSchema = Type.Object(
  {
    enabled: partitionKeyEnabledSetting.schema,
    source: partitionKeySourceSetting.schema,
    expression: Type.Optional(partitionKeyExpressionSetting.schema),
  },
  { description: 'How the Kafka message key, and so the partition, is chosen.' },
)

export const resilienceSchema = Type.Object(
  {
    enabled: resilienceEnabledSetting.schema,
    maxRetries: maxRetriesSetting.schema,
    transientErrorDelayMs: transientErrorDelaySetting.schema,
    reconnectBackoffMaxMs: reconnectBackoffMaxMsSetting.schema,
    messageSendMaxRetries: messageSendMaxRetriesSetting.schema,
    requestTimeoutMs: requestTimeoutMsSetting.schema,
  },
  { description: 'How failures to send are retried.' },
)

export const compressionSchema = Type.Object(
  { type: compressionTypeSetting.schema, level: compressionLevelSetting.schema },
  { description: 'How message batches are compressed.' },
)

export const unsupportedKafkaSettingKeys = { headerKey: 'partitionKeyExtraction:headerKey' } as const

export const unsupportedKafkaSettings: readonly UnsupportedSetting[] = [
  {
    key: unsupportedKafkaSettingKeys.headerKey,
    withChildren: false,
    reason:
      `this key of older KurrentDB versions is not supported: set ${keys.partitionKeySource} to headers and ` +
      `${keys.partitionKeyExpression} to the header names. Remove this key.`,
  },
]

/** The keys a user tunes retries with, named when a KurrentDB retry key that kafka-sink lacks is refused. */
export const retrySettingKeys = [keys.maxRetries, keys.transientErrorDelay, keys.messageSendMaxRetries, keys.reconnectBackoffMaxMs] as const
