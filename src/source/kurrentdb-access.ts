/**
 * What the sink's KurrentDB user must be allowed to do, and how a refusal is recognised. On a default server the
 * sink's own streams (`$kafka-sink/…`, `$`-prefixed, hence system streams) and `$all` are `$admins` only
 * (KurrentDB `SystemSettings.Default`, `LegacyStreamPermissionAssertion`), so a least-privilege user fails there.
 */
import { AccessDeniedError } from '@kurrent/kurrentdb-client'

export const requiredKurrentDbRights =
  "the sink's KurrentDB user needs read on $all, and read, write, delete, metadata read and metadata write on the $kafka-sink streams: " +
  'make it a member of $admins, or grant those rights in the $systemStreamAcl of $settings (see README, "KurrentDB permissions")'

const grpcPermissionDenied = 7
const grpcUnauthenticated = 16

/** True for KurrentDB refusing the credentials or the access, whether raised by the client or a raw gRPC call. */
export function isAccessRefused(error: unknown): boolean {
  for (let current = error, depth = 0; current !== undefined && depth < 4; current = (current as { cause?: unknown }).cause, depth++) {
    if (current instanceof AccessDeniedError) return true
    const code = (current as { code?: unknown } | null)?.code
    if (code === grpcPermissionDenied || code === grpcUnauthenticated) return true
  }
  return false
}

export function accessRefusedMessage(error: unknown): string {
  const detail = error instanceof Error ? error.message : String(error)
  return `KurrentDB refused access (${detail}): ${requiredKurrentDbRights}`
}
