/**
 * Reading one raw setting before (or without) a full parse, e.g. `instanceTypeName` to pick a connector type. Keys
 * are matched without letter case, as KurrentDB does.
 */

/** The key as the user spelled it in `flat`, for `canonicalKey`, or undefined when absent. */
export function findSettingKey(flat: Readonly<Record<string, unknown>>, canonicalKey: string): string | undefined {
  const wanted = canonicalKey.toLowerCase()
  return Object.keys(flat).find((key) => key.toLowerCase() === wanted)
}

/** The raw value (a string, or a native JSON value) under `canonicalKey`, or undefined when absent. */
export function readRawSetting(flat: Readonly<Record<string, unknown>>, canonicalKey: string): unknown {
  const key = findSettingKey(flat, canonicalKey)
  return key === undefined ? undefined : flat[key]
}
