/**
 * Which KurrentDB versions the sink supports, from what their filtered `$all` subscriptions do (KurrentDB's release
 * history, read in its source):
 * - up to 21.10.9, 22.10.0–22.10.3 and 23.6.0 send a checkpoint at the position of the first live event *not yet
 *   sent* when the subscription switches to live; resuming from it skips that event (fixed by PR #4023 in 22.10.4,
 *   #4035 in 21.10.10; 23.10.0 sends caught_up there instead). Nothing on the client side can tell, so these are
 *   refused.
 * - 24.2.0–24.10.4 can send (2^64−1, 2^64−1) as a checkpoint (fixed in 24.10.5 / 25.0.0): guarded, such a checkpoint
 *   is never stored (positions.ts `isEndOfLog`).
 * - 25.0.0 can send a checkpoint at a record not yet delivered with prepare 0: harmless, as the sink passes both
 *   numbers back as received.
 * - `caught_up` carries no position before 24.10.5 / 25.0.1 / 25.1.0: the sink never relies on it.
 */

export const minimumServerVersions = '21.10.10 (21.10 line), 22.10.4 (22.10 line), 23.10.0 and later'

/** Why the sink refuses this server version; undefined when it is supported or cannot be told (unknown). */
export function unsupportedServerVersion(version: string): string | undefined {
  const match = /^(\d+)\.(\d+)\.(\d+)/.exec(version)
  if (match === null) return undefined
  const [major, minor, patch] = [Number(match[1]), Number(match[2]), Number(match[3])]
  const skipsAtLiveSwitch =
    major < 21 ||
    (major === 21 && (minor < 10 || patch < 10)) ||
    (major === 22 && (minor < 10 || patch < 4)) ||
    (major === 23 && minor < 10)
  if (!skipsAtLiveSwitch) return undefined
  return `KurrentDB ${version} is not supported: its filtered subscriptions can skip an event at the switch from catch-up to live (fixed in 21.10.10, 22.10.4 and 23.10.0). Upgrade KurrentDB to one of: ${minimumServerVersions}`
}
