/**
 * Encryption at rest for secret settings (today `authentication:password`): AES-256-GCM through WebCrypto, with a
 * key derived from the data-protection token by PBKDF2. A stored secret reads `enc:v1:<base64url(iv|ciphertext)>`;
 * the setting key is bound in as additional data, so a ciphertext moved to another key does not decrypt.
 */
import { isSecretSettingKey } from '../settings/secrets.ts'

const sealedPrefix = 'enc:v1:'
// A fixed, public salt: the token is the secret; the salt only makes the derived key specific to this product.
const keyDerivationSalt = new TextEncoder().encode('kafka-sink data protection v1')
const keyDerivationIterations = 200_000
const ivBytes = 12

export interface SecretBox {
  seal(plaintext: string, settingKey: string): Promise<string>
  open(sealed: string, settingKey: string): Promise<string>
}

export class SecretUnreadableError extends Error {
  override readonly name = 'SecretUnreadableError'
}

/** A secret is stored encrypted, and there is no token to open it with. */
export class MissingTokenError extends Error {
  override readonly name = 'MissingDataProtectionToken'
}

/**
 * A stored settings map with its sealed secrets opened. Throws `MissingTokenError` when there is no token, and
 * `SecretUnreadableError` when the token is not the one the secret was sealed with.
 */
export async function openSealedSettings(settings: Readonly<Record<string, string>>, box: SecretBox | undefined): Promise<Record<string, string>> {
  const plain: Record<string, string> = {}
  for (const [key, value] of Object.entries(settings)) {
    if (!isSecretSettingKey(key) || !isSealed(value)) {
      plain[key] = value
      continue
    }
    if (box === undefined) throw new MissingTokenError(`${key} is stored encrypted but no data-protection token is configured (--data-protection-token or --data-protection-token-file)`)
    plain[key] = await box.open(value, key)
  }
  return plain
}

export function isSealed(value: string): boolean {
  return value.startsWith(sealedPrefix)
}

export async function createSecretBox(token: string): Promise<SecretBox> {
  const material = await crypto.subtle.importKey('raw', new TextEncoder().encode(token), 'PBKDF2', false, ['deriveKey'])
  const key = await crypto.subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt: keyDerivationSalt, iterations: keyDerivationIterations },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  )
  const additionalData = (settingKey: string) => new TextEncoder().encode(settingKey.toLowerCase())
  return {
    seal: async (plaintext, settingKey) => {
      const iv = crypto.getRandomValues(new Uint8Array(ivBytes))
      const ciphertext = new Uint8Array(
        await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: additionalData(settingKey) }, key, new TextEncoder().encode(plaintext)),
      )
      const sealed = new Uint8Array(ivBytes + ciphertext.length)
      sealed.set(iv)
      sealed.set(ciphertext, ivBytes)
      return sealedPrefix + Buffer.from(sealed).toString('base64url')
    },
    open: async (sealed, settingKey) => {
      if (!isSealed(sealed)) throw new SecretUnreadableError(`the stored value of ${settingKey} is not encrypted`)
      const bytes = Buffer.from(sealed.slice(sealedPrefix.length), 'base64url')
      try {
        const plaintext = await crypto.subtle.decrypt(
          { name: 'AES-GCM', iv: bytes.subarray(0, ivBytes), additionalData: additionalData(settingKey) },
          key,
          bytes.subarray(ivBytes),
        )
        return new TextDecoder().decode(plaintext)
      } catch (error) {
        throw new SecretUnreadableError(`cannot decrypt ${settingKey}: the data-protection token differs from the one it was stored with`, { cause: error })
      }
    },
  }
}
