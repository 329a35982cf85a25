/**
 * What one setting is: its flat key, the TypeBox schema of its parsed value (with the user-facing description,
 * default and examples), how a raw value from the settings map becomes that value, and what the docs show.
 * The schema leaves carry their flat key as an annotation, so the parser can walk the settings schema and put each
 * value where the schema says, and the key is written once.
 */
import type { Static, TSchema } from '@sinclair/typebox'

/** JSON Schema annotation on a leaf of the parsed-settings schema naming its flat key. */
export const settingKeyAnnotation = 'x-setting-key'

export type ReadResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string }

export function readOk<T>(value: T): ReadResult<T> {
  return { ok: true, value }
}

/** `problem` completes a sentence that starts with the key, e.g. "must be true or false, got "yes"". */
export function readFailed<T>(problem: string): ReadResult<T> {
  return { ok: false, problem }
}

/** Groups of the settings table, in the order the docs list them. */
export const settingGroups = [
  { id: 'kafka', title: 'Kafka' },
  { id: 'authentication', title: 'Authentication' },
  { id: 'partitioning', title: 'Partitioning' },
  { id: 'resilience', title: 'Resilience' },
  { id: 'miscellaneous', title: 'Miscellaneous' },
  { id: 'subscription', title: 'Subscription' },
  { id: 'checkpoints', title: 'Checkpoints' },
  { id: 'headersAndLogging', title: 'Headers and logging' },
] as const

export type SettingGroup = (typeof settingGroups)[number]['id']

/** One accepted value of an enumerated setting, with what it does. */
export interface AcceptedValue {
  readonly value: string
  readonly description: string
}

/**
 * How a setting whose value may be spread over several flat keys is collected before it is read:
 * `indexedItems` gathers `key:0`, `key:1`… into an array (what flattening a JSON array produces);
 * `namedEntries` gathers `key:<Name>` into an object of strings.
 */
export type SettingCollection = 'indexedItems' | 'namedEntries'

export interface SettingDefinition<S extends TSchema = TSchema> {
  /** The canonical flat key, e.g. `authentication:securityProtocol`. Matched case-insensitively. */
  readonly key: string
  readonly group: SettingGroup
  /** Schema of the parsed value; its `description`, `default` and `examples` are the user documentation. */
  readonly schema: S
  /** Schema of the raw value in the settings map, for the API docs. */
  readonly flatSchema: TSchema
  readonly required: boolean
  /** For a required setting, what to set it to, completing "… is required: ". */
  readonly missingHint: string | undefined
  /** Secret values are replaced by `***` wherever settings are shown or logged. */
  readonly secret: boolean
  /** The parsed value used when the key is absent; undefined leaves an optional setting unset. */
  readonly defaultValue: Static<S> | undefined
  /** The default as a user would write it in the settings map (docs only). */
  readonly flatDefault: string | undefined
  /** Short type name for the docs table, e.g. `boolean`, `duration`. */
  readonly typeName: string
  /** Either a sentence (ranges, formats) or the enumerated values with what each does. */
  readonly acceptedValues: string | readonly AcceptedValue[]
  readonly collection: SettingCollection | undefined
  /** Turns a raw value (a string, or a native JSON value) into the parsed value. Blank values never reach it. */
  readonly read: (raw: unknown) => ReadResult<Static<S>>
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The short text of a raw value for an error message (never used for secret settings). */
export function showRawValue(raw: unknown): string {
  const text = typeof raw === 'string' ? JSON.stringify(raw) : (JSON.stringify(raw) ?? String(raw))
  return text.length > 80 ? `${text.slice(0, 77)}...` : text
}
