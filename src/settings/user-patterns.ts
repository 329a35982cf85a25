/**
 * Patterns users give that kafka-sink itself evaluates on every event: the `stream` partition-key regex and the
 * `match()` / `search()` functions of JSONPath filters. They run on the event loop, so a backtracking engine would
 * let one pattern such as `(a+)+b` stall every connector and the health probes. They run on RE2 (`re2js`, pure
 * TypeScript), whose matching time is linear in the input; RE2 has no lookaround and no backreferences, which are
 * exactly the constructs that need backtracking, so those are refused when the settings are validated.
 */
import { JSONPathEnvironment, jsonpath } from 'json-p3'
import { RE2JS } from 're2js'

/** Longest regular expression accepted; RE2 compiles in time and memory proportional to the pattern. */
export const maximumPatternLength = 2048
/** Longest JSONPath query accepted. */
export const maximumJsonPathLength = 4096

export interface LinearPattern {
  /** The first match, and its first capture group when the pattern has one. */
  find(text: string): { readonly match: string; readonly firstGroup: string | undefined; readonly hasGroups: boolean } | undefined
}

/** Constructs JavaScript and .NET know but a linear-time engine cannot run, by how they are written. */
const backtrackingConstructs: ReadonlyArray<readonly [RegExp, string]> = [
  [/\(\?<?=/, 'lookahead/lookbehind (?= (?<='],
  [/\(\?<?!/, 'negative lookahead/lookbehind (?! (?<!'],
  [/\\[1-9]/, 'backreferences (\\1)'],
  [/\\k</, 'named backreferences (\\k<name>)'],
  [/\(\?>/, 'atomic groups (?>'],
  [/[*+?}]\+/, 'possessive quantifiers (a++)'],
]

/** Why `pattern` cannot run on the linear-time engine, or undefined when it can. */
export function linearPatternProblem(pattern: string): string | undefined {
  if (pattern.length > maximumPatternLength) return `is ${pattern.length} characters long; the limit is ${maximumPatternLength}`
  try {
    RE2JS.compile(pattern)
    return undefined
  } catch (error) {
    // Name the construct when one explains the refusal; the markers are only read once RE2 has refused the pattern.
    const unsupported = backtrackingConstructs.filter(([marker]) => marker.test(pattern)).map(([, name]) => name)
    if (unsupported.length > 0) {
      return (
        `uses ${unsupported.join(', ')}, which kafka-sink does not run: patterns are evaluated in linear time (RE2 syntax), ` +
        'so one event cannot stall the sink. Rewrite the pattern without them'
      )
    }
    const message = error instanceof Error ? error.message : String(error)
    return `is not a regular expression kafka-sink can run (${message}); use RE2 syntax (a subset of JavaScript's, linear-time)`
  }
}

/** Compiles a pattern that `linearPatternProblem` accepted. */
export function compileLinearPattern(pattern: string): LinearPattern {
  const compiled = RE2JS.compile(pattern)
  const hasGroups = compiled.groupCount() > 0
  return {
    find(text) {
      const matcher = compiled.matcher(text)
      if (!matcher.find()) return undefined
      return { match: matcher.group(0) ?? '', firstGroup: hasGroups ? (matcher.group(1) ?? undefined) : undefined, hasGroups }
    },
  }
}

/** `match()` (whole string) and `search()` (anywhere) of RFC 9535, on RE2. Invalid patterns match nothing, as the RFC says. */
class LinearRegexFunction {
  readonly argTypes = jsonPathValueTypes
  readonly returnType = jsonPathLogicalType
  readonly #cache = new Map<string, RE2JS | null>()
  constructor(readonly wholeString: boolean) {}

  call(text: unknown, pattern: unknown): boolean {
    if (typeof text !== 'string' || typeof pattern !== 'string' || pattern.length > maximumPatternLength) return false
    let compiled = this.#cache.get(pattern)
    if (compiled === undefined) {
      compiled = linearPatternProblem(pattern) === undefined ? RE2JS.compile(pattern) : null
      // A pattern can come from the event itself (`match(@.a, @.b)`): keep the cache small and bounded.
      if (this.#cache.size >= 64) this.#cache.clear()
      this.#cache.set(pattern, compiled)
    }
    if (compiled === null) return false
    return this.wholeString ? compiled.matches(text) : compiled.matcher(text).find()
  }
}

const standardFunctions = new JSONPathEnvironment().functionRegister
const jsonPathValueTypes = standardFunctions.get('match')!.argTypes
const jsonPathLogicalType = standardFunctions.get('match')!.returnType

/** A JSONPath environment whose regular expressions run on RE2. */
export function createJsonPathEnvironment(): JSONPathEnvironment {
  const environment = new JSONPathEnvironment()
  environment.functionRegister.set('match', new LinearRegexFunction(true))
  environment.functionRegister.set('search', new LinearRegexFunction(false))
  return environment
}

/** Every problem of a JSONPath query: length, syntax, and each literal `match()`/`search()` pattern RE2 cannot run. */
export function jsonPathProblems(expression: string): string[] {
  if (expression.length > maximumJsonPathLength) return [`is ${expression.length} characters long; the limit is ${maximumJsonPathLength}`]
  let query: unknown
  try {
    query = jsonpath.compile(expression)
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    return [`is not a valid JSONPath query (RFC 9535): ${message}`]
  }
  const problems: string[] = []
  for (const { name, pattern } of literalPatternsOf(query)) {
    const problem = linearPatternProblem(pattern)
    if (problem !== undefined) problems.push(`has a ${name}() pattern ${JSON.stringify(pattern.slice(0, 100))} that ${problem}`)
  }
  return problems
}

/** The string-literal patterns of `match()` and `search()` calls anywhere in a compiled query. */
function literalPatternsOf(query: unknown): Array<{ name: string; pattern: string }> {
  const found: Array<{ name: string; pattern: string }> = []
  const seen = new Set<object>()
  const visit = (node: unknown): void => {
    if (node === null || typeof node !== 'object' || seen.has(node)) return
    seen.add(node)
    const { name, args } = node as { name?: unknown; args?: unknown }
    if ((name === 'match' || name === 'search') && Array.isArray(args)) {
      const pattern = (args[1] as { value?: unknown } | undefined)?.value
      if (typeof pattern === 'string') found.push({ name, pattern })
    }
    for (const [key, value] of Object.entries(node)) {
      // The environment and tokens point back to shared objects with no patterns of this query.
      if (key !== 'environment' && key !== 'token') visit(value)
    }
  }
  visit(query)
  return found
}
