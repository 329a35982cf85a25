/**
 * The one parser of connector settings: a flat `a:b:c` map (values as strings or native JSON values) in, either the
 * typed, defaulted, frozen settings or every problem at once as field violations. Order of work: match keys
 * (case-insensitively, refusing duplicates, typos and unsupported KurrentDB features), read each value, apply
 * defaults, then check combinations.
 */
import { KindGuard, type Static, type TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { closestKeys, editDistance, joinAlternatives, maximumComparedLength } from './closest-match.ts'
import { checkSettingCombinations, type SettingValues } from './cross-field-rules.ts'
import { kafkaSinkSettingsSchema, settingDefinitions, unsupportedSettings, type KafkaSinkSettings } from './kafka-sink-settings.ts'
import { redactedValue } from './secrets.ts'
import { isPlainObject, settingKeyAnnotation, type SettingDefinition } from './setting-definition.ts'
import type { UnsupportedSetting } from './common-sink-settings.ts'

/** One problem, in the shape of google.rpc.BadRequest.FieldViolation. `field` is the key as the user spelled it. */
export interface FieldViolation {
  readonly field: string
  readonly description: string
}

export type ParseSinkSettingsResult =
  | { readonly ok: true; readonly settings: KafkaSinkSettings }
  | { readonly ok: false; readonly violations: FieldViolation[] }

interface ProvidedValue {
  readonly userKey: string
  readonly raw: unknown
}

interface CollectedItem extends ProvidedValue {
  /** What follows `key:` — an index for list items, a header name for named entries. */
  readonly name: string
}

interface ProvidedSetting {
  plain: ProvidedValue | undefined
  readonly items: CollectedItem[]
}

interface SettingState {
  readonly field: string
  readonly isSet: boolean
  readonly isInvalid: boolean
  value: unknown
}

const definitionsByLoweredKey = new Map(settingDefinitions.map((definition) => [definition.key.toLowerCase(), definition]))
const collectingDefinitions = settingDefinitions.filter((definition) => definition.collection !== undefined)
const knownKeys = settingDefinitions.map((definition) => definition.key)

function isBlank(raw: unknown): boolean {
  return raw === null || raw === undefined || (typeof raw === 'string' && raw.trim() === '')
}

function findUnsupported(loweredKey: string): UnsupportedSetting | undefined {
  return unsupportedSettings.find((unsupported) => {
    const key = unsupported.key.toLowerCase()
    return loweredKey === key || (unsupported.withChildren && loweredKey.startsWith(`${key}:`))
  })
}

/** What the user probably meant: a known key, or a collected key with a misspelled prefix (`defaultHeader:X-Id`). */
function suggestKeys(userKey: string): readonly string[] {
  const colon = userKey.indexOf(':')
  if (colon > 0 && colon <= maximumComparedLength) {
    const prefix = userKey.slice(0, colon).toLowerCase()
    const collecting = collectingDefinitions.find((candidate) => editDistance(prefix, candidate.key.toLowerCase()) <= 2)
    if (collecting) return [`${collecting.key}:${userKey.slice(colon + 1)}`]
  }
  return closestKeys(userKey.trim(), knownKeys)
}

function unknownKeyViolation(userKey: string, raw: unknown): FieldViolation {
  const lowered = userKey.toLowerCase()
  const nestedExample = knownKeys.find((key) => key.toLowerCase().startsWith(`${lowered}:`))
  // A nested object in the flat map is a `configuration` body sent as `settings`: say so rather than "did you mean".
  if (nestedExample !== undefined && isPlainObject(raw)) {
    return {
      field: userKey,
      description:
        `${userKey} holds a nested object, but settings are flat keys: write each value under its own key ` +
        `(e.g. ${nestedExample}), or send the nested object as the connector's configuration instead of its settings`,
    }
  }
  const suggestions = suggestKeys(userKey)
  const hint = suggestions.length === 0 ? '' : ` did you mean ${joinAlternatives(suggestions)}?`
  const shown = userKey.length > maximumComparedLength ? `${userKey.slice(0, maximumComparedLength)}… (${userKey.length} characters)` : userKey
  return {
    field: userKey,
    description: `${shown} is not a kafka-sink setting:${hint} Unknown settings are refused so that a typo never goes unnoticed`,
  }
}

/** Sorts every key into the setting it belongs to; refuses duplicates, unknown and unsupported keys. */
function matchKeys(flat: Readonly<Record<string, unknown>>, violations: FieldViolation[]): Map<SettingDefinition, ProvidedSetting> {
  const provided = new Map<SettingDefinition, ProvidedSetting>()
  const providedFor = (definition: SettingDefinition): ProvidedSetting => {
    const existing = provided.get(definition)
    if (existing) return existing
    const created: ProvidedSetting = { plain: undefined, items: [] }
    provided.set(definition, created)
    return created
  }
  const seen = new Map<string, string>()
  for (const [userKey, raw] of Object.entries(flat)) {
    const lowered = userKey.toLowerCase()
    const earlier = seen.get(lowered)
    if (earlier !== undefined) {
      violations.push({
        field: userKey,
        description: `${userKey} is set twice (as ${earlier} and ${userKey}); setting keys are compared without letter case: keep one`,
      })
      continue
    }
    seen.set(lowered, userKey)
    const definition = definitionsByLoweredKey.get(lowered)
    if (definition) {
      providedFor(definition).plain = { userKey, raw }
      continue
    }
    const collecting = collectingDefinitions.find((candidate) => lowered.startsWith(`${candidate.key.toLowerCase()}:`))
    if (collecting) {
      const name = userKey.slice(collecting.key.length + 1)
      if (collecting.collection === 'indexedItems' && !/^\d+$/.test(name)) {
        violations.push({ field: userKey, description: `${userKey} is not a kafka-sink setting: items of ${collecting.key} are numbered ${collecting.key}:0, ${collecting.key}:1…` })
      } else if (name.trim() === '') {
        violations.push({ field: userKey, description: `${userKey} has no name after the colon: write ${collecting.key}:<Name>` })
      } else {
        providedFor(collecting).items.push({ userKey, raw, name })
      }
      continue
    }
    const unsupported = findUnsupported(lowered)
    if (unsupported) {
      if (!unsupported.harmless?.(raw)) violations.push({ field: userKey, description: `${userKey}: ${unsupported.reason}` })
      continue
    }
    violations.push(unknownKeyViolation(userKey, raw))
  }
  return provided
}

type CombinedRaw =
  | { readonly kind: 'absent'; readonly field: string }
  | { readonly kind: 'invalid'; readonly field: string }
  | { readonly kind: 'given'; readonly field: string; readonly raw: unknown }

/** Joins a setting's keys into one raw value: the plain key's, or the collected items as an array or an object. */
function combineRaw(definition: SettingDefinition, provided: ProvidedSetting | undefined, violations: FieldViolation[]): CombinedRaw {
  const plain = provided?.plain
  const items = provided?.items ?? []
  const field = plain?.userKey ?? definition.key
  if (items.length === 0) return plain === undefined || isBlank(plain.raw) ? { kind: 'absent', field } : { kind: 'given', field, raw: plain.raw }
  if (plain !== undefined && !isBlank(plain.raw)) {
    const form = definition.collection === 'indexedItems' ? `${definition.key}:0, ${definition.key}:1…` : `${definition.key}:<Name>`
    violations.push({ field, description: `${field} and ${form} keys are both set: use one form or the other` })
    return { kind: 'invalid', field }
  }
  const notText = items.filter((item) => typeof item.raw !== 'string' && typeof item.raw !== 'number' && typeof item.raw !== 'boolean')
  for (const item of notText) violations.push({ field: item.userKey, description: `${item.userKey} must be a text value` })
  if (notText.length > 0) return { kind: 'invalid', field }
  if (definition.collection === 'indexedItems') {
    const ordered = [...items].sort((left, right) => Number(left.name) - Number(right.name))
    return { kind: 'given', field, raw: ordered.map((item) => String(item.raw)) }
  }
  return { kind: 'given', field, raw: Object.fromEntries(items.map((item) => [item.name, item.raw])) }
}

/** Reads every setting, or its default; returns the state each rule and the assembly work from. */
function readSettings(provided: Map<SettingDefinition, ProvidedSetting>, violations: FieldViolation[]): Map<SettingDefinition, SettingState> {
  const states = new Map<SettingDefinition, SettingState>()
  for (const definition of settingDefinitions) {
    const combined = combineRaw(definition, provided.get(definition), violations)
    const { field } = combined
    if (combined.kind === 'invalid') {
      // Already reported; count the setting as given but invalid, so the rules that involve it stay silent.
      states.set(definition, { field, isSet: true, isInvalid: true, value: undefined })
      continue
    }
    if (combined.kind === 'absent') {
      if (definition.required) {
        const hint = definition.missingHint === undefined ? '' : `: ${definition.missingHint}`
        violations.push({ field, description: `${definition.key} is required${hint}` })
      }
      states.set(definition, { field, isSet: false, isInvalid: definition.required, value: definition.defaultValue })
      continue
    }
    const result = definition.read(combined.raw)
    if (!result.ok) {
      violations.push({ field, description: `${field} ${result.problem}` })
      states.set(definition, { field, isSet: true, isInvalid: true, value: undefined })
      continue
    }
    if (definition.secret && result.value === redactedValue) {
      violations.push({
        field,
        description: `${field} is ${redactedValue}, the placeholder shown instead of a stored secret: send the real value`,
      })
      states.set(definition, { field, isSet: true, isInvalid: true, value: undefined })
      continue
    }
    states.set(definition, { field, isSet: true, isInvalid: false, value: result.value })
  }
  return states
}

function settingValues(states: Map<SettingDefinition, SettingState>): SettingValues {
  const stateOf = (definition: SettingDefinition): SettingState | undefined => states.get(definition)
  return {
    // Each state's value came from that definition's own reader or default, so it has the definition's static type.
    get: <S extends TSchema>(definition: SettingDefinition<S>) => stateOf(definition)?.value as Static<S> | undefined,
    isSet: (definition) => stateOf(definition)?.isSet ?? false,
    isInvalid: (definition) => stateOf(definition)?.isInvalid ?? false,
    field: (definition) => stateOf(definition)?.field ?? definition.key,
    set: (definition, value) => {
      const state = stateOf(definition)
      if (state) state.value = value
    },
  }
}

/** Builds the parsed object by walking the schema: each annotated leaf takes its setting's value. */
function assemble(schema: TSchema, valuesByKey: ReadonlyMap<string, unknown>): unknown {
  const key: unknown = schema[settingKeyAnnotation]
  if (typeof key === 'string') return valuesByKey.get(key)
  if (!KindGuard.IsObject(schema)) throw new Error(`settings schema has a leaf without ${settingKeyAnnotation}`)
  const assembled: Record<string, unknown> = {}
  for (const [name, property] of Object.entries(schema.properties)) {
    const value = assemble(property, valuesByKey)
    if (value !== undefined) assembled[name] = value
  }
  return assembled
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child)
    Object.freeze(value)
  }
  return value
}

/**
 * Parses a flat settings map. Keys are matched without letter case; values may be strings (`"true"`, `"5000"`,
 * `"00:00:05"`) or native JSON booleans and numbers. Returns every violation at once.
 */
export function parseSinkSettings(flat: Readonly<Record<string, unknown>>): ParseSinkSettingsResult {
  const violations: FieldViolation[] = []
  const provided = matchKeys(flat, violations)
  const states = readSettings(provided, violations)
  violations.push(...checkSettingCombinations(settingValues(states)))
  if (violations.length > 0) return { ok: false, violations }
  const valuesByKey = new Map([...states].map(([definition, state]) => [definition.key, state.value]))
  const assembled = assemble(kafkaSinkSettingsSchema, valuesByKey)
  // Guards the cast-free typing below and catches a definition whose reader disagrees with its schema.
  if (!Value.Check(kafkaSinkSettingsSchema, assembled)) {
    const first = Value.Errors(kafkaSinkSettingsSchema, assembled).First()
    throw new Error(`parsed settings do not match their schema at ${first?.path ?? '?'}: ${first?.message ?? 'unknown error'}`)
  }
  return { ok: true, settings: deepFreeze(assembled) }
}
