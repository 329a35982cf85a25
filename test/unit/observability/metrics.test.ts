import { describe, expect, test } from 'bun:test'
import { createMetricsRegistry, createSinkMetrics } from '../../../src/observability/metrics.ts'

describe('metrics registry', () => {
  test('renders counters, gauges and histograms in the Prometheus text format', () => {
    const registry = createMetricsRegistry()
    registry.counter('sent_total', 'Messages sent.').labelled({ connector_id: 'a' }).increment(3)
    registry.gauge('queue', 'Queue length.').labelled({ connector_id: 'a' }).set(7)
    const latency = registry.histogram('latency_s', 'Latency.', [0.1, 1]).labelled({ connector_id: 'a' })
    latency.observe(0.05)
    latency.observe(0.5)
    latency.observe(5)
    expect(registry.render()).toBe(
      [
        '# HELP sent_total Messages sent.',
        '# TYPE sent_total counter',
        'sent_total{connector_id="a"} 3',
        '# HELP queue Queue length.',
        '# TYPE queue gauge',
        'queue{connector_id="a"} 7',
        '# HELP latency_s Latency.',
        '# TYPE latency_s histogram',
        'latency_s_bucket{connector_id="a",le="0.1"} 1',
        'latency_s_bucket{connector_id="a",le="1"} 2',
        'latency_s_bucket{connector_id="a",le="+Inf"} 3',
        'latency_s_sum{connector_id="a"} 5.55',
        'latency_s_count{connector_id="a"} 3',
        '',
      ].join('\n'),
    )
  })

  test('escapes label values and forgets a connector\'s series', () => {
    const registry = createMetricsRegistry()
    const counter = registry.counter('c', 'C.')
    counter.labelled({ connector_id: 'we"ird\\id' }).increment()
    counter.labelled({ connector_id: 'kept' }).increment()
    expect(registry.render()).toContain('c{connector_id="we\\"ird\\\\id"} 1')
    registry.forget('connector_id', 'we"ird\\id')
    expect(registry.render()).not.toContain('we\\"ird')
    expect(registry.render()).toContain('c{connector_id="kept"} 1')
  })

  test('the sink metrics carry KurrentDB\'s connector metric names and process metrics', () => {
    const metrics = createSinkMetrics()
    const connector = metrics.forConnector('orders')
    connector.recordsWritten(10)
    connector.messagesConsumed(12)
    connector.consumerLag(400)
    metrics.setActiveConnectors(1)
    const text = metrics.registry.render()
    for (const name of ['kurrent_connector_active_total 1', 'kurrent_sink_written_total_records_sum{connector_id="orders"} 10', 'messaging_kurrent_consumer_message_count{connector_id="orders"} 12', 'messaging_kurrent_consumer_lag{connector_id="orders"} 400', 'process_resident_memory_bytes ']) {
      expect(text).toContain(name)
    }
  })
})
