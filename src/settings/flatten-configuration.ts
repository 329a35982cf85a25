/**
 * The two shapes of connector settings in KurrentDB's API: the flat `a:b:c` map (`settings`) and the nested JSON
 * object (`configuration`, a google.protobuf.Struct). KurrentDB flattens a Struct the way .NET configuration does:
 * nested objects join their keys with `:`, array items become `key:0`, `key:1`…
 */
import { isPlainObject } from './setting-definition.ts'

function flattenInto(flat: Record<string, string>, path: string, value: unknown): void {
  if (value === null || value === undefined) return
  if (Array.isArray(value)) {
    value.forEach((item, index) => flattenInto(flat, `${path}:${index}`, item))
    return
  }
  if (isPlainObject(value)) {
    for (const [key, child] of Object.entries(value)) flattenInto(flat, path === '' ? key : `${path}:${key}`, child)
    return
  }
  // .NET writes booleans as `True`/`False`; we write `true`/`false`, the spelling of our docs and of JSON. Booleans are
  // read without letter case, so both parse the same.
  flat[path] = typeof value === 'string' ? value : String(value)
}

/**
 * A nested `configuration` object as flat settings. Nulls and empty objects or arrays produce no key, as they set
 * nothing. Anything but an object (the Struct is always one) gives an empty map.
 */
export function flattenConfiguration(nested: unknown): Record<string, string> {
  const flat: Record<string, string> = {}
  if (isPlainObject(nested)) flattenInto(flat, '', nested)
  return flat
}

type Nested = Record<string, unknown>

// Objects whose keys are exactly 0…n-1 were arrays before flattening.
function restoreArrays(value: unknown): unknown {
  if (!isPlainObject(value)) return value
  const keys = Object.keys(value)
  const restored: Nested = {}
  for (const key of keys) restored[key] = restoreArrays(value[key])
  const isArray = keys.length > 0 && keys.every((key, index) => key === String(index))
  return isArray ? keys.map((key) => restored[key]) : restored
}

/**
 * Flat settings as a nested object, for `GET /connectors/{id}/configuration`. Segments are merged without letter case
 * (the first spelling wins), values are kept as they are, and `key:0`, `key:1`… become arrays again. A key that is
 * both a value and a section (`a` and `a:b`) cannot nest; the parser never accepts such settings, and here the section
 * wins.
 */
export function nestSettings(flat: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const root: Nested = {}
  for (const [key, value] of Object.entries(flat)) {
    const segments = key.split(':')
    let node = root
    for (const [index, segment] of segments.entries()) {
      const existing = Object.keys(node).find((name) => name.toLowerCase() === segment.toLowerCase())
      const name = existing ?? segment
      if (index === segments.length - 1) {
        if (!isPlainObject(node[name])) node[name] = value
        break
      }
      const child = node[name]
      if (isPlainObject(child)) {
        node = child
      } else {
        const section: Nested = {}
        node[name] = section
        node = section
      }
    }
  }
  const nested = restoreArrays(root)
  return isPlainObject(nested) ? { ...nested } : {}
}
