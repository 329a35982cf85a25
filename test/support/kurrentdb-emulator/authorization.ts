/**
 * Authentication and stream ACLs as a KurrentDB server in secure mode applies them by default. Only served over TLS:
 * KurrentDB's client drops credentials on insecure channels, and an insecure server grants everything.
 * - Users: the server's defaults, `admin:changeit` (group `$admins`) and `ops:changeit` (group `$ops`). Wrong
 *   credentials answer UNAUTHENTICATED; no credentials are refused stream access.
 * - Access (`LegacyStreamPermissionAssertion.cs`): `$admins` may do everything. Otherwise the stream's own `$acl`
 *   decides, else the built-in default (`SystemSettings.Default`): streams are open to everyone (`$all` role), while
 *   `$`-prefixed streams, `$all` included, are `$admins` only. Metastream reads and writes are `$mr` / `$mw` of the
 *   stream they describe; writing or deleting `$all` is always refused. (`$settings` defaults are not modelled.)
 */
import * as grpc from '@grpc/grpc-js'
import type { EventLog } from './event-log.ts'
import { streamOfMetastream, type StreamAcl } from './stream-metadata.ts'

export type Principal = { readonly name: string; readonly groups: readonly string[] } | 'anonymous'
export type StreamAction = 'read' | 'write' | 'delete'

const defaultUsers: Record<string, { password: string; groups: string[] }> = {
  admin: { password: 'changeit', groups: ['$admins'] },
  ops: { password: 'changeit', groups: ['$ops'] },
}

export type Authorization = {
  /** The caller, or an error to answer with (UNAUTHENTICATED, PERMISSION_DENIED); undefined error when allowed. */
  check(metadata: grpc.Metadata, action: StreamAction, streamName: string): grpc.ServiceError | undefined
}

/** Everyone may do everything: a server without TLS (its "insecure" mode). */
export const grantEverything: Authorization = { check: () => undefined }

export function createDefaultAuthorization(log: EventLog): Authorization {
  return {
    check(metadata, action, streamName) {
      const principal = authenticate(metadata)
      if (principal === undefined) return statusError(grpc.status.UNAUTHENTICATED, 'Bad username or password.', 'not-authenticated')
      if (mayAccess(log, principal, action, streamName)) return undefined
      return statusError(grpc.status.PERMISSION_DENIED, `Access denied for stream '${streamName}'.`, 'access-denied')
    },
  }
}

function authenticate(metadata: grpc.Metadata): Principal | undefined {
  const header = metadata.get('authorization')[0]
  if (header === undefined) return 'anonymous'
  const match = /^Basic (.+)$/i.exec(String(header))
  if (match === null) return undefined
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8')
  const separator = decoded.indexOf(':')
  const name = decoded.slice(0, separator)
  const user = defaultUsers[name]
  if (separator < 0 || user === undefined || user.password !== decoded.slice(separator + 1)) return undefined
  return { name, groups: user.groups }
}

function mayAccess(log: EventLog, principal: Principal, action: StreamAction, streamName: string): boolean {
  if (principal === 'anonymous') return false
  if (principal.groups.includes('$admins')) return true
  const stream = streamName === '' ? '$all' : streamName
  if (stream === '$all' && action !== 'read') return false
  const described = streamOfMetastream(stream)
  const target = described ?? stream
  const key: keyof StreamAcl = described === undefined ? ({ read: '$r', write: '$w', delete: '$d' } as const)[action] : action === 'read' ? '$mr' : '$mw'
  const own = log.findStream(target)?.metadata.acl?.[key]
  const roles = own === undefined ? (target.startsWith('$') ? ['$admins'] : ['$all']) : typeof own === 'string' ? [own] : own
  return roles.some((role) => role === '$all' || role === principal.name || principal.groups.includes(role))
}

function statusError(code: grpc.status, details: string, exception: string): grpc.ServiceError {
  const metadata = new grpc.Metadata()
  metadata.set('exception', exception)
  return Object.assign(new Error(`${code} ${grpc.status[code]}: ${details}`), { code, details, metadata })
}
