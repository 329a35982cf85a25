/**
 * api/ owns kafka-sink's HTTP surface: the connector management routes with the paths, bodies, status codes and
 * google.rpc.Status error bodies of KurrentDB's connectors API (so existing scripts keep working), HTTP Basic
 * authentication, the request body cap, the mapping of every error to a response (error-mapping.ts, the one place),
 * request logging, the health probes, the Prometheus endpoint, and the OpenAPI document and its page. It holds no
 * connector logic: handlers pass plain values to the `ConnectorService`.
 *
 * One Elysia instance per feature; this file composes them. `app.ts` calls `.listen` on the result; tests call
 * `.handle(new Request(...))`.
 */
import { Elysia } from 'elysia'
import type { ConnectorService } from '../connectors/connector-service.ts'
import type { Logger } from '../observability/logger.ts'
import type { MetricsRegistry } from '../observability/metrics.ts'
import { basicAuthentication, type ApiCredentials } from './auth.ts'
import { connectorRoutes } from './connector-routes.ts'
import { documentedComponents } from './connector-schemas.ts'
import { docsRoutes } from './docs-routes.ts'
import { errorMapping } from './error-mapping.ts'
import { healthRoutes, type ReadinessCheck } from './health-routes.ts'
import { metricsRoute } from './metrics-route.ts'
import { buildOpenApiDocument, type OpenApiDocument, type RouteDescription } from './openapi.ts'
import { defaultMaxBodyBytes } from './request-body.ts'
import { createRequestLog } from './request-log.ts'
import { requestOriginGuard } from './request-origin.ts'

export interface HttpApiOptions {
  readonly service: ConnectorService
  /** undefined = `--insecure`: no authentication (app.ts warns about it). */
  readonly credentials: ApiCredentials | undefined
  readonly checkReady: ReadinessCheck
  readonly metrics: MetricsRegistry
  readonly logger: Logger
  readonly version: string
  /** Host names accepted besides loopback ones when there are no credentials (`--allowed-hosts`). */
  readonly allowedHosts?: readonly string[]
  /** Largest accepted request body; larger ones get 413. Default 1 MiB. */
  readonly maxBodyBytes?: number
}

/** The management routes; everything else (probes, metrics, docs) is open. */
export function isManagementPath(pathname: string): boolean {
  return pathname === '/connectors' || pathname.startsWith('/connectors/')
}

export function createHttpApi(options: HttpApiOptions) {
  const maxBodyBytes = options.maxBodyBytes ?? defaultMaxBodyBytes
  const requestLog = createRequestLog(options.logger)
  let document: OpenApiDocument | undefined
  let routeMatchers: readonly RouteMatcher[] | undefined

  const app = new Elysia({
    name: 'kafka-sink-api',
    // Elysia's normalization would silently drop unknown body fields; we reject them instead, and every response
    // is built from its schema's fields.
    normalize: false,
    // No `serve.maxRequestBodySize`: Bun would answer a body over it with a bare 413 before the API sees it. Bun
    // streams bodies, so the API's own cap (request-body.ts) bounds memory and answers with a Status body.
  })
    .use(requestLog.plugin)
    .use(
      errorMapping({
        allowedMethods: (pathname): string[] => allowedMethods((routeMatchers ??= routeMatchersOf(app.routes)), pathname),
        onServerError: requestLog.noteServerError,
      }),
    )
    .use(requestOriginGuard({ isProtected: isManagementPath, allowedHosts: options.credentials === undefined ? (options.allowedHosts ?? []) : undefined }))
    .use(basicAuthentication({ credentials: options.credentials, isProtected: isManagementPath }))
    .use(connectorRoutes({ service: options.service, maxBodyBytes }))
    .use(healthRoutes({ checkReady: options.checkReady, logger: options.logger }))
    .use(metricsRoute({ metrics: options.metrics }))
    .use(docsRoutes({ document: (): OpenApiDocument => (document ??= buildOpenApiDocument(describeRoutes(app.routes), { version: options.version, documentedComponents })) }))
  return app
}

export type HttpApi = ReturnType<typeof createHttpApi>

interface RouteMatcher {
  readonly method: string
  readonly pattern: RegExp
}

function routeMatchersOf(routes: readonly { method: string; path: string }[]): RouteMatcher[] {
  return routes.map(({ method, path }) => ({
    method,
    pattern: new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z0-9_]+/g, '[^/]+')}/?$`),
  }))
}

/** For 405 and its `Allow` header; HEAD is served for every GET route. */
function allowedMethods(matchers: readonly RouteMatcher[], pathname: string): string[] {
  const methods = new Set(matchers.filter(({ pattern }) => pattern.test(pathname)).map(({ method }) => method))
  if (methods.has('GET')) methods.add('HEAD')
  return [...methods].sort()
}

// Elysia types a route's hooks as `any` (AnyLocalHook); this is the boundary where they become plain values.
function describeRoutes(routes: Elysia['routes']): RouteDescription[] {
  return routes.map((route) => ({
    method: route.method,
    path: route.path,
    params: route.hooks.params as unknown,
    query: route.hooks.query as unknown,
    body: route.hooks.body as unknown,
    response: route.hooks.response as unknown,
    detail: route.hooks.detail as RouteDescription['detail'],
  }))
}
