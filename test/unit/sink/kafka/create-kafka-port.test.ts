// The port the pipeline gets: the engine loads on first use, and every call reaches it. Against a port nothing
// listens on (connection refused at once), so the engine's answers are quick and known.
import { describe, expect, test } from 'bun:test'
import { createKafkaPort } from '../../../../src/sink/kafka/create-kafka-port.ts'
import { silentLogger } from '../../../../src/observability/logger.ts'
import type { KafkaProducerConfig } from '../../../../src/sink/kafka/port.ts'

const refused: KafkaProducerConfig = {
  clientId: 'kafka-sink-port-test',
  bootstrapServers: ['127.0.0.1:1'],
  securityProtocol: 'plaintext',
  sasl: undefined,
  acks: 'all',
  compression: { type: 'none', level: 0 },
  brokerAddressFamily: 'v4',
  reconnectBackoffMaxMs: 50,
  messageSendMaxRetries: 0,
  requestTimeoutMs: 500,
  deliveryTimeoutMs: 1_000,
}

describe('createKafkaPort', () => {
  test('connect and send reach the engine: a refused connection is a transient BROKERS_UNAVAILABLE', async () => {
    const port = createKafkaPort(refused, silentLogger)
    expect(port.lastRetriedError?.()).toBeUndefined()
    const connected = await port.connect().then(() => undefined, (error: unknown) => error)
    expect(connected).toMatchObject({ name: 'KafkaSendError', code: 'BROKERS_UNAVAILABLE', transient: true })
    // Kafka-side failures are outcomes, never rejections (the port's contract).
    const outcomes = await port.send('orders', [{ key: null, value: Buffer.from('x'), headers: new Map(), timestamp: 0n }])
    expect(outcomes).toHaveLength(1)
    expect(outcomes[0]).toMatchObject({ delivered: false, error: { transient: true } })
    await port.close({ flush: false })
  }, 20_000)

  test("once the engine has loaded, lastRetriedError is the engine's: the refused connection it retried", async () => {
    const port = createKafkaPort({ ...refused, messageSendMaxRetries: 3 }, silentLogger)
    const before = Date.now()
    await port.connect().catch(() => undefined)
    const retried = port.lastRetriedError?.()
    expect(retried?.error).toMatchObject({ name: 'KafkaSendError', code: 'BROKERS_UNAVAILABLE', transient: true })
    expect(retried!.error.message).toContain('ECONNREFUSED')
    expect(retried!.at).toBeGreaterThanOrEqual(before)
    await port.close({ flush: false })
  }, 20_000)

  test('close reaches the engine: a send after it is refused', async () => {
    const port = createKafkaPort(refused, silentLogger)
    await port.close({ flush: false })
    const sent = await port.send('orders', [{ key: null, value: Buffer.from('x'), headers: new Map(), timestamp: 0n }]).then(
      () => undefined,
      (error: unknown) => error,
    )
    expect(sent).toBeInstanceOf(Error)
    expect((sent as Error).message).toContain('after close')
  }, 20_000)

  test('--kafka-engine librdkafka loads the librdkafka client, not the default engine (its addon cannot load under Bun)', async () => {
    const failure = await createKafkaPort(refused, silentLogger, 'librdkafka').connect().then(() => undefined, (error: unknown) => error)
    // The default engine would answer the refused connection with a KafkaSendError (the test above); the librdkafka
    // engine gets no further than loading @confluentinc/kafka-javascript's native addon, built for Node's ABI.
    expect(failure).toBeInstanceOf(Error)
    expect((failure as Error).name).not.toBe('KafkaSendError')
    expect((failure as Error).message).toMatch(/NODE_MODULE_VERSION|kafka-javascript|Cannot find|binding/)
  })
})
