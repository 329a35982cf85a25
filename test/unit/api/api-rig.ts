/**
 * The HTTP API over the real connectors service, which stores its connectors in the in-process KurrentDB emulator.
 * Requests go through `app.handle` (no socket). Every response body and log line is kept, so tests can check that a
 * secret never appears in either.
 */
import { createHttpApi, type HttpApi } from '../../../src/api/http-api.ts'
import type { ApiCredentials } from '../../../src/api/auth.ts'
import type { ReadinessCheck } from '../../../src/api/health-routes.ts'
import type { RunningConnectorService } from '../../../src/connectors/connector-service.ts'
import { createConnectorService } from '../../../src/connectors/create-connector-service.ts'
import { createLogger } from '../../../src/observability/logger.ts'
import { createSinkMetrics, type SinkMetrics } from '../../../src/observability/metrics.ts'
import { connectToKurrentDb, type KurrentDbConnection } from '../../../src/source/kurrentdb-connection.ts'
import { startKurrentDbEmulator, type KurrentDbEmulator, type KurrentDbEmulatorOptions } from '../../support/kurrentdb-emulator.ts'

export const apiUser = 'admin'
export const apiPassword = 'changeit-api-password'
export const dataProtectionToken = 'api-tests-data-protection-token'

export function basicAuthorization(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`
}

export interface ApiResponse {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  /** The body parsed as JSON (throws when it is not JSON). */
  readonly json: unknown
}

export interface RequestOptions {
  /** Serialized as JSON; a string is sent as it is. */
  readonly body?: unknown
  /** `Authorization` header: the rig's valid one unless given; `null` sends none. */
  readonly authorization?: string | null
  readonly headers?: Readonly<Record<string, string>>
}

export interface ApiRig {
  readonly app: HttpApi
  readonly emulator: KurrentDbEmulator
  readonly metrics: SinkMetrics
  /** The connectors service behind the API (for shutdown tests). */
  readonly service: RunningConnectorService
  request(method: string, path: string, options?: RequestOptions): Promise<ApiResponse>
  /** Sends a prepared Request (streams, odd headers) and records the response like `request`. */
  send(request: Request): Promise<ApiResponse>
  /** Every response body so far, in order. */
  readonly responseBodies: readonly string[]
  /** Every log line so far. */
  readonly logLines: readonly string[]
  close(): Promise<void>
}

export async function startApiRig(
  options: { credentials?: ApiCredentials | null; checkReady?: ReadinessCheck; maxBodyBytes?: number; allowedHosts?: readonly string[]; emulator?: KurrentDbEmulatorOptions } = {},
): Promise<ApiRig> {
  const emulator = await startKurrentDbEmulator(options.emulator)
  let connection: KurrentDbConnection | undefined
  let service: RunningConnectorService | undefined
  try {
    connection = connectToKurrentDb(emulator.connectionString)
    const logLines: string[] = []
    const logger = createLogger({ level: 'debug', write: (line) => void logLines.push(line) })
    const metrics = createSinkMetrics()
    // A short stop grace: tests stop connectors whose Kafka is unreachable (the tutorial's SASL settings against the
    // plaintext test broker), and shutdown waits for it.
    service = await createConnectorService({ connection, dataProtectionToken, logger, metrics, tuning: { stopGraceMs: 500 }, ownership: { instanceId: 'api-rig', leaseDurationMs: 15_000 } })
    const app = createHttpApi({
      service,
      credentials: options.credentials === null ? undefined : (options.credentials ?? { user: apiUser, password: apiPassword }),
      checkReady: options.checkReady ?? (async () => ({ ready: true })),
      metrics: metrics.registry,
      logger,
      version: '0.0.0-test',
      ...(options.maxBodyBytes === undefined ? {} : { maxBodyBytes: options.maxBodyBytes }),
      ...(options.allowedHosts === undefined ? {} : { allowedHosts: options.allowedHosts }),
    })
    const responseBodies: string[] = []
    const send = async (request: Request): Promise<ApiResponse> => {
      const response = await app.handle(request)
      const text = await response.text()
      responseBodies.push(text)
      let parsed: unknown
      let parseError: unknown
      try {
        parsed = JSON.parse(text)
      } catch (error) {
        parseError = error
      }
      return {
        status: response.status,
        headers: response.headers,
        text,
        get json() {
          if (parseError !== undefined) throw new Error(`not JSON (${response.status}): ${text.slice(0, 200)}`)
          return parsed
        },
      }
    }
    const openedService = service
    const openedConnection = connection
    return {
      app,
      emulator,
      metrics,
      service: openedService,
      responseBodies,
      logLines,
      send,
      request: (method, path, requestOptions = {}) => {
        const headers: Record<string, string> = { ...requestOptions.headers }
        const authorization = requestOptions.authorization === undefined ? basicAuthorization(apiUser, apiPassword) : requestOptions.authorization
        if (authorization !== null) headers.authorization = authorization
        let body: string | undefined
        if (requestOptions.body !== undefined) {
          body = typeof requestOptions.body === 'string' ? requestOptions.body : JSON.stringify(requestOptions.body)
          headers['content-type'] ??= 'application/json'
        }
        return send(new Request(`http://localhost${path}`, { method, headers, ...(body === undefined ? {} : { body }) }))
      },
      close: async () => {
        await openedService.shutdown()
        await openedConnection.dispose()
        await emulator.close()
      },
    }
  } catch (error) {
    await service?.shutdown().catch(() => {})
    await connection?.dispose().catch(() => {})
    await emulator.close()
    throw error
  }
}

/** Polls the list until the connector is in `state` (the runtime records states asynchronously). */
export async function waitForState(rig: ApiRig, connectorId: string, state: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    const response = await rig.request('GET', `/connectors?connectorId=${connectorId}`)
    const items = (response.json as { items: { state: string }[] }).items
    last = items[0]
    if (items[0]?.state === state) return
    await Bun.sleep(50)
  }
  throw new Error(`connector ${connectorId} did not reach ${state} within ${timeoutMs} ms; last seen ${JSON.stringify(last)}`)
}

/** The settings of a kafka-sink connector that validate, reading `example-stream` into `topic`. */
export function validSettings(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    instanceTypeName: 'kafka-sink',
    topic: 'customers',
    bootstrapServers: 'localhost:9092',
    'subscription:filter:scope': 'stream',
    'subscription:filter:filterType': 'streamId',
    'subscription:filter:expression': 'example-stream',
    ...overrides,
  }
}
