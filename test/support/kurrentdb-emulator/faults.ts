/**
 * One-shot faults a test arms before the call they should hit:
 * - `delete-unavailable`: the next Delete answers UNAVAILABLE and deletes nothing (a KurrentDB outage at that call);
 * - `append-reply-lost`: the next Append or BatchAppend is committed, then its answer is replaced by UNAVAILABLE, as
 *   when the connection drops after the server wrote (a retry then meets its own events; see idempotency.ts).
 */
export type FaultKind = 'delete-unavailable' | 'append-reply-lost' | 'read-unavailable' | 'append-delay'

export const faultKinds: readonly FaultKind[] = ['delete-unavailable', 'append-reply-lost', 'read-unavailable', 'append-delay']

/** How long `append-delay` holds an append before serving it (a slow or overloaded node). */
export const appendDelayMs = 8_000

export type Faults = {
  /** Arms `kind` for the next call on `streamName` (any stream when omitted). */
  arm(kind: FaultKind, streamName?: string): void
  /** True once for an armed fault matching the call, which is then disarmed. */
  take(kind: FaultKind, streamName: string): boolean
}

export function createFaults(): Faults {
  const armed: Array<{ kind: FaultKind; streamName: string | undefined }> = []
  return {
    arm: (kind, streamName) => void armed.push({ kind, streamName }),
    take: (kind, streamName) => {
      const index = armed.findIndex((fault) => fault.kind === kind && (fault.streamName === undefined || fault.streamName === streamName))
      if (index < 0) return false
      armed.splice(index, 1)
      return true
    },
  }
}
