/**
 * The server side of the SASL mechanisms Kafka clients use with passwords: PLAIN (RFC 4616) and SCRAM-SHA-256 /
 * SCRAM-SHA-512 (RFC 5802, RFC 7677). A session consumes the client's tokens one by one and answers each; how the
 * tokens travel (SaslAuthenticate requests or raw frames) is the connection's business (sasl-apis.ts).
 *
 * Not covered: SASLprep normalisation of names and passwords (test credentials are ASCII), channel binding
 * (`p=` gs2 flag; Kafka does not offer it either), SCRAM extensions such as Kafka's delegation-token `tokenauth`,
 * OAUTHBEARER and GSSAPI.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto'

export const saslMechanismNames = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const
export type SaslMechanismName = (typeof saslMechanismNames)[number]

export type SaslStep =
  | { readonly kind: 'challenge'; readonly reply: Buffer }
  | { readonly kind: 'authenticated'; readonly reply: Buffer; readonly user: string }
  | { readonly kind: 'failed'; readonly message: string }

export interface SaslSession {
  step(token: Buffer): SaslStep
}

/** Kafka's own wording for credential failures (PlainSaslServer, ScramSaslServer), so logs read the same. */
const plainFailure = 'Authentication failed: Invalid username or password'
const scramFailure = (mechanism: string) =>
  `Authentication failed during authentication due to invalid credentials with SASL mechanism ${mechanism}`

export function createSaslSession(mechanism: SaslMechanismName, credentials: ScramCredentialStore): SaslSession {
  return mechanism === 'PLAIN' ? plainSession(credentials.users) : scramSession(mechanism, credentials)
}

/** PLAIN: one token `authzid NUL authcid NUL passwd`; the authzid must be empty or the user itself (as in Kafka). */
function plainSession(users: Readonly<Record<string, string>>): SaslSession {
  let done = false
  return {
    step(token) {
      if (done) return { kind: 'failed', message: 'PLAIN takes a single token' }
      done = true
      const parts = token.toString('utf8').split('\0')
      if (parts.length !== 3) return { kind: 'failed', message: 'Invalid SASL/PLAIN response: expected 3 tokens' }
      const [authorizationId, user, password] = parts as [string, string, string]
      if (authorizationId !== '' && authorizationId !== user) {
        return { kind: 'failed', message: 'Authentication failed: Client requested an authorization id that is different from username' }
      }
      if (!Object.hasOwn(users, user) || !sameText(users[user]!, password)) return { kind: 'failed', message: plainFailure }
      return { kind: 'authenticated', reply: Buffer.alloc(0), user }
    },
  }
}

interface ScramCredential {
  readonly salt: Buffer
  readonly iterations: number
  readonly storedKey: Buffer
  readonly serverKey: Buffer
}

const scramAlgorithms = {
  'SCRAM-SHA-256': { hash: 'sha256', keyLength: 32 },
  'SCRAM-SHA-512': { hash: 'sha512', keyLength: 64 },
} as const

/** Kafka's minimum (ScramMechanism.minIterations); clients such as @platformatic/kafka refuse fewer. */
const scramIterations = 4096

/**
 * What a SCRAM server stores per user (RFC 5802 §5): salt, iteration count, StoredKey and ServerKey, never the
 * password. Derived once per user and mechanism, on first use, with a random salt.
 */
export class ScramCredentialStore {
  readonly #cache = new Map<string, ScramCredential>()

  constructor(readonly users: Readonly<Record<string, string>>) {}

  credential(mechanism: keyof typeof scramAlgorithms, user: string): ScramCredential | undefined {
    if (!Object.hasOwn(this.users, user)) return undefined
    const key = `${mechanism}\0${user}`
    let credential = this.#cache.get(key)
    if (credential === undefined) {
      const { hash, keyLength } = scramAlgorithms[mechanism]
      const salt = randomBytes(16)
      const saltedPassword = pbkdf2Sync(this.users[user]!, salt, scramIterations, keyLength, hash)
      const clientKey = hmac(hash, saltedPassword, 'Client Key')
      credential = {
        salt,
        iterations: scramIterations,
        storedKey: createHash(hash).update(clientKey).digest(),
        serverKey: hmac(hash, saltedPassword, 'Server Key'),
      }
      this.#cache.set(key, credential)
    }
    return credential
  }
}

/**
 * SCRAM, server side (RFC 5802 §3, §5.1):
 *   client-first  = gs2-header client-first-bare;  gs2-header = ("n" | "y") "," [ "a=" authzid ] ","
 *   client-first-bare = "n=" saslname ",r=" c-nonce ["," extensions]
 *   server-first  = "r=" c-nonce s-nonce ",s=" base64(salt) ",i=" iterations
 *   client-final  = "c=" base64(gs2-header) ",r=" nonce ",p=" base64(ClientProof)
 *   server-final  = "v=" base64(ServerSignature)
 * with AuthMessage = client-first-bare "," server-first "," client-final-without-proof,
 * ClientProof = ClientKey XOR HMAC(StoredKey, AuthMessage), checked as H(ClientProof XOR ClientSignature) = StoredKey.
 */
function scramSession(mechanism: keyof typeof scramAlgorithms, credentials: ScramCredentialStore): SaslSession {
  const { hash } = scramAlgorithms[mechanism]
  let state:
    | { readonly stage: 'clientFirst' }
    | {
        readonly stage: 'clientFinal'
        readonly user: string
        readonly credential: ScramCredential
        readonly gs2Header: string
        readonly nonce: string
        readonly clientFirstBare: string
        readonly serverFirst: string
      }
    | { readonly stage: 'done' } = { stage: 'clientFirst' }

  const fail = (message: string): SaslStep => {
    state = { stage: 'done' }
    return { kind: 'failed', message }
  }

  return {
    step(token) {
      const message = token.toString('utf8')
      if (state.stage === 'clientFirst') {
        const parsed = parseClientFirst(message)
        if (typeof parsed === 'string') return fail(parsed)
        // Kafka's ScramSaslServer fails an unknown user at this first step, without a fake challenge.
        const credential = credentials.credential(mechanism, parsed.user)
        if (credential === undefined) return fail(scramFailure(mechanism))
        const nonce = parsed.clientNonce + randomBytes(18).toString('base64')
        const serverFirst = `r=${nonce},s=${credential.salt.toString('base64')},i=${credential.iterations}`
        state = { stage: 'clientFinal', user: parsed.user, credential, gs2Header: parsed.gs2Header, nonce, clientFirstBare: parsed.clientFirstBare, serverFirst }
        return { kind: 'challenge', reply: Buffer.from(serverFirst, 'utf8') }
      }
      if (state.stage === 'clientFinal') {
        const { user, credential, gs2Header, nonce, clientFirstBare, serverFirst } = state
        state = { stage: 'done' }
        const proofAt = message.lastIndexOf(',p=')
        if (proofAt < 0) return fail('Invalid SCRAM client final message: no proof')
        const withoutProof = message.slice(0, proofAt)
        const attributes = parseAttributes(withoutProof)
        if (attributes.get('c') !== Buffer.from(gs2Header, 'utf8').toString('base64')) return fail('Invalid SCRAM channel binding')
        // RFC 5802 wants r= to echo the server's nonce exactly, but librdkafka 2.0.2 (kcat) sends its own nonce
        // again in front of it (rdkafka_sasl_scram.c: "c=%s,r=%.*s%s", cnonce, server r). Kafka's ScramSaslServer
        // accepted that by checking endsWith, so the front does too; the proof still covers this exact message.
        if (!(attributes.get('r') ?? '').endsWith(nonce)) return fail('Invalid SCRAM nonce')
        const proof = Buffer.from(message.slice(proofAt + 3), 'base64')
        const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`
        const clientSignature = hmac(hash, credential.storedKey, authMessage)
        if (proof.length !== clientSignature.length) return fail(scramFailure(mechanism))
        const clientKey = xor(proof, clientSignature)
        if (!timingSafeEqual(createHash(hash).update(clientKey).digest(), credential.storedKey)) return fail(scramFailure(mechanism))
        const serverSignature = hmac(hash, credential.serverKey, authMessage)
        return { kind: 'authenticated', reply: Buffer.from(`v=${serverSignature.toString('base64')}`, 'utf8'), user }
      }
      return fail('SCRAM exchange already finished')
    },
  }
}

function parseClientFirst(
  message: string,
): { user: string; clientNonce: string; gs2Header: string; clientFirstBare: string } | string {
  // gs2-header: cbind flag, then the optional authzid, each followed by a comma.
  const firstComma = message.indexOf(',')
  const secondComma = firstComma < 0 ? -1 : message.indexOf(',', firstComma + 1)
  if (secondComma < 0) return 'Invalid SCRAM client first message: no gs2 header'
  const flag = message.slice(0, firstComma)
  if (flag !== 'n' && flag !== 'y') return `Invalid SCRAM client first message: channel binding ${JSON.stringify(flag)} is not supported`
  const gs2Header = message.slice(0, secondComma + 1)
  const clientFirstBare = message.slice(secondComma + 1)
  const attributes = parseAttributes(clientFirstBare)
  const name = attributes.get('n')
  const clientNonce = attributes.get('r')
  if (name === undefined || clientNonce === undefined || clientNonce === '') {
    return 'Invalid SCRAM client first message: n= and r= are required'
  }
  const user = decodeSaslName(name)
  const authorizationId = message.slice(firstComma + 1, secondComma)
  if (authorizationId !== '' && authorizationId !== `a=${name}`) {
    return 'Authentication failed: Client requested an authorization id that is different from username'
  }
  return { user, clientNonce, gs2Header, clientFirstBare }
}

/** `k=v,k=v`, values may contain `=` (base64). First occurrence of a key wins. */
function parseAttributes(text: string): Map<string, string> {
  const attributes = new Map<string, string>()
  for (const part of text.split(',')) {
    const equals = part.indexOf('=')
    if (equals < 1) continue
    const key = part.slice(0, equals)
    if (!attributes.has(key)) attributes.set(key, part.slice(equals + 1))
  }
  return attributes
}

/** saslname escapes `,` as `=2C` and `=` as `=3D` (RFC 5802 §5.1). */
function decodeSaslName(name: string): string {
  return name.replace(/=2C|=3D/g, (escape) => (escape === '=2C' ? ',' : '='))
}

function hmac(hash: string, key: Buffer, data: string): Buffer {
  return createHmac(hash, key).update(data, 'utf8').digest()
}

function xor(a: Buffer, b: Buffer): Buffer {
  const result = Buffer.allocUnsafe(a.length)
  for (let index = 0; index < a.length; index++) result[index] = a[index]! ^ b[index]!
  return result
}

function sameText(expected: string, actual: string): boolean {
  const a = Buffer.from(expected, 'utf8')
  const b = Buffer.from(actual, 'utf8')
  return a.length === b.length && timingSafeEqual(a, b)
}
