/**
 * KurrentDB gRPC emulator: an in-memory server for the v1 client protocol, built on the service
 * definitions `@kurrent/kurrentdb-client` ships, so the official client (and its Rust read bridge) can run
 * against it where no KurrentDB server can be installed.
 *
 * Covers: ServerFeatures.GetSupportedMethods (advertises BatchAppend and the version given, default 24.10.0);
 * Streams.Append and BatchAppend with expected-revision checks and idempotency by event id (strong for exact
 * revisions, weak from the ids committed since the last restart); Streams.Read for streams and `$all` (both
 * directions, start/end/revision or position, count; a position inside a record is refused with INVALID_ARGUMENT),
 * the filtered `$all` subscription (stream or event-type filter by prefixes or regex, checkpoints every window ×
 * multiplier scanned events, caught-up with or without a position as the version does, live) and the stream
 * subscription; Streams.Delete (soft, with the server's undelete rules) and Tombstone; stream metadata (`$maxCount`,
 * `$tb`, `$acl`) parsed and applied as the server does; over TLS, the default users (admin, ops) and ACLs. Positions
 * are uint64 (commit = prepare), strictly increasing by each record's size from `positionBase`. Faults for tests:
 * dropping the read calls, and one-shot faults (faults.ts).
 *
 * Does not cover: gossip/cluster discovery, persistent subscriptions, projections, the v2 (multi-stream) append API,
 * link events and resolveLinkTos, `$maxAge`, `$settings` ACL defaults, scavenging, `fell_behind`, page-granular
 * checkpoints (prepare 0), structured UUIDs in responses, and durability (data lives in memory for the life of the
 * process; `down`/`up` keep it).
 *
 * In a test: `const emulator = await startKurrentDbEmulator()`, then
 * `KurrentDBClient.connectionString(emulator.connectionString)`. As a process:
 * `bun test/support/kurrentdb-emulator.ts --port 2113`, driven by stdin commands (command-line.ts), or
 * through `spawnKurrentDbEmulator` in kurrentdb-emulator-process.ts.
 */
import { createEventLog, type EventLogStats } from './kurrentdb-emulator/event-log.ts'
import { startGrpcHost } from './kurrentdb-emulator/grpc-host.ts'
import { createFaults, type FaultKind } from './kurrentdb-emulator/faults.ts'
import { defaultServerVersion } from './kurrentdb-emulator/server-version.ts'
import { runCommandLine } from './kurrentdb-emulator/command-line.ts'
import { emulatorConnectionString, emulatorHost } from './kurrentdb-emulator/connection-string.ts'
import { seedEvents, type SeedRequest } from './kurrentdb-emulator/seed.ts'

export { emulatorConnectionString } from './kurrentdb-emulator/connection-string.ts'

export type KurrentDbEmulatorOptions = {
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number
  /** Position of the first event (default 4096): e.g. 2n ** 60n to prove positions above 2^53 survive. */
  positionBase?: bigint
  /** The version reported and followed where versions differ (server-version.ts); default 24.10.0. */
  serverVersion?: string
  /** Serve TLS with this certificate (clients then send credentials, which KurrentDB's client drops on insecure channels). */
  tls?: { certPem: string; keyPem: string }
}

export type KurrentDbEmulatorStats = EventLogStats & { serving: boolean; openCalls: number }

export type KurrentDbEmulator = {
  /** For `KurrentDBClient.connectionString(...)`. */
  readonly connectionString: string
  readonly port: number
  /** Stop serving: the port closes and open calls end with UNAVAILABLE. The data is kept. */
  down(): Promise<void>
  /** Serve again on the same port. */
  up(): Promise<void>
  /** `down()` then `up()`. */
  restart(): Promise<void>
  /** Ends the open Read calls (subscriptions) with UNAVAILABLE while appends go on; returns how many. */
  dropReads(): number
  /** Arms a one-shot fault for the next matching call, on `streamName` or any stream (see faults.ts). */
  armFault(kind: FaultKind, streamName?: string): void
  stats(): KurrentDbEmulatorStats
  /** Appends a synthetic backlog directly into the log (benchmarks); returns the last event's position. */
  seed(request: SeedRequest): bigint | undefined
  /** Stop serving for good and drop the data. */
  close(): Promise<void>
}

export const defaultPositionBase = 4096n

export async function startKurrentDbEmulator(options: KurrentDbEmulatorOptions = {}): Promise<KurrentDbEmulator> {
  const log = createEventLog({ positionBase: options.positionBase ?? defaultPositionBase })
  const faults = createFaults()
  const host = await startGrpcHost({ log, host: emulatorHost, port: options.port ?? 0, faults, tls: options.tls, serverVersion: options.serverVersion ?? defaultServerVersion })
  const port = host.port
  let closed = false
  const up = async (): Promise<void> => {
    if (closed) throw new Error('the KurrentDB emulator is closed')
    await host.up()
  }
  return {
    connectionString: emulatorConnectionString(port),
    port,
    down: host.down,
    up,
    dropReads: () => host.dropReads(),
    armFault: (kind, streamName) => faults.arm(kind, streamName),
    async restart() {
      await host.down()
      await up()
    },
    stats: () => ({ ...log.stats(), serving: host.serving, openCalls: host.openCalls }),
    seed: (request) => seedEvents(log, request),
    async close() {
      closed = true
      await host.down()
    },
  }
}

if (import.meta.main) await runCommandLine(startKurrentDbEmulator, process.argv.slice(2))
