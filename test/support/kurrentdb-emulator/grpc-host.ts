/**
 * The gRPC server around the log, with the lifecycle tests need: `down` closes the port and ends every open
 * call with UNAVAILABLE (what a client sees when KurrentDB goes away) while the log stays in memory; `up`
 * serves again on the same port. A grpc-js server cannot bind again once shut down, so `up` builds a new one.
 */
import * as grpc from '@grpc/grpc-js'
import { handleAppend, handleBatchAppend } from './appends.ts'
import { handleDelete, handleTombstone } from './deletes.ts'
import type { EventLog } from './event-log.ts'
import type { Faults } from './faults.ts'
import { serverBehaviour } from './server-version.ts'
import { createDefaultAuthorization, grantEverything } from './authorization.ts'
import { serverFeaturesServiceDefinition, streamsServiceDefinition } from './protocol.ts'
import { handleRead } from './read-service.ts'
import { unavailableError } from './responses.ts'
import { handleGetSupportedMethods } from './server-features.ts'

/** Registers an open call with the way to end it; returns the function that forgets it. */
export type TrackCall = (abort: (error: grpc.ServiceError) => void, kind?: 'read' | 'write') => () => void

export type GrpcHost = {
  readonly port: number
  readonly serving: boolean
  readonly openCalls: number
  up(): Promise<void>
  down(): Promise<void>
  /** Ends every open Read call (subscriptions included) with UNAVAILABLE while appends go on being served. */
  dropReads(): number
}

/** How long `down` lets ended calls flush their status before it drops the connections. */
const shutdownGraceMs = 500

/** The client accepts messages up to 17 MiB (KurrentDB's largest event); accept as much. */
const maxMessageBytes = 17 * 1024 * 1024

export async function startGrpcHost(options: { log: EventLog; host: string; port: number; faults: Faults; tls?: { certPem: string; keyPem: string } | undefined; serverVersion: string }): Promise<GrpcHost> {
  const { log, host, faults } = options
  // Secure mode (TLS) brings the server's default users and ACLs; an insecure server grants everything.
  const authorization = options.tls === undefined ? grantEverything : createDefaultAuthorization(log)
  const calls = new Map<(error: grpc.ServiceError) => void, 'read' | 'write'>()
  const track: TrackCall = (abort, kind = 'write') => {
    calls.set(abort, kind)
    return () => calls.delete(abort)
  }
  let server: grpc.Server | undefined
  let port = options.port

  async function up(): Promise<void> {
    if (server) return
    const next = new grpc.Server({ 'grpc.max_receive_message_length': maxMessageBytes, 'grpc.max_send_message_length': -1 })
    next.addService(streamsServiceDefinition, {
      read: handleRead(log, track, authorization, faults, serverBehaviour(options.serverVersion)),
      append: handleAppend(log, track, faults, authorization),
      batchAppend: handleBatchAppend(log, track, faults, authorization),
      delete: handleDelete(log, faults, authorization),
      tombstone: handleTombstone(log, authorization),
    })
    next.addService(serverFeaturesServiceDefinition, { getSupportedMethods: handleGetSupportedMethods(options.serverVersion) })
    port = await new Promise<number>((resolve, reject) =>
      next.bindAsync(`${host}:${port}`, serverCredentials(options.tls), (error, boundPort) => (error ? reject(error) : resolve(boundPort))),
    )
    server = next
  }

  async function down(): Promise<void> {
    const current = server
    if (!current) return
    server = undefined
    // A restarted node has lost its in-memory cache of recent event ids (weak idempotency).
    log.forgetRecentIds()
    const error = unavailableError('the KurrentDB emulator is down')
    for (const abort of [...calls.keys()]) abort(error)
    calls.clear()
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        current.forceShutdown()
        resolve()
      }, shutdownGraceMs)
      current.tryShutdown(() => {
        clearTimeout(timer)
        resolve()
      })
    })
  }

  await up()
  return {
    get port() {
      return port
    },
    get serving() {
      return server !== undefined
    },
    get openCalls() {
      return calls.size
    },
    up,
    down,
    dropReads() {
      const reads = [...calls].filter(([, kind]) => kind === 'read').map(([abort]) => abort)
      const error = unavailableError('the KurrentDB emulator dropped the read calls')
      for (const abort of reads) {
        calls.delete(abort)
        abort(error)
      }
      return reads.length
    },
  }
}

function serverCredentials(tls: { certPem: string; keyPem: string } | undefined): grpc.ServerCredentials {
  if (tls === undefined) return grpc.ServerCredentials.createInsecure()
  return grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(tls.certPem), private_key: Buffer.from(tls.keyPem) }], false)
}
