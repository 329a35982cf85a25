/**
 * HTTP Basic authentication for the management routes, against the one user configured on the command line.
 *
 * It runs on `onRequest`, before routing, parsing and validation, so a client without credentials learns nothing
 * (not whether a connector id is valid, not whether a route exists) and its body is never read.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { Elysia } from 'elysia'
import { RequestError } from './rpc-status.ts'

export interface ApiCredentials {
  readonly user: string
  readonly password: string
}

export const authenticationRealm = 'kafka-sink'

// Comparing SHA-256 digests keeps the comparison constant-time and of fixed length, so neither the content nor the
// length of the configured user or password leaks through response timing.
const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest()

/** A checker for `Authorization` header values; the expected digests are computed once. */
export function createCredentialsCheck(expected: ApiCredentials): (authorization: string | null) => boolean {
  const expectedUser = digest(expected.user)
  const expectedPassword = digest(expected.password)
  return (authorization) => {
    const supplied = readBasicCredentials(authorization)
    // Both comparisons always run, whatever the first one says.
    const userMatches = timingSafeEqual(digest(supplied?.user ?? ''), expectedUser)
    const passwordMatches = timingSafeEqual(digest(supplied?.password ?? ''), expectedPassword)
    return supplied !== undefined && userMatches && passwordMatches
  }
}

/** `Basic base64(user:password)`; the scheme is case-insensitive (RFC 9110) and the password may contain `:`. */
export function readBasicCredentials(authorization: string | null): ApiCredentials | undefined {
  const match = authorization?.match(/^\s*basic\s+([A-Za-z0-9+/=_-]+)\s*$/i)
  if (!match) return undefined
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) return undefined
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
}

/**
 * Rejects requests to protected paths without the right credentials with 401 and a Basic challenge (so browsers and
 * `curl --anyauth` know what to send). `credentials: undefined` (`--insecure`) lets everything through.
 */
export function basicAuthentication(options: { credentials: ApiCredentials | undefined; isProtected: (pathname: string) => boolean }) {
  const plugin = new Elysia({ name: 'basic-authentication', seed: options.credentials?.user ?? '--insecure' })
  const { credentials } = options
  if (credentials === undefined) return plugin
  const check = createCredentialsCheck(credentials)
  const challenge = { 'www-authenticate': `Basic realm="${authenticationRealm}"` }
  return plugin.onRequest(({ request }) => {
    if (!options.isProtected(new URL(request.url).pathname)) return
    const authorization = request.headers.get('authorization')
    if (check(authorization)) return
    const message =
      authorization === null
        ? 'Authentication required: send the kafka-sink API user and password with HTTP Basic authentication (curl -u user:password)'
        : 'The user name or password is wrong, or the Authorization header is not HTTP Basic'
    throw new RequestError('UNAUTHENTICATED', message, { headers: challenge })
  })
}
