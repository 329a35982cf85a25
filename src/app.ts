/**
 * The app: builds the KurrentDB connection, the connectors service and the HTTP server, and runs them until a
 * signal. The server listens first (liveness answers at once); connectors load from KurrentDB in the background,
 * retrying until it is reachable, and the API answers 503 until they have. The KurrentDB and Kafka clients are
 * imported only then: importing them takes most of the start-up time (measured ~0.8 s for the Kafka client alone).
 */
import { readFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import type { ApiCredentials } from './api/auth.ts'
import { createHttpApi } from './api/http-api.ts'
import type { ServeOptions } from './cli.ts'
import { ConnectorError } from './connectors/connector-errors.ts'
import type { ConnectorService, RunningConnectorService } from './connectors/connector-service.ts'
import { applyConnectorsFile, ConnectorsFileError } from './connectors/connectors-file.ts'
import { createLogger, type Logger } from './observability/logger.ts'
import { createSinkMetrics } from './observability/metrics.ts'
import type { OwnershipOptions } from './connectors/ownership-coordinator.ts'
import { redactConnectionString } from './observability/redaction.ts'
import type { KurrentDbConnection } from './source/kurrentdb-connection.ts'

/** Exit codes: 0 after a clean shutdown, 2 for a configuration the process cannot start with. */
const exitBadConfiguration = 2

export async function runApp(options: ServeOptions, version: string): Promise<number> {
  const logger = createLogger({ level: options.logLevel })
  for (const warning of options.warnings) logger.warn(warning)
  const token = await readDataProtectionToken(options)
  if (token instanceof Error) {
    process.stderr.write(`kafka-sink: ${token.message}\n`)
    return exitBadConfiguration
  }
  const credentials = await readApiCredentials(options)
  if (credentials instanceof Error) {
    process.stderr.write(`kafka-sink: ${credentials.message}\n`)
    return exitBadConfiguration
  }
  if (options.insecure) logger.warn('the management API accepts requests without credentials (--insecure); use it only on a trusted machine')

  const metrics = createSinkMetrics()
  let loaded: LoadedConnectors | undefined
  let startupFailure: Error | undefined
  let lastUnreachableDetail: string | undefined

  const api = createHttpApi({
    service: whenLoaded(() => loaded?.service),
    credentials,
    allowedHosts: options.allowedHosts,
    // The probe is unauthenticated: it answers the reason's class, and the client's own error text (addresses,
    // certificate names) goes to the log, once each time it changes rather than on every probe.
    checkReady: async () => {
      if (loaded === undefined) return { ready: false, reason: 'loading connectors from KurrentDB' }
      const reasons: string[] = []
      try {
        await withTimeout(loaded.connection.checkReachable(), 2_000)
        lastUnreachableDetail = undefined
      } catch (error) {
        const detail = (error as Error).message
        if (detail !== lastUnreachableDetail) logger.warn('KurrentDB does not answer the readiness check', { error })
        lastUnreachableDetail = detail
        reasons.push('KurrentDB is not reachable; the details are in the log')
      }
      const health = loaded.service.health()
      if (health.unrecordedStates.length > 0) reasons.push(`state changes not yet written to KurrentDB for connectors ${health.unrecordedStates.join(', ')}`)
      if (options.readyFailsOnStall && health.stalled.length > 0) reasons.push(`stalled connectors: ${health.stalled.join(', ')}`)
      return reasons.length === 0 ? { ready: true } : { ready: false, reason: reasons.join('; ') }
    },
    metrics: metrics.registry,
    logger,
    version,
  })
  const tls = await readTlsFiles(options)
  if (tls instanceof Error) {
    process.stderr.write(`kafka-sink: ${tls.message}\n`)
    return exitBadConfiguration
  }
  let server
  try {
    server = api.listen({ hostname: options.host, port: options.port, ...(tls === undefined ? {} : { tls }) })
  } catch (error) {
    process.stderr.write(`kafka-sink: cannot listen on ${options.host}:${options.port}: ${(error as Error).message}\n`)
    return exitBadConfiguration
  }
  // The default instance id names the machine and the port, so instances side by side on one host differ.
  const instanceId = options.instanceId ?? `${hostname()}:${server.server?.port ?? options.port}`
  logger.info('kafka-sink listening', {
    version,
    host: options.host,
    port: server.server?.port,
    protocol: tls === undefined ? 'http' : 'https',
    instanceId,
    kurrentdb: redactConnectionString(options.kurrentdb),
  })

  let stopping = false
  let loading: Promise<void> = Promise.resolve()
  let wakeLoader!: () => void
  const stopRequested = new Promise<void>((resolve) => (wakeLoader = resolve))
  const stopped = new Promise<number>((resolve) => {
    const shutdown = async (signal: string) => {
      if (stopping) {
        logger.warn('second signal; exiting without waiting for connectors', { signal })
        resolve(1)
        return
      }
      stopping = true
      wakeLoader()
      logger.info('shutting down: flushing connectors and committing checkpoints', { signal })
      await server.stop()
      // Connectors still loading may already run: the loader stops them (final commit included) before it returns.
      await loading
      await loaded?.service.shutdown()
      await loaded?.connection.dispose().catch(() => {})
      logger.info('stopped')
      resolve(startupFailure === undefined ? 0 : exitBadConfiguration)
    }
    process.on('SIGTERM', () => void shutdown('SIGTERM'))
    process.on('SIGINT', () => void shutdown('SIGINT'))
    loading = loadConnectors(token, options, { instanceId, leaseDurationMs: options.leaseDurationMs }, logger, metrics, () => stopping, stopRequested).then(
      (result) => {
        loaded = result
      },
      (error: unknown) => {
        startupFailure = error as Error
        process.stderr.write(`kafka-sink: ${(error as Error).message}\n`)
        void shutdown('startup failure')
      },
    )
  })
  return stopped
}

async function readDataProtectionToken(options: ServeOptions): Promise<string | undefined | Error> {
  if (options.dataProtection === undefined) return undefined
  if ('token' in options.dataProtection) return options.dataProtection.token
  return readSecretFile(options.dataProtection.tokenFile, 'data-protection token')
}

async function readApiCredentials(options: ServeOptions): Promise<ApiCredentials | undefined | Error> {
  const configured = options.apiCredentials
  if (configured === undefined || 'password' in configured) return configured
  const password = await readSecretFile(configured.passwordFile, 'API password')
  return password instanceof Error ? password : { user: configured.user, password }
}

/** The certificate and key for HTTPS, read once at start-up (a bad file fails the start, not the first request). */
async function readTlsFiles(options: ServeOptions): Promise<{ cert: string; key: string } | undefined | Error> {
  if (options.tls === undefined) return undefined
  const cert = await readSecretFile(options.tls.certFile, 'TLS certificate')
  if (cert instanceof Error) return cert
  const key = await readSecretFile(options.tls.keyFile, 'TLS key')
  if (key instanceof Error) return key
  if (!cert.includes('-----BEGIN CERTIFICATE-----')) return new Error(`the TLS certificate file ${options.tls.certFile} holds no PEM certificate`)
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key)) return new Error(`the TLS key file ${options.tls.keyFile} holds no PEM private key`)
  return { cert, key }
}

/** A secret kept in a file (a Kubernetes or Docker secret): its content without the trailing newline editors add. */
async function readSecretFile(file: string, what: string): Promise<string | Error> {
  try {
    const secret = (await readFile(file, 'utf8')).trim()
    return secret === '' ? new Error(`the ${what} file ${file} is empty`) : secret
  } catch (error) {
    return new Error(`cannot read the ${what} file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
}

interface LoadedConnectors {
  readonly connection: KurrentDbConnection
  readonly service: RunningConnectorService
}

/**
 * Loads the connectors, retrying while KurrentDB is unreachable; then applies the connectors file, if any. Each
 * attempt uses a new client: one whose first connection failed never recovers its stream reads (measured with the
 * emulator going up after the client was created), so retrying on it would wait forever.
 */
async function loadConnectors(
  token: string | undefined,
  options: ServeOptions,
  ownership: OwnershipOptions,
  logger: Logger,
  metrics: ReturnType<typeof createSinkMetrics>,
  isStopping: () => boolean,
  stopRequested: Promise<void>,
): Promise<LoadedConnectors | undefined> {
  const [{ connectToKurrentDb }, { createConnectorService }, { accessRefusedMessage, isAccessRefused }] = await Promise.all([
    import('./source/kurrentdb-connection.ts'),
    import('./connectors/create-connector-service.ts'),
    import('./source/kurrentdb-access.ts'),
  ])
  for (let attempt = 1; !isStopping(); attempt++) {
    const connection = connectToKurrentDb(options.kurrentdb)
    let service: RunningConnectorService | undefined
    try {
      service = await createConnectorService({
        connection,
        dataProtectionToken: token,
        logger,
        metrics,
        tuning: { stallAfterMs: options.stallAfterMs, commitFailureLimitMs: options.commitFailureLimitMs },
        ownership,
      })
      logger.info('connectors loaded from KurrentDB')
      if (options.connectorsFile !== undefined) await applyConnectorsFile(service, options.connectorsFile, logger)
      if (!isStopping()) return { connection, service }
      await service.shutdown()
      await connection.dispose().catch(() => {})
      return undefined
    } catch (error) {
      await service?.shutdown()
      await connection.dispose().catch(() => {})
      if (error instanceof ConnectorsFileError) throw error
      // Waiting does not grant rights: a refused user is a configuration to fix, said once, at start.
      if (isAccessRefused(error)) throw new Error(accessRefusedMessage(error))
      const delayMs = Math.min(10_000, 250 * 2 ** Math.min(attempt, 6))
      logger.warn('cannot load connectors from KurrentDB yet; retrying', { error, attempt, delayMs })
      await Promise.race([Bun.sleep(delayMs), stopRequested])
    }
  }
  return undefined
}

/** The API's view of the service: until connectors are loaded, every call answers UNAVAILABLE at once. */
function whenLoaded(current: () => ConnectorService | undefined): ConnectorService {
  const loaded = (): ConnectorService => {
    const service = current()
    if (service === undefined) throw new ConnectorError('UNAVAILABLE', 'kafka-sink is still loading connectors from KurrentDB; try again shortly')
    return service
  }
  return {
    create: (...args) => loaded().create(...args),
    reconfigure: (...args) => loaded().reconfigure(...args),
    rename: (...args) => loaded().rename(...args),
    start: (...args) => loaded().start(...args),
    reset: (...args) => loaded().reset(...args),
    stop: (...args) => loaded().stop(...args),
    delete: (...args) => loaded().delete(...args),
    list: (...args) => loaded().list(...args),
    getSettings: (...args) => loaded().getSettings(...args),
    getConfiguration: (...args) => loaded().getConfiguration(...args),
  }
}

function withTimeout<T>(promise: Promise<T>, milliseconds: number): Promise<T> {
  return Promise.race([promise, Bun.sleep(milliseconds).then(() => Promise.reject(new Error(`no answer within ${milliseconds} ms`)))])
}
