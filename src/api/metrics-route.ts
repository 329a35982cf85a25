/**
 * `GET /metrics`: the process's metrics registry in the Prometheus text exposition format. Open, like the health
 * probes, because scrapers rarely carry credentials; it shows counts and connector ids, never settings.
 */
import { Elysia } from 'elysia'
import { Type } from '@sinclair/typebox'
import type { MetricsRegistry } from '../observability/metrics.ts'

export const prometheusContentType = 'text/plain; version=0.0.4; charset=utf-8'

export function metricsRoute(options: { metrics: MetricsRegistry }) {
  return new Elysia({ name: 'metrics-route' }).get(
    '/metrics',
    ({ set }) => {
      set.headers['content-type'] = prometheusContentType
      return options.metrics.render()
    },
    {
      response: { 200: Type.String({ description: 'Prometheus text format 0.0.4.' }) },
      detail: {
        operationId: 'getMetrics',
        summary: 'Prometheus metrics',
        description: "Connector metrics under the names of KurrentDB's connector metrics (label `connector_id`), plus process metrics.",
        tags: ['Observability'],
        security: [],
      },
    },
  )
}
