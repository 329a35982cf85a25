/**
 * The server version the emulator reports, and the version-specific subscription behaviours it then follows
 * (KurrentDB release history, facts F4 and F5 of the server-semantics reference):
 * - `caught_up` carries a position (`$all`) or stream revision only from 24.10.5, 25.0.1 and 25.1.0 on (#5013 and its
 *   backports); 24.10.0–24.10.4 and 25.0.0 send it empty.
 * - 24.2.0–24.10.4: a filtered `$all` subscription started from `start` that matched nothing during catch-up sends
 *   the checkpoint (−1, −1), on the wire (2^64−1, 2^64−1), which means "the end" (#4892 / #4893).
 */
export const defaultServerVersion = '24.10.0'

export type ServerBehaviour = {
  readonly version: string
  /** Whether `caught_up` says where the subscription was. */
  readonly caughtUpCarriesPosition: boolean
  /** Whether the switch to live may send the (2^64−1, 2^64−1) checkpoint. */
  readonly sendsEndCheckpointAtLiveSwitch: boolean
}

export function serverBehaviour(version: string): ServerBehaviour {
  const [major = 0, minor = 0, patch = 0] = (/^(\d+)\.(\d+)\.(\d+)/.exec(version)?.slice(1) ?? []).map(Number)
  const at = (a: number, b: number, c: number) => major * 1_000_000 + minor * 1_000 + patch >= a * 1_000_000 + b * 1_000 + c
  const caughtUpCarriesPosition = (major === 24 && minor === 10 && patch >= 5) || (major === 25 && minor === 0 && patch >= 1) || at(25, 1, 0)
  const sendsEndCheckpointAtLiveSwitch = at(24, 2, 0) && !at(24, 10, 5)
  return { version, caughtUpCarriesPosition, sendsEndCheckpointAtLiveSwitch }
}
