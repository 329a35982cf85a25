/**
 * One log line per request, after the response: method, path, status and milliseconds. Successes are `debug`,
 * client errors `info`, server errors `error` with the described error; probes always `debug`. Bodies and query strings are never logged
 * (settings carry secrets), only the path.
 */
import { Elysia } from 'elysia'
import { describeError, type Logger } from '../observability/logger.ts'

export interface RequestLog {
  readonly plugin: ReturnType<typeof createPlugin>
  /** Remembers the real error behind a 5xx, for that request's log line. */
  noteServerError(request: Request, error: unknown): void
}

export function createRequestLog(logger: Logger): RequestLog {
  const startedAt = new WeakMap<Request, number>()
  const serverErrors = new WeakMap<Request, unknown>()
  return {
    plugin: createPlugin(logger, startedAt, serverErrors),
    noteServerError: (request, error) => void serverErrors.set(request, error),
  }
}

function createPlugin(logger: Logger, startedAt: WeakMap<Request, number>, serverErrors: WeakMap<Request, unknown>) {
  return new Elysia({ name: 'request-log' })
    // onRequest hooks always run for every request, before routing.
    .onRequest(({ request }) => void startedAt.set(request, performance.now()))
    .onAfterResponse({ as: 'global' }, ({ request, set }) => {
      const started = startedAt.get(request)
      const status = typeof set.status === 'number' ? set.status : 200
      const fields = {
        method: request.method,
        path: new URL(request.url).pathname,
        status,
        ms: started === undefined ? undefined : Math.round((performance.now() - started) * 10) / 10,
      }
      // A probe's 503 is an answer, not a failure of ours: orchestrators ask every few seconds, and the health route
      // logs the change of state itself.
      if (fields.path.startsWith('/health/')) logger.debug('probe', fields)
      else if (status >= 500) {
        const error = serverErrors.get(request)
        logger.error('request failed', error === undefined ? fields : { ...fields, error: describeError(error) })
      } else if (status >= 400) logger.info('request rejected', fields)
      else logger.debug('request', fields)
    })
}
