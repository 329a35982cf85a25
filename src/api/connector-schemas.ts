/**
 * The TypeBox models of the connector routes: path parameters, bodies, query and responses. They are the only
 * declaration of these shapes: Elysia validates with them, handlers get their types from them (`Static`), and the
 * OpenAPI document is generated from them. Field names and JSON shapes are those of KurrentDB's connectors API.
 *
 * These are plain TypeBox schemas rather than Elysia's `t`: `t.Integer`/`t.Boolean` turn into string-or-number
 * unions with coercion, which hides the field name in validation errors and clutters the OpenAPI document.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { connectorStateNames, type ConnectorStateName } from '../connectors/connector-service.ts'
import { connectorIdMaxLength, connectorIdMinLength, connectorIdPattern, connectorNameMaxLength, connectorNameMinLength } from '../connectors/connector-identity.ts'
import { flatSettingsJsonSchema } from '../settings/kafka-sink-settings.ts'

/**
 * Annotation naming a schema as a reusable component of the OpenAPI document (`#/components/schemas/<name>`). Plain
 * JSON Schema keywords survive Elysia's and TypeBox's copies of a schema, where object identity does not.
 */
export const componentAnnotation = 'x-component'

/** KurrentDB's text for a bad name (create with a name, rename). */
export const connectorNameMessage = `name must be between ${connectorNameMinLength} and ${connectorNameMaxLength} characters long`

export const ConnectorIdParameter = Type.String({
  minLength: connectorIdMinLength,
  maxLength: connectorIdMaxLength,
  pattern: connectorIdPattern,
  description: `The connector id: ${connectorIdMinLength}–${connectorIdMaxLength} letters, digits, \`-\` or \`_\`. It names the connector's streams in KurrentDB and never changes.`,
  examples: ['orders-to-kafka'],
})

const uint64Max = 2n ** 64n - 1n

export const positionMessage = `Position must be a log position: a whole number from 0 to ${uint64Max}`

export const LogPositionParameter = Type.String({
  pattern: '^[0-9]{1,20}$',
  description:
    'A commit position in `$all` (an unsigned 64-bit integer). The connector delivers the events after it. For a ' +
    '`streamId` filter the position is converted to a revision of that stream.',
  examples: ['16829'],
})

export const ConnectorParams = Type.Object({ id: ConnectorIdParameter })
export const ConnectorPositionParams = Type.Object({ id: ConnectorIdParameter, position: LogPositionParameter })

/** The position as a bigint, or undefined when it exceeds uint64 (the pattern has already checked the digits). */
export function readLogPosition(text: string): bigint | undefined {
  if (!/^[0-9]{1,20}$/.test(text)) return undefined
  const position = BigInt(text)
  return position <= uint64Max ? position : undefined
}

/**
 * A flat settings map as the user sends it. Values may be strings or native JSON values (the user docs mix
 * `"true"` and `true`); the settings parser validates and converts them, with a message per key, so this schema
 * only requires an object. The OpenAPI document shows `flatSettingsJsonSchema` in its place (see `documentedComponents`).
 */
export const RawSettingsMap = Type.Record(Type.String(), Type.Unknown(), {
  [componentAnnotation]: 'FlatSettings',
  description: 'Connector settings as flat `a:b:c` keys.',
  error: 'The settings must be a JSON object of flat `a:b:c` keys to values, e.g. {"instanceTypeName": "kafka-sink", "topic": "customers"}',
})

/** Settings as the API shows them: every value a string, secrets as `***`. */
export const StoredSettingsMap = Type.Record(Type.String(), Type.String(), {
  [componentAnnotation]: 'FlatSettings',
  description: 'Connector settings as flat `a:b:c` keys; secrets show as `***`.',
})

const configurationDescription =
  'The settings as one nested JSON object, e.g. `{"subscription": {"filter": {"scope": "stream"}}}` for ' +
  '`subscription:filter:scope`. Arrays become `key:0`, `key:1`…; booleans and numbers become strings.'

const nestedConfiguration = (description: string) =>
  Type.Record(Type.String(), Type.Unknown(), {
    [componentAnnotation]: 'Configuration',
    description,
    examples: [{ instanceTypeName: 'kafka-sink', topic: 'customers', subscription: { filter: { scope: 'stream', filterType: 'streamId', expression: 'example-stream' } } }],
    error: 'The configuration must be a JSON object, e.g. {"instanceTypeName": "kafka-sink", "topic": "customers"}',
  })

export const NestedConfiguration = nestedConfiguration(configurationDescription)

/** What the OpenAPI document shows for a component instead of its validation schema. */
export const documentedComponents: Readonly<Record<string, TSchema>> = {
  // The validation schema accepts any object so that the settings parser reports every problem with its own
  // message; the document shows every key, its type, default and description.
  FlatSettings: flatSettingsJsonSchema,
}

const connectorName = (description: string) =>
  Type.String({
    minLength: connectorNameMinLength,
    maxLength: connectorNameMaxLength,
    description: `A display name, ${connectorNameMinLength}–${connectorNameMaxLength} characters. ${description}`.trim(),
    examples: ['Orders to Kafka'],
    error: connectorNameMessage,
  })

export const CreateConnectorBody = Type.Object(
  {
    // Blank is allowed here (KurrentDB then uses the id); the service checks the length of a name that is not blank.
    name: Type.Optional(
      Type.String({
        maxLength: connectorNameMaxLength,
        description: `A display name, ${connectorNameMinLength}–${connectorNameMaxLength} characters; missing or blank means the connector id.`,
        examples: ['Orders to Kafka'],
        error: connectorNameMessage,
      }),
    ),
    settings: Type.Optional(RawSettingsMap),
    configuration: Type.Optional(nestedConfiguration(`Used instead of \`settings\` when it has at least one field. ${configurationDescription}`)),
  },
  {
    additionalProperties: false,
    description: 'A new connector. Give its settings either as the flat `settings` map or as the nested `configuration` object.',
    error: 'The body must be a JSON object with the optional fields name, settings (flat `a:b:c` keys) and configuration (a nested object); settings go inside "settings"',
    examples: [
      {
        name: 'Orders to Kafka',
        settings: {
          instanceTypeName: 'kafka-sink',
          topic: 'customers',
          bootstrapServers: 'localhost:9092',
          'subscription:filter:scope': 'stream',
          'subscription:filter:filterType': 'streamId',
          'subscription:filter:expression': 'example-stream',
        },
      },
    ],
  },
)

export const RenameConnectorBody = Type.Object(
  { name: connectorName('') },
  { additionalProperties: false, description: 'The new display name.', error: `The body must be {"name": "…"}: ${connectorNameMessage}` },
)

const repeatable = (description: string, examples: string[]) => Type.Optional(Type.Array(Type.String(), { description, examples: [examples] }))
const flag = (description: string) => Type.Optional(Type.String({ description: `${description} \`true\` or \`false\` (default \`false\`).`, enum: ['true', 'false'] }))
const wholeNumber = (description: string) => Type.Optional(Type.String({ description, examples: ['1'] }))

/**
 * `GET /connectors` query parameters, as they arrive: strings, or arrays for repeatable ones. `readListQuery` checks
 * and converts them, with KurrentDB's messages (Elysia's coercion would lose the field name on failure).
 */
export const ListConnectorsQuery = Type.Object({
  state: repeatable(`Only connectors in these states (repeat the parameter or separate with commas): ${connectorStateNames.join(', ')}.`, ['CONNECTOR_STATE_RUNNING']),
  instanceTypeName: repeatable('Only connectors of these types (exact match).', ['kafka-sink']),
  connectorId: repeatable('Only these connectors.', ['orders-to-kafka']),
  includeSettings: flag('Include each connector\'s settings (secrets show as `***`).'),
  includeConfiguration: flag('Include each connector\'s settings as a nested `configuration` object instead of `settings`.'),
  showDeleted: flag('Include deleted connectors.'),
  page: wholeNumber('Page number, from 1 (default 1). KurrentDB\'s documented name; `paging.page` wins when both are given.'),
  pageSize: wholeNumber('Connectors per page, 1–100 (default 100). `paging.pageSize` wins when both are given.'),
  'paging.page': wholeNumber('Page number, from 1 (default 1): the name KurrentDB\'s API binds.'),
  'paging.pageSize': wholeNumber('Connectors per page, 1–100 (default 100): the name KurrentDB\'s API binds.'),
})

export type ListConnectorsQueryInput = Static<typeof ListConnectorsQuery>

export const EmptyResponse = Type.Object({}, { additionalProperties: false, description: 'Done.' })

const Timestamp = (description: string) => Type.String({ format: 'date-time', description })

// A string schema with `enum` rather than a union of literals: Elysia cannot infer the static type of a union built
// from an array, and `enum` is also the clearer OpenAPI form. The values come from the service, so the narrower
// check a union would add is not needed.
const ConnectorState = Type.Unsafe<ConnectorStateName>(
  Type.String({ enum: [...connectorStateNames], description: 'The lifecycle state. A failed connector is STOPPED with `errorDetails`.' }),
)

export const ConnectorSchema = Type.Object(
  {
    connectorId: Type.String(),
    instanceTypeName: Type.String({ examples: ['kafka-sink'] }),
    name: Type.String(),
    state: ConnectorState,
    stateUpdateTime: Timestamp('When the state last changed.'),
    settings: Type.Optional(StoredSettingsMap),
    settingsUpdateTime: Type.Optional(Timestamp('When the settings last changed (left out with `includeConfiguration`).')),
    configuration: Type.Optional(NestedConfiguration),
    configurationUpdateTime: Type.Optional(Timestamp('When the settings last changed (only with `includeConfiguration`).')),
    position: Type.Optional(Type.String({ pattern: '^[0-9]+$', description: 'Commit position of the last checkpoint, as a decimal string (uint64); absent before the first.' })),
    createTime: Timestamp('When the connector was created.'),
    updateTime: Timestamp('When anything about the connector last changed.'),
    deleteTime: Type.Optional(Timestamp('When the connector was deleted (only with `showDeleted`).')),
    errorDetails: Type.Optional(
      Type.Object(
        { code: Type.String({ description: 'The kind of failure.' }), message: Type.String() },
        { additionalProperties: false, description: 'Why the connector stopped on its own; cleared when it runs or is stopped.' },
      ),
    ),
    stalled: Type.Optional(
      Type.Object(
        {
          since: Timestamp('When the confirmed position last moved (or events arrived at an idle connector).'),
          lastError: Type.Optional(Type.String({ description: 'The latest delivery error retried since then.' })),
        },
        {
          additionalProperties: false,
          description:
            'Present while the connector has events to deliver and its confirmed position has not moved for the stall time (`--stall-after`). Not in KurrentDB\'s API; its clients ignore unknown fields.',
        },
      ),
    ),
    ownerInstanceId: Type.Optional(
      Type.String({
        description:
          'The kafka-sink instance whose lease covers the connector now (`--instance-id`); absent while no instance holds it. Not in KurrentDB\'s API: its clients ignore it.',
      }),
    ),
  },
  { additionalProperties: false, [componentAnnotation]: 'Connector', description: 'One connector.' },
)

export const ListConnectorsResponse = Type.Object(
  {
    items: Type.Array(ConnectorSchema),
    totalSize: Type.Integer({ minimum: 0, description: 'How many connectors match the filters, over all pages.' }),
  },
  { additionalProperties: false },
)

export const SettingsResponse = Type.Object(
  { settings: StoredSettingsMap, settingsUpdateTime: Timestamp('When the settings last changed.') },
  { additionalProperties: false },
)

export const ConfigurationResponse = Type.Object(
  { configuration: NestedConfiguration, configurationUpdateTime: Timestamp('When the settings last changed.') },
  { additionalProperties: false },
)

export type CreateConnectorRequest = Static<typeof CreateConnectorBody>
export type ListConnectorsResult = Static<typeof ListConnectorsResponse>
