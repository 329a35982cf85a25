/**
 * The server-side `regex` filter is evaluated by KurrentDB, not by kafka-sink: `new Regex(expression,
 * RegexOptions.Compiled)` in KurrentDB.Core's EventFilter, so in .NET's default dialect. A pattern .NET refuses makes
 * the subscription fail once the connector runs, and a pattern that means something else in JavaScript selects other
 * events, so the pattern is checked by .NET's rules here, before anything is stored.
 *
 * Accepted beyond JavaScript: inline options `(?imnsx-imnsx)` and `(?i:…)`, `\A \Z \z \G`, atomic groups `(?>…)`,
 * `(?'name'…)`, balancing groups `(?<a-b>…)`, conditionals `(?(…)…)`, comments `(?#…)`, class subtraction `[a-z-[aeiou]]`.
 * Refused where .NET refuses (what .NET's parser reports): unbalanced parentheses or brackets, a quantifier after
 * nothing, nested quantifiers (`a**`, `a++`: .NET has no possessive ones), `{n,m}` with n > m, escapes .NET does not
 * know (`\q`, `\u{41}`, `\x4`), backreferences to groups that do not exist, unknown `(?…)` constructs, and a
 * trailing `\`. What it cannot know, .NET's matching cost, is KurrentDB's to bound; the length cap keeps it small.
 */
export const maximumServerRegexLength = 2048

/** Why .NET would refuse `pattern`, or undefined when it compiles. */
export function dotnetRegexProblem(pattern: string): string | undefined {
  if (pattern.length > maximumServerRegexLength) return `is ${pattern.length} characters long; the limit is ${maximumServerRegexLength}`
  try {
    checkPattern(pattern)
    return undefined
  } catch (error) {
    if (error instanceof DotnetSyntaxError) return `is not a valid .NET regular expression (KurrentDB evaluates it): ${error.message}`
    throw error
  }
}

class DotnetSyntaxError extends Error {}

const fail = (message: string): never => {
  throw new DotnetSyntaxError(message)
}

/** Escapes .NET gives a meaning to; any other letter or digit after `\` is an error, other characters are literal. */
const simpleEscapes = new Set('aAbBtrvfneGwWsSdDZz'.split(''))

function checkPattern(pattern: string): void {
  let index = 0
  let groupCount = 0
  const groupNames = new Set<string>()
  const backreferences: Array<{ number?: number; name?: string }> = []
  let depth = 0
  // Whether the last item can take a quantifier, and whether it already has one (then only `?` may follow: lazy).
  let canRepeat = false
  let quantified = 'no' as 'no' | 'yes' | 'lazy'

  const quantifier = (text: string) => {
    if (!canRepeat) fail(`quantifier ${text} following nothing at offset ${index}`)
    if (quantified !== 'no') fail(`nested quantifier ${text} at offset ${index}`)
    quantified = 'yes'
  }
  const atom = () => {
    canRepeat = true
    quantified = 'no'
  }

  while (index < pattern.length) {
    const char = pattern[index]!
    if (char === '\\') {
      index = readEscape(pattern, index, backreferences)
      atom()
      continue
    }
    if (char === '[') {
      index = readClass(pattern, index)
      atom()
      continue
    }
    if (char === '(') {
      const construct = readGroupOpening(pattern, index)
      index = construct.next
      if (construct.kind === 'comment' || construct.kind === 'options') {
        // A comment or a bare option switch is not something a quantifier can follow in a meaningful way; .NET treats
        // a quantifier after it as following the item before, so leave the state alone.
        continue
      }
      if (construct.kind === 'capture') groupCount++
      if (construct.name !== undefined) groupNames.add(construct.name)
      depth++
      canRepeat = false
      quantified = 'no'
      continue
    }
    if (char === ')') {
      if (depth === 0) fail(`too many )'s at offset ${index}`)
      depth--
      index++
      atom()
      continue
    }
    if (char === '*' || char === '+' || char === '?') {
      if (char === '?' && quantified === 'yes') {
        quantified = 'lazy'
        index++
        continue
      }
      quantifier(char)
      index++
      continue
    }
    if (char === '{') {
      const counted = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(index))
      if (counted !== null) {
        const minimum = Number(counted[1])
        const maximum = counted[3] === undefined || counted[3] === '' ? undefined : Number(counted[3])
        if (maximum !== undefined && minimum > maximum) fail(`illegal {x,y} with x > y at offset ${index}`)
        quantifier(counted[0])
        index += counted[0].length
        continue
      }
      // Not a quantifier: .NET reads a lone `{` as a literal.
    }
    if (char === '|') {
      canRepeat = false
      quantified = 'no'
      index++
      continue
    }
    index++
    if (char === '^' || char === '$') {
      // .NET lets a quantifier follow an anchor; JavaScript does too outside unicode mode.
      atom()
      continue
    }
    atom()
  }
  if (depth > 0) fail("not enough )'s")
  for (const reference of backreferences) {
    if (reference.number !== undefined && reference.number > groupCount && !groupNames.has(String(reference.number))) {
      fail(`reference to undefined group number ${reference.number}`)
    }
    if (reference.name !== undefined && !groupNames.has(reference.name) && !(/^\d+$/.test(reference.name) && Number(reference.name) <= groupCount)) {
      fail(`reference to undefined group name ${reference.name}`)
    }
  }
}

function readEscape(pattern: string, start: number, backreferences: Array<{ number?: number; name?: string }>): number {
  const next = pattern[start + 1]
  if (next === undefined) fail('illegal \\ at end of pattern')
  const rest = pattern.slice(start + 1)
  if (simpleEscapes.has(next!)) return start + 2
  if (next === 'x') {
    if (!/^x[0-9A-Fa-f]{2}/.test(rest)) fail(`insufficient hex digits in \\x at offset ${start}`)
    return start + 4
  }
  if (next === 'u') {
    if (!/^u[0-9A-Fa-f]{4}/.test(rest)) fail(`insufficient hex digits in \\u at offset ${start} (.NET has no \\u{…})`)
    return start + 6
  }
  if (next === 'c') {
    if (!/^c[A-Za-z@[\\\]^_]/.test(rest)) fail(`missing control character in \\c at offset ${start}`)
    return start + 3
  }
  if (next === 'p' || next === 'P') {
    const property = /^[pP]\{([A-Za-z0-9-]+)\}/.exec(rest)
    if (property === null) fail(`malformed \\${next}{X} character escape at offset ${start}`)
    return start + 1 + property![0].length
  }
  if (next === 'k') {
    const named = /^k(?:<([^>]+)>|'([^']+)')/.exec(rest)
    if (named === null) fail(`malformed \\k<...> named back reference at offset ${start}`)
    backreferences.push({ name: named![1] ?? named![2]! })
    return start + 1 + named![0].length
  }
  if (next === '0') {
    const octal = /^0[0-7]{0,2}/.exec(rest)!
    return start + 1 + octal[0].length
  }
  if (/[1-9]/.test(next!)) {
    const digits = /^\d+/.exec(rest)![0]
    backreferences.push({ number: Number(digits) })
    return start + 1 + digits.length
  }
  if (/[A-Za-z0-9_]/.test(next!)) fail(`unrecognized escape sequence \\${next} at offset ${start}`)
  return start + 2
}

/** A character class, with .NET's subtraction `[a-z-[aeiou]]`; returns the index after its `]`. */
function readClass(pattern: string, start: number): number {
  let index = start + 1
  if (pattern[index] === '^') index++
  // A `]` first in the class is a literal.
  if (pattern[index] === ']') index++
  while (index < pattern.length) {
    const char = pattern[index]!
    if (char === '\\') {
      const next = pattern[index + 1]
      if (next === undefined) break
      // In a class \b is a backspace and the other escapes as outside; backreferences do not exist.
      if (/[1-9]/.test(next)) {
        index += 2
        continue
      }
      index = readEscape(pattern, index, [])
      continue
    }
    if (char === '-' && pattern[index + 1] === '[') {
      index = readClass(pattern, index + 1)
      if (pattern[index] !== ']') fail(`a subtraction must be the last element in a character class at offset ${index}`)
      return index + 1
    }
    if (char === ']') return index + 1
    index++
  }
  return fail(`unterminated [] set at offset ${start}`)
}

type GroupOpening = { next: number; kind: 'capture' | 'group' | 'comment' | 'options'; name?: string }

function readGroupOpening(pattern: string, start: number): GroupOpening {
  const rest = pattern.slice(start)
  if (!rest.startsWith('(?')) return { next: start + 1, kind: 'capture' }
  if (rest.startsWith('(?#')) {
    const end = pattern.indexOf(')', start)
    if (end === -1) fail(`unterminated (?#...) comment at offset ${start}`)
    return { next: end + 1, kind: 'comment' }
  }
  for (const opener of ['(?:', '(?=', '(?!', '(?<=', '(?<!', '(?>']) if (rest.startsWith(opener)) return { next: start + opener.length, kind: 'group' }
  const named = /^\(\?(?:<([A-Za-z_][A-Za-z0-9_]*|\d+)?(?:-([A-Za-z_][A-Za-z0-9_]*|\d+))?>|'([A-Za-z_][A-Za-z0-9_]*|\d+)?(?:-([A-Za-z_][A-Za-z0-9_]*|\d+))?')/.exec(rest)
  if (named !== null && (named[1] ?? named[2] ?? named[3] ?? named[4]) !== undefined) {
    const name = named[1] ?? named[3]
    // Named groups are numbered too (after the unnamed ones), so they count for `\N` references.
    return { next: start + named[0].length, kind: name === undefined ? 'group' : 'capture', ...(name === undefined ? {} : { name }) }
  }
  const options = /^\(\?[imnsx]*(?:-[imnsx]*)?([:)])/.exec(rest)
  // At least one option letter or `-`: `(?)` is not a construct.
  if (options !== null && options[0].length > 3) {
    return { next: start + options[0].length, kind: options[1] === ')' ? 'options' : 'group' }
  }
  if (rest.startsWith('(?(')) return { next: start + 2, kind: 'group' }
  return fail(`unrecognized grouping construct at offset ${start}`)
}
