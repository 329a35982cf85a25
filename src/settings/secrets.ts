/**
 * Secret settings: which keys hold secrets, and the redacted copy of a settings map that the API returns and logs
 * see. Only the stored settings keep the real value.
 */
import { settingDefinitions } from './kafka-sink-settings.ts'

/** What the API shows, and logs contain, instead of a secret value. */
export const redactedValue = '***'

/** Canonical keys of the secret settings (today only `authentication:password`). */
export const secretSettingKeys: readonly string[] = settingDefinitions.filter((definition) => definition.secret).map((definition) => definition.key)

const loweredSecretKeys = new Set(secretSettingKeys.map((key) => key.toLowerCase()))

/** Whether `key` (in any letter case, as keys are matched) holds a secret. */
export function isSecretSettingKey(key: string): boolean {
  return loweredSecretKeys.has(key.toLowerCase())
}

/** The same map with every secret value replaced by `***`. */
export function redactSettings<Value>(flat: Readonly<Record<string, Value>>): Record<string, Value | typeof redactedValue> {
  const redacted: Record<string, Value | typeof redactedValue> = {}
  for (const [key, value] of Object.entries(flat)) redacted[key] = isSecretSettingKey(key) ? redactedValue : value
  return redacted
}
