/**
 * JSON.parse keeps the last of two equal keys in an object, silently: `{"topic":"a","topic":"b"}` would configure
 * topic b while the user (or the tool that wrote the body) may have meant a. RFC 8259 leaves duplicate names
 * undefined, so the API refuses them. Pure; one pass over text that JSON.parse has already accepted.
 */

/** The first key that appears twice in one object, with the path of that object, or undefined. */
export function findDuplicateKey(jsonText: string): { readonly key: string; readonly path: string } | undefined {
  // One entry per open object or array: the keys seen so far (objects only) and the path to it.
  const stack: Array<{ keys: Set<string> | undefined; path: string; lastKey: string | undefined }> = []
  let index = 0
  while (index < jsonText.length) {
    const char = jsonText[index]!
    if (char === '"') {
      const end = stringEnd(jsonText, index)
      const top = stack.at(-1)
      if (top?.keys !== undefined && nextSignificant(jsonText, end) === ':') {
        const key = JSON.parse(jsonText.slice(index, end)) as string
        if (top.keys.has(key)) return { key, path: top.path }
        top.keys.add(key)
        top.lastKey = key
      }
      index = end
      continue
    }
    if (char === '{' || char === '[') {
      const parent = stack.at(-1)
      const segment = parent === undefined ? '' : parent.keys === undefined ? '[]' : `.${parent.lastKey ?? ''}`
      stack.push({ keys: char === '{' ? new Set() : undefined, path: `${parent?.path ?? ''}${segment}`, lastKey: undefined })
    } else if (char === '}' || char === ']') {
      stack.pop()
    }
    index++
  }
  return undefined
}

/** The index just after the closing quote of the string that opens at `start`. */
function stringEnd(text: string, start: number): number {
  let index = start + 1
  while (index < text.length) {
    const char = text[index]
    if (char === '\\') index += 2
    else if (char === '"') return index + 1
    else index++
  }
  return text.length
}

function nextSignificant(text: string, from: number): string | undefined {
  let index = from
  while (index < text.length && (text[index] === ' ' || text[index] === '\t' || text[index] === '\n' || text[index] === '\r')) index++
  return text[index]
}
