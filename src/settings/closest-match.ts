/**
 * "Did you mean …" for setting keys and enum values: edit distance, with a bonus for a matching last key segment so
 * that `maxRetries` finds `resilience:maxRetries` rather than a short unrelated key.
 */

/**
 * Longer input is not compared: edit distance costs length × length, and a 1 MiB key (the body cap) would block the
 * event loop for seconds. Every known key and value is far shorter, so nothing that long is a typo of one.
 */
export const maximumComparedLength = 100

export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1)
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution))
    }
    previous = current
  }
  return previous[b.length] ?? 0
}

function lastSegment(key: string): string {
  return key.slice(key.lastIndexOf(':') + 1)
}

// A key whose last segment matches (or nearly matches) a known key's is probably that key written at the wrong
// level (`maxRetries`, `kafka:topic`); the +2 keeps exact full-key typos ahead of it.
function keyDistance(typed: string, known: string): number {
  const whole = editDistance(typed, known)
  const byLastSegment = editDistance(lastSegment(typed), lastSegment(known)) + 2
  return Math.min(whole, byLastSegment)
}

/** The known keys closest to `typed` (all of them when tied, at most four), compared case-insensitively. */
export function closestKeys(typed: string, knownKeys: readonly string[]): readonly string[] {
  if (typed.length > maximumComparedLength) return []
  const lowered = typed.toLowerCase()
  let best = Number.POSITIVE_INFINITY
  let matches: string[] = []
  for (const known of knownKeys) {
    const distance = keyDistance(lowered, known.toLowerCase())
    if (distance < best) {
      best = distance
      matches = [known]
    } else if (distance === best) {
      matches.push(known)
    }
  }
  return matches.slice(0, 4)
}

/** The closest value if it is near enough to be a plausible typo, else undefined. */
export function closestValue(typed: string, values: readonly string[], normalize: (value: string) => string): string | undefined {
  if (typed.length > maximumComparedLength) return undefined
  const target = normalize(typed)
  let best: { readonly value: string; readonly distance: number } | undefined
  for (const value of values) {
    const distance = editDistance(target, normalize(value))
    if (!best || distance < best.distance) best = { value, distance }
  }
  return best && best.distance <= Math.max(2, Math.floor(target.length / 3)) ? best.value : undefined
}

/** `a`, `a or b`, `a, b or c`. */
export function joinAlternatives(items: readonly string[]): string {
  if (items.length <= 1) return items.join('')
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`
}
