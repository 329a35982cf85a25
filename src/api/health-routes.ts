/**
 * Probes for orchestrators: liveness answers as soon as the server listens; readiness asks the app whether the
 * connectors are loaded and KurrentDB answers. Both are open (probes carry no credentials) and reveal nothing but
 * that state.
 */
import { Elysia } from 'elysia'
import { Type } from '@sinclair/typebox'
import { describeError, type Logger } from '../observability/logger.ts'
import { statusBody, StatusSchema } from './rpc-status.ts'

export type ReadinessCheck = () => Promise<{ ready: true } | { ready: false; reason: string }>

export const healthTag = 'Health'

const LiveResponse = Type.Object({ status: Type.Literal('live') }, { additionalProperties: false, description: 'The process is up and serving HTTP.' })
const ReadyResponse = Type.Object({ status: Type.Literal('ready') }, { additionalProperties: false, description: 'Connectors are loaded, KurrentDB answers, and nothing readiness watches is wrong.' })

export function healthRoutes(options: { checkReady: ReadinessCheck; logger: Logger }) {
  // Logged once per change of state, not once per probe.
  let lastReason: string | undefined = ''
  const noteReadiness = (reason: string | undefined) => {
    if (reason === lastReason) return
    if (reason === undefined) options.logger.info('ready')
    else options.logger.warn('not ready', { reason })
    lastReason = reason
  }
  return new Elysia({ name: 'health-routes' })
    .get('/health/live', () => ({ status: 'live' as const }), {
      response: { 200: LiveResponse },
      detail: { operationId: 'checkLiveness', summary: 'Liveness probe', description: 'Always 200 while the process serves HTTP.', tags: [healthTag], security: [] },
    })
    .get(
      '/health/ready',
      async ({ set }) => {
        let reason: string
        try {
          const readiness = await options.checkReady()
          if (readiness.ready) {
            noteReadiness(undefined)
            return { status: 'ready' as const }
          }
          reason = readiness.reason
        } catch (error) {
          options.logger.warn('the readiness check failed', { error: describeError(error) })
          reason = 'the readiness check failed; see the log'
        }
        noteReadiness(reason)
        set.status = 503
        return statusBody('UNAVAILABLE', `not ready: ${reason}`)
      },
      {
        response: { 200: ReadyResponse, 503: StatusSchema },
        detail: {
          operationId: 'checkReadiness',
          summary: 'Readiness probe',
          description:
            '200 when the connectors are loaded from KurrentDB, KurrentDB answers, every connector state change is written, and (with `--ready-fails-on-stall`) no connector is stalled; otherwise 503 with the reasons in `message`.',
          tags: [healthTag],
          security: [],
        },
      },
    )
}
