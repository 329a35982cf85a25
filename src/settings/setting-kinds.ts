/**
 * Builders for each kind of setting (boolean, integer, duration, enum, text, literal, broker list, header map). Each
 * builder declares a setting once: the typed schema of its parsed value, the schema of its raw value for the API
 * docs, the reader, and the docs columns, all from the same options. Values arrive as strings (the settings map is
 * `map<string, string>` in KurrentDB's API) or as native JSON values; both are read the same way.
 */
import {
  Type,
  type Static,
  type TArray,
  type TBoolean,
  type TInteger,
  type TLiteral,
  type TRecord,
  type TSchema,
  type TString,
  type TUnion,
} from '@sinclair/typebox'
import { readBrokerAddresses } from './broker-addresses.ts'
import { closestValue, joinAlternatives } from './closest-match.ts'
import { describeDuration, durationFormatsText, formatTimeSpan, readDurationMilliseconds } from './durations.ts'
import {
  isPlainObject,
  readFailed,
  readOk,
  settingKeyAnnotation,
  showRawValue,
  type AcceptedValue,
  type ReadResult,
  type SettingCollection,
  type SettingDefinition,
  type SettingGroup,
} from './setting-definition.ts'

interface CommonOptions {
  readonly key: string
  readonly group: SettingGroup
  readonly description: string
  /** Values as a user writes them in the settings map. Each must parse; `defineSetting` checks it at load time. */
  readonly examples: readonly (string | boolean | number)[]
}

interface DefinitionParts<S extends TSchema> {
  readonly options: CommonOptions
  readonly schemaOf: (annotations: Record<string, unknown>) => S
  readonly flatSchemaOf: (annotations: Record<string, unknown>) => TSchema
  readonly read: (raw: unknown) => ReadResult<Static<S>>
  readonly defaultValue: Static<S> | undefined
  readonly flatDefault: string | undefined
  readonly typeName: string
  readonly acceptedValues: string | readonly AcceptedValue[]
  readonly required?: boolean
  readonly missingHint?: string
  readonly secret?: boolean
  readonly collection?: SettingCollection
}

function defineSetting<S extends TSchema>(parts: DefinitionParts<S>): SettingDefinition<S> {
  const { options } = parts
  // The examples double as documentation of accepted spellings, so one that does not parse is a bug in this folder:
  // fail at load time rather than show users an example that kafka-sink rejects.
  const parsedExamples = options.examples.map((example) => {
    const result = parts.read(example)
    if (!result.ok) throw new Error(`example ${showRawValue(example)} of setting ${options.key} does not parse: ${result.problem}`)
    return result.value
  })
  const withDefault = (value: unknown): Record<string, unknown> => (value === undefined ? {} : { default: value })
  return {
    key: options.key,
    group: options.group,
    schema: parts.schemaOf({
      description: options.description,
      ...withDefault(parts.defaultValue),
      examples: parsedExamples,
      [settingKeyAnnotation]: options.key,
    }),
    flatSchema: parts.flatSchemaOf({
      description: options.description,
      ...withDefault(parts.flatDefault),
      examples: [...options.examples],
    }),
    required: parts.required ?? false,
    missingHint: parts.missingHint,
    secret: parts.secret ?? false,
    defaultValue: parts.defaultValue,
    flatDefault: parts.flatDefault,
    typeName: parts.typeName,
    acceptedValues: parts.acceptedValues,
    collection: parts.collection,
    read: parts.read,
  }
}

function readBoolean(raw: unknown): ReadResult<boolean> {
  if (typeof raw === 'boolean') return readOk(raw)
  if (typeof raw === 'string') {
    const text = raw.trim().toLowerCase()
    if (text === 'true') return readOk(true)
    if (text === 'false') return readOk(false)
  }
  return readFailed(`must be true or false, got ${showRawValue(raw)}`)
}

export function booleanSetting(options: CommonOptions & { readonly defaultValue: boolean }): SettingDefinition<TBoolean> {
  return defineSetting({
    options,
    schemaOf: (annotations) => Type.Boolean(annotations),
    flatSchemaOf: (annotations) => Type.Union([Type.String(), Type.Boolean()], annotations),
    read: readBoolean,
    defaultValue: options.defaultValue,
    flatDefault: String(options.defaultValue),
    typeName: 'boolean',
    acceptedValues: '`true` or `false` (any letter case)',
  })
}

const integerPattern = /^[+-]?\d+$/

function readInteger(raw: unknown, minimum: number, maximum: number): ReadResult<number> {
  const range = `a whole number from ${minimum} to ${maximum}`
  let value: number
  if (typeof raw === 'number') value = raw
  else if (typeof raw === 'string' && integerPattern.test(raw.trim())) value = Number(raw.trim())
  else return readFailed(`must be ${range}, got ${showRawValue(raw)}`)
  if (!Number.isInteger(value) || value < minimum || value > maximum) return readFailed(`must be ${range}, got ${showRawValue(raw)}`)
  return readOk(value)
}

export function integerSetting(
  options: CommonOptions & { readonly defaultValue: number; readonly minimum: number; readonly maximum: number },
): SettingDefinition<TInteger> {
  const { minimum, maximum } = options
  return defineSetting({
    options,
    schemaOf: (annotations) => Type.Integer({ ...annotations, minimum, maximum }),
    flatSchemaOf: (annotations) => Type.Union([Type.String(), Type.Integer({ minimum, maximum })], annotations),
    read: (raw) => readInteger(raw, minimum, maximum),
    defaultValue: options.defaultValue,
    flatDefault: String(options.defaultValue),
    typeName: 'integer',
    acceptedValues: `${minimum} to ${maximum}`,
  })
}

/** Longest delay a JavaScript timer honours: larger values fire at once, so no duration setting may exceed it. */
export const maximumTimerDelayMilliseconds = 2_147_483_647

export function durationSetting(
  options: CommonOptions & {
    readonly defaultMilliseconds: number
    readonly minimumMilliseconds: number
    /** How the default is written in the docs: as KurrentDB documents it for this key. */
    readonly defaultSpelling: 'timeSpan' | 'milliseconds'
  },
): SettingDefinition<TInteger> {
  const minimum = options.minimumMilliseconds
  const maximum = maximumTimerDelayMilliseconds
  const read = (raw: unknown): ReadResult<number> => {
    const result = readDurationMilliseconds(raw)
    if (!result.ok) return result
    if (result.value < minimum || result.value > maximum) {
      return readFailed(`must be from ${describeDuration(minimum)} to ${describeDuration(maximum)}, got ${showRawValue(raw)}`)
    }
    return result
  }
  return defineSetting({
    options,
    schemaOf: (annotations) => Type.Integer({ ...annotations, minimum, maximum }),
    flatSchemaOf: (annotations) => Type.Union([Type.String(), Type.Integer({ minimum, maximum })], annotations),
    read,
    defaultValue: options.defaultMilliseconds,
    flatDefault: options.defaultSpelling === 'timeSpan' ? formatTimeSpan(options.defaultMilliseconds) : String(options.defaultMilliseconds),
    typeName: 'duration',
    acceptedValues: `${durationFormatsText}; from ${describeDuration(minimum)} to ${describeDuration(maximum)}`,
  })
}

/**
 * Enum spellings differ between KurrentDB's docs (`SaslSsl`), its JSON (`saslSsl`) and Kafka's own names
 * (`SASL_SSL`, `SCRAM-SHA-256`); comparing without case and separators accepts all of them.
 */
export function normalizeEnumSpelling(value: string): string {
  return value.trim().toLowerCase().replace(/[-_.\s]/g, '')
}

/**
 * A JSON-Schema pattern that accepts exactly the spellings `normalizeEnumSpelling` maps to one of `values`: each
 * letter in either case, separators anywhere. A JSON-Schema `enum` would list only the canonical spellings, so a
 * client generated from the document would refuse `SaslSsl`, which the sink and KurrentDB's docs use.
 */
export function enumSpellingPattern(values: readonly string[]): string {
  const separators = '[-_.\\s]*'
  const letters = (value: string) =>
    [...value.toLowerCase()].map((char) => (/[a-z]/.test(char) ? `[${char}${char.toUpperCase()}]` : char.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join(separators)
  return `^${separators}(?:${values.map(letters).join('|')})${separators}$`
}

function caseInsensitivePattern(spellings: readonly string[]): string {
  const letters = (value: string) => [...value].map((char) => (/[a-zA-Z]/.test(char) ? `[${char.toLowerCase()}${char.toUpperCase()}]` : char.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('')
  return `^\\s*(?:${spellings.map(letters).join('|')})\\s*$`
}

export const enumSpellingNote = 'any letter case, with or without `_` or `-` (`SaslSsl`, `saslSsl` and `SASL_SSL` are the same value)'

export type TEnum<V extends string> = TUnion<TLiteral<V>[]>

export function enumSetting<const V extends string>(
  options: CommonOptions & { readonly values: Readonly<Record<V, string>>; readonly defaultValue: NoInfer<V> },
): SettingDefinition<TEnum<V>> {
  // Object.keys loses the key type; the keys are exactly V by construction of `values`.
  const values = Object.keys(options.values) as V[]
  const read = (raw: unknown): ReadResult<V> => {
    if (typeof raw === 'string') {
      const wanted = normalizeEnumSpelling(raw)
      const match = values.find((value) => normalizeEnumSpelling(value) === wanted)
      if (match !== undefined) return readOk(match)
      const suggestion = closestValue(raw, values, normalizeEnumSpelling)
      const hint = suggestion === undefined ? '' : ` (did you mean ${suggestion}?)`
      return readFailed(`must be ${joinAlternatives(values)}, got ${showRawValue(raw)}${hint}`)
    }
    return readFailed(`must be ${joinAlternatives(values)}, got ${showRawValue(raw)}`)
  }
  return defineSetting<TEnum<V>>({
    options,
    schemaOf: (annotations) => Type.Union(values.map((value) => Type.Literal(value, { description: options.values[value] })), annotations),
    // A string whose pattern accepts every accepted spelling; the canonical values and their meaning are listed in
    // `x-enumDescriptions` (an `enum` would refuse the other spellings, see enumSpellingPattern).
    flatSchemaOf: (annotations) => Type.String({ ...annotations, pattern: enumSpellingPattern(values), 'x-enumDescriptions': options.values }),
    read,
    defaultValue: options.defaultValue,
    flatDefault: options.defaultValue,
    typeName: 'enum',
    acceptedValues: values.map((value) => ({ value, description: options.values[value] })),
  })
}

function readText(raw: unknown): ReadResult<string> {
  if (typeof raw === 'string') return readOk(raw)
  // A nested `configuration` turns numbers and booleans into text too, so a native number is not a mistake.
  if (typeof raw === 'number' || typeof raw === 'boolean') return readOk(String(raw))
  // Never echo the value: this reader also serves secrets.
  return readFailed(`must be a text value, got a JSON ${Array.isArray(raw) ? 'array' : raw === null ? 'null' : 'object'}`)
}

export function textSetting(
  options: CommonOptions & {
    readonly required?: boolean
    readonly missingHint?: string
    readonly secret?: boolean
    /** Extra JSON Schema keywords of the value (docs), e.g. `pattern`. */
    readonly constraints?: { readonly minLength?: number; readonly maxLength?: number; readonly pattern?: string }
    /** Returns a problem (a sentence completion) when the value is unusable. */
    readonly check?: (value: string) => string | undefined
    readonly acceptedValues?: string
  },
): SettingDefinition<TString> {
  const read = (raw: unknown): ReadResult<string> => {
    const text = readText(raw)
    if (!text.ok) return text
    const problem = options.check?.(text.value)
    return problem === undefined ? text : readFailed(problem)
  }
  return defineSetting({
    options,
    schemaOf: (annotations) => Type.String({ ...annotations, ...options.constraints }),
    flatSchemaOf: (annotations) => Type.String({ ...annotations, ...options.constraints, ...(options.secret ? { 'x-secret': true } : {}) }),
    read,
    defaultValue: undefined,
    flatDefault: undefined,
    typeName: 'string',
    acceptedValues: options.acceptedValues ?? 'text',
    required: options.required ?? false,
    missingHint: options.missingHint,
    secret: options.secret ?? false,
  })
}

/** A setting with exactly one parsed value and a few accepted spellings (`instanceTypeName`). */
export function literalSetting<const V extends string>(
  options: CommonOptions & { readonly value: V; readonly aliases: readonly string[]; readonly mismatch: (raw: unknown) => string },
): SettingDefinition<TLiteral<V>> {
  const spellings = [options.value, ...options.aliases].map((spelling) => spelling.toLowerCase())
  const read = (raw: unknown): ReadResult<V> =>
    typeof raw === 'string' && spellings.includes(raw.trim().toLowerCase()) ? readOk(options.value) : readFailed(options.mismatch(raw))
  return defineSetting({
    options,
    schemaOf: (annotations) => Type.Literal(options.value, annotations),
    // Any letter case, spaces around: what `read` accepts.
    flatSchemaOf: (annotations) => Type.String({ ...annotations, pattern: caseInsensitivePattern([options.value, ...options.aliases]) }),
    read,
    defaultValue: undefined,
    flatDefault: undefined,
    typeName: 'string',
    acceptedValues: [options.value, ...options.aliases].map((value) => `\`${value}\``).join(', '),
    required: true,
    missingHint: `set it to ${options.value}`,
  })
}

export function brokerListSetting(
  options: CommonOptions & { readonly defaultValue: readonly string[]; readonly schemeHint: string },
): SettingDefinition<TArray<TString>> {
  return defineSetting({
    options,
    schemaOf: (annotations) => Type.Array(Type.String(), { ...annotations, minItems: 1 }),
    flatSchemaOf: (annotations) => Type.String(annotations),
    read: (raw) => readBrokerAddresses(raw, options.schemeHint),
    defaultValue: [...options.defaultValue],
    flatDefault: options.defaultValue.join(','),
    typeName: 'string (list)',
    acceptedValues: 'comma-separated `host:port` (port defaults to 9092; IPv6 as `[address]:port`)',
    collection: 'indexedItems',
  })
}


function readHeaderMap(raw: unknown): ReadResult<Record<string, string>> {
  const expected = 'must be a JSON object of header names to text values, e.g. {"X-Tenant-Id":"production"}'
  let parsed: unknown = raw
  if (typeof raw === 'string') {
    try {
      parsed = JSON.parse(raw)
    } catch {
      return readFailed(`${expected}, got ${showRawValue(raw)}`)
    }
  }
  if (!isPlainObject(parsed)) return readFailed(`${expected}, got ${showRawValue(raw)}`)
  const headers: Record<string, string> = {}
  const seen = new Map<string, string>()
  for (const [name, value] of Object.entries(parsed)) {
    if (name.trim() === '') return readFailed('has a header with an empty name')
    // esdb-* headers carry the record's identity and position (esdb-record-id, …), which consumers deduplicate and
    // order on; a default header of that name would replace them on every record.
    if (name.trim().toLowerCase().startsWith('esdb-')) {
      return readFailed(`sets header ${showRawValue(name)}: names starting with esdb- are the record's own identity headers, which consumers deduplicate on; choose another name`)
    }
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      return readFailed(`has header ${showRawValue(name)} whose value is not text, got ${showRawValue(value)}`)
    }
    // Setting keys are case-insensitive, so `X-Id` and `x-id` would be one key once flattened: refuse the ambiguity.
    const previous = seen.get(name.toLowerCase())
    if (previous !== undefined) return readFailed(`sets header ${showRawValue(previous)} twice (as ${showRawValue(previous)} and ${showRawValue(name)}); header names are compared without letter case here`)
    seen.set(name.toLowerCase(), name)
    headers[name] = String(value)
  }
  return readOk(headers)
}

export function headerMapSetting(options: CommonOptions): SettingDefinition<TRecord<TString, TString>> {
  return defineSetting({
    options,
    schemaOf: (annotations) => Type.Record(Type.String({ minLength: 1 }), Type.String(), annotations),
    flatSchemaOf: (annotations) => Type.String(annotations),
    read: readHeaderMap,
    defaultValue: {},
    flatDefault: undefined,
    typeName: 'map of string',
    acceptedValues: `one \`${options.key}:<Name>\` key per header, or a JSON object of names to values`,
    collection: 'namedEntries',
  })
}
