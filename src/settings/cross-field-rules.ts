/**
 * Rules across settings, checked before anything connects (a bad combination must fail when the connector is
 * configured, not retry forever once it runs). Each message says how to fix the setting. A rule that involves a
 * setting whose own value was invalid stays silent: that setting already has its violation.
 */
import type { Static, TSchema } from '@sinclair/typebox'
import { joinAlternatives } from './closest-match.ts'
import { filterExpressionSetting, filterScopeSetting, filterTypeSetting } from './common-sink-settings.ts'
import {
  compressionLevelRanges,
  compressionLevelSetting,
  compressionTypeSetting,
  partitionKeyEnabledSetting,
  partitionKeyExpressionSetting,
  partitionKeySourceSetting,
  passwordSetting,
  saslMechanismSetting,
  securityProtocolSetting,
  usernameSetting,
} from './kafka-settings.ts'
import type { FieldViolation } from './parse-sink-settings.ts'
import type { SettingDefinition } from './setting-definition.ts'
import { dotnetRegexProblem } from './dotnet-regex.ts'
import { jsonPathProblems, linearPatternProblem } from './user-patterns.ts'

/** The settings read so far, as the rules see them. */
export interface SettingValues {
  /** The parsed (or default) value; undefined when the value was invalid or the setting is unset with no default. */
  get<S extends TSchema>(definition: SettingDefinition<S>): Static<S> | undefined
  /** Whether the user gave a (non-blank) value, valid or not. */
  isSet(definition: SettingDefinition): boolean
  /** Whether the user gave a value that failed to read. */
  isInvalid(definition: SettingDefinition): boolean
  /** The key as the user spelled it, or the canonical key when absent. */
  field(definition: SettingDefinition): string
  /** Replaces a value: inferred settings and normalized lists. */
  set<S extends TSchema>(definition: SettingDefinition<S>, value: Static<S>): void
}

type Rule = (values: SettingValues) => FieldViolation[]

function violation(field: string, description: string): FieldViolation {
  return { field, description }
}

/** Comma-separated items, trimmed; undefined when one is empty. */
function splitList(expression: string): string[] | undefined {
  const items = expression.split(',').map((item) => item.trim())
  return items.some((item) => item === '') ? undefined : items
}

const checkAuthentication: Rule = (values) => {
  const protocol = values.get(securityProtocolSetting)
  if (protocol === undefined) return []
  const protocolKey = securityProtocolSetting.key
  const violations: FieldViolation[] = []
  if (protocol === 'saslPlaintext' || protocol === 'saslSsl') {
    for (const credential of [usernameSetting, passwordSetting]) {
      if (!values.isSet(credential)) {
        violations.push(
          violation(
            values.field(credential),
            `${credential.key} is required when ${protocolKey} is ${protocol}: set it, or set ${protocolKey} to a protocol without SASL (plaintext or ssl)`,
          ),
        )
      }
    }
    return violations
  }
  // Credentials with a protocol that does not use them mean SASL was intended and the protocol forgotten: the
  // connection would then fail against the broker with an error that does not mention the settings.
  const mechanism = values.get(saslMechanismSetting)
  const unused: SettingDefinition[] = [usernameSetting, passwordSetting].filter((credential) => values.isSet(credential) && !values.isInvalid(credential))
  if (values.isSet(saslMechanismSetting) && mechanism !== undefined && mechanism !== saslMechanismSetting.defaultValue) unused.push(saslMechanismSetting)
  for (const setting of unused) {
    violations.push(
      violation(
        values.field(setting),
        `${values.field(setting)} is set but ${protocolKey} is ${protocol}, which does not use SASL: set ${protocolKey} ` +
          `to saslSsl (or saslPlaintext) to authenticate, or remove ${values.field(setting)}`,
      ),
    )
  }
  return violations
}

const checkPartitionKey: Rule = (values) => {
  const enabled = values.get(partitionKeyEnabledSetting)
  const source = values.get(partitionKeySourceSetting)
  if (enabled === undefined || source === undefined) return []
  const expressionField = values.field(partitionKeyExpressionSetting)
  const expression = values.get(partitionKeyExpressionSetting)
  const enabledKey = partitionKeyEnabledSetting.key
  const sourceKey = partitionKeySourceSetting.key
  if (!enabled) {
    const ignored: FieldViolation[] = []
    if (values.isSet(partitionKeySourceSetting) && source !== partitionKeySourceSetting.defaultValue) {
      ignored.push(
        violation(
          values.field(partitionKeySourceSetting),
          `${values.field(partitionKeySourceSetting)} is ${source} but ${enabledKey} is false, so it would be ignored: set ${enabledKey} to true, or remove ${values.field(partitionKeySourceSetting)}`,
        ),
      )
    }
    if (values.isSet(partitionKeyExpressionSetting)) {
      ignored.push(
        violation(expressionField, `${expressionField} is set but ${enabledKey} is false, so it would be ignored: set ${enabledKey} to true, or remove ${expressionField}`),
      )
    }
    return ignored
  }
  if (values.isInvalid(partitionKeyExpressionSetting)) return []
  switch (source) {
    case 'headers': {
      if (expression === undefined) {
        return [
          violation(
            expressionField,
            `${partitionKeyExpressionSetting.key} is required when ${sourceKey} is headers: set it to the comma-separated names of the headers that form the key, e.g. key1,key2`,
          ),
        ]
      }
      const names = splitList(expression)
      if (names === undefined) return [violation(expressionField, `${expressionField} has an empty header name: remove the doubled or trailing comma`)]
      values.set(partitionKeyExpressionSetting, names.join(','))
      return []
    }
    case 'stream': {
      // kafka-sink evaluates this one itself, on every event: it must run in linear time.
      const problem = expression === undefined ? undefined : linearPatternProblem(expression)
      return problem === undefined ? [] : [violation(expressionField, `${expressionField} ${problem}`)]
    }
    case 'partitionKey':
    case 'streamSuffix':
      return expression === undefined
        ? []
        : [violation(expressionField, `${expressionField} is not used when ${sourceKey} is ${source}: remove it, or set ${sourceKey} to stream or headers`)]
  }
}

const expressionExamples = {
  streamId: 'the stream id to read, e.g. example-stream',
  prefix: 'comma-separated prefixes, e.g. LoanRequest,Order-',
  regex: 'a regular expression, e.g. ^orders-.*',
  jsonPath: 'a JSONPath query, e.g. $[?@.amount > 100]',
} as const

const checkSubscriptionFilter: Rule = (values) => {
  if (values.isInvalid(filterScopeSetting) || values.isInvalid(filterTypeSetting) || values.isInvalid(filterExpressionSetting)) return []
  const scope = values.get(filterScopeSetting)
  const filterType = values.get(filterTypeSetting)
  const expression = values.get(filterExpressionSetting)
  if (scope === undefined || filterType === undefined) return []
  const scopeKey = filterScopeSetting.key
  const typeKey = filterTypeSetting.key
  const expressionKey = filterExpressionSetting.key
  const scopeField = values.field(filterScopeSetting)
  const expressionField = values.field(filterExpressionSetting)
  if (filterType === 'unspecified') {
    if (expression === undefined) return []
    return [
      violation(
        values.field(filterTypeSetting),
        `${typeKey} is required when ${expressionKey} is set: set it to ${joinAlternatives(Object.keys(expressionExamples))}. ` +
          'kafka-sink does not guess it from the expression, because an expression can be valid as several types that select different events',
      ),
    ]
  }
  const violations: FieldViolation[] = []
  if (expression === undefined) violations.push(violation(expressionField, `${expressionKey} is required when ${typeKey} is ${filterType}: set it to ${expressionExamples[filterType]}`))
  // streamId reads one stream and jsonPath looks into events, so each has only one meaningful scope: infer it when
  // unset, refuse the other one. regex and prefix work on stream ids and on event types alike, so the scope must be said.
  const onlyScope = filterType === 'streamId' ? 'stream' : filterType === 'jsonPath' ? 'record' : undefined
  if (onlyScope !== undefined) {
    if (scope === 'unspecified') values.set(filterScopeSetting, onlyScope)
    else if (scope !== onlyScope) violations.push(violation(scopeField, `${scopeField} must be ${onlyScope} when ${typeKey} is ${filterType}, got ${scope}: set ${scopeKey} to ${onlyScope}`))
  } else if (scope === 'unspecified') {
    violations.push(
      violation(scopeField, `${scopeKey} is required when ${typeKey} is ${filterType}: set it to stream to match stream ids, or to record to match event types`),
    )
  }
  if (expression === undefined) return violations
  switch (filterType) {
    case 'streamId':
      if (expression !== expression.trim()) violations.push(violation(expressionField, `${expressionField} has spaces around the stream id: remove them`))
      // A comma almost always means several streams were meant; a streamId filter reads exactly one.
      else if (expression.includes(',')) {
        violations.push(
          violation(expressionField, `${expressionField} lists several streams, but a streamId filter reads exactly one: set ${typeKey} to prefix (or regex) to read several`),
        )
      }
      break
    case 'prefix': {
      const prefixes = splitList(expression)
      if (prefixes === undefined) violations.push(violation(expressionField, `${expressionField} has an empty prefix: remove the doubled or trailing comma`))
      else values.set(filterExpressionSetting, prefixes.join(','))
      break
    }
    case 'regex': {
      // KurrentDB evaluates this one, with .NET's dialect.
      const problem = dotnetRegexProblem(expression)
      if (problem !== undefined) violations.push(violation(expressionField, `${expressionField} ${problem}`))
      break
    }
    case 'jsonPath':
      for (const problem of jsonPathProblems(expression)) violations.push(violation(expressionField, `${expressionField} ${problem}`))
      break
  }
  return violations
}

const checkCompressionLevel: Rule = (values) => {
  const type = values.get(compressionTypeSetting)
  const level = values.get(compressionLevelSetting)
  if (type === undefined || level === undefined) return []
  const range = compressionLevelRanges[type]
  if (range === undefined || (level >= range.minimum && level <= range.maximum)) return []
  const field = values.field(compressionLevelSetting)
  return [
    violation(
      field,
      `${field} is ${level}, but ${type} accepts levels ${range.minimum} to ${range.maximum} (-1 is ${type}'s default, ${range.codecDefault}): ` +
        `lower ${compressionLevelSetting.key}, or choose another ${compressionTypeSetting.key}`,
    ),
  ]
}

const rules: readonly Rule[] = [checkAuthentication, checkPartitionKey, checkSubscriptionFilter, checkCompressionLevel]

/** Every violation of every rule; rules may also normalize values (inferred filter scope, trimmed lists). */
export function checkSettingCombinations(values: SettingValues): FieldViolation[] {
  return rules.flatMap((rule) => rule(values))
}
