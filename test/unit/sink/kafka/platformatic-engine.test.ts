// How each KafkaProducerConfig knob reaches @platformatic/kafka, checked without a broker: TLS and SASL
// cannot be exercised against the test broker (librdkafka's mock cluster speaks neither).
import { describe, expect, test } from 'bun:test'
import { compressionsAlgorithms } from '@platformatic/kafka'
import { existsSync, readFileSync } from 'node:fs'
import tls from 'node:tls'
import zlib from 'node:zlib'
import { chooseCompression } from '../../../../src/sink/kafka/platformatic-compression.ts'
import {
  clientRetryDelay,
  parseBootstrapServer,
  planPlatformaticProducer,
} from '../../../../src/sink/kafka/platformatic-engine.ts'
import type { KafkaProducerConfig } from '../../../../src/sink/kafka/port.ts'

const baseConfig: KafkaProducerConfig = {
  clientId: 'kafka-sink-unit',
  bootstrapServers: ['localhost:9092'],
  securityProtocol: 'plaintext',
  sasl: undefined,
  acks: 'all',
  compression: { type: 'zstd', level: 6 },
  brokerAddressFamily: 'any',
  reconnectBackoffMaxMs: 20_000,
  messageSendMaxRetries: 2_147_483_647,
  requestTimeoutMs: 3_000,
  deliveryTimeoutMs: 30_000,
}

const debianTrustStore = '/etc/ssl/certs/ca-certificates.crt'
const normalizePem = (pem: string) => pem.replace(/\s+/g, '')

const plan = (overrides: Partial<KafkaProducerConfig>) => planPlatformaticProducer({ ...baseConfig, ...overrides })

describe('planPlatformaticProducer', () => {
  test('acks=all: idempotent, acks -1, first InitProducerId with producerId -1 / epoch -1', () => {
    const { options, idempotent, warnings } = plan({})
    expect(idempotent).toBe(true)
    expect(options.idempotent).toBe(true)
    expect(options.acks).toBe(-1)
    expect(options.producerId).toBe(-1n)
    expect(options.producerEpoch).toBe(-1)
    expect(options.autocreateTopics).toBe(false)
    expect(warnings).toStrictEqual([])
  })

  test('acks=leader: acks 1, not idempotent (Kafka forbids it), one request in flight, with a warning', () => {
    const { options, idempotent, warnings } = plan({ acks: 'leader' })
    expect(idempotent).toBe(false)
    expect(options.acks).toBe(1)
    expect(options.maxInflights).toBe(1)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain('acks=leader')
    expect(warnings[0]).toContain('not idempotent')
    expect(warnings[0]).toContain('duplicates')
  })

  test('timeouts: Produce timeout = requestTimeoutMs, the client waits a little longer', () => {
    const { options } = plan({ requestTimeoutMs: 7_000 })
    expect(options.timeout).toBe(7_000)
    expect(options.requestTimeout).toBeGreaterThan(7_000)
    expect(options.connectTimeout).toBe(7_000)
  })

  test('messageSendMaxRetries maps to retries, working around the client turning 0 and 1 into unlimited', () => {
    expect(plan({ messageSendMaxRetries: 5 }).options.retries).toBe(5)
    expect(plan({ messageSendMaxRetries: 0 }).options.retries).toBe(false)
    const one = plan({ messageSendMaxRetries: 1 })
    expect(one.options.retries).toBe(2)
    expect(one.warnings.join('\n')).toContain('messageSendMaxRetries=1')
    expect(plan({ messageSendMaxRetries: 1, acks: 'leader' }).options.retries).toBe(1)
  })

  test('plaintext: no TLS, no SASL', () => {
    const { options } = plan({})
    expect(options.tls).toBeUndefined()
    expect(options.sasl).toBeUndefined()
  })

  test('ssl: TLS with no SASL', () => {
    const { options } = plan({ securityProtocol: 'ssl' })
    expect(options.tls).toBeDefined()
    expect(options.sasl).toBeUndefined()
  })

  // The docs: saslSsl uses the OS trust store, where private CAs must be added. Checked against Debian's bundle file
  // (read here, not through the code under test) and the runtime's bundled roots, which `ca` must not drop.
  test.skipIf(!existsSync(debianTrustStore))('ssl: the trust store holds every certificate of the OS store and every bundled root', () => {
    const ca = plan({ securityProtocol: 'saslSsl', sasl: { mechanism: 'plain', username: 'u', password: 'p' } }).options.tls?.ca
    const trusted = new Set((Array.isArray(ca) ? ca : []).map((pem) => normalizePem(String(pem))))
    const osCertificates = readFileSync(debianTrustStore, 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []
    expect(osCertificates.length).toBeGreaterThan(10)
    expect(osCertificates.filter((pem) => !trusted.has(normalizePem(pem)))).toEqual([])
    expect(tls.rootCertificates.filter((pem) => !trusted.has(normalizePem(pem)))).toEqual([])
  })

  test.each([
    ['plain', 'PLAIN'],
    ['scramSha256', 'SCRAM-SHA-256'],
    ['scramSha512', 'SCRAM-SHA-512'],
  ] as const)('saslSsl with %s: TLS and SASL %s with username and password', (mechanism, expected) => {
    const { options } = plan({ securityProtocol: 'saslSsl', sasl: { mechanism, username: 'user', password: 'secret' } })
    expect(options.tls).toBeDefined()
    expect(options.sasl).toEqual({ mechanism: expected, username: 'user', password: 'secret' })
  })

  // The settings parser refuses a SASL protocol without credentials; the engine, given one anyway, says what it does.
  test('a SASL protocol without credentials connects without authentication, with a warning', () => {
    const { options, warnings } = plan({ securityProtocol: 'saslPlaintext', sasl: undefined })
    expect(options.sasl).toBeUndefined()
    expect(warnings).toStrictEqual(['securityProtocol=saslPlaintext without SASL credentials: connecting without authentication'])
  })

  test('saslPlaintext: SASL without TLS', () => {
    const { options } = plan({
      securityProtocol: 'saslPlaintext',
      sasl: { mechanism: 'plain', username: 'user', password: 'secret' },
    })
    expect(options.tls).toBeUndefined()
    expect(options.sasl?.mechanism).toBe('PLAIN')
  })

  test('brokerAddressFamily: TLS sockets get the family; plaintext resolves bootstrap names, with a warning', () => {
    const tls = plan({ securityProtocol: 'ssl', brokerAddressFamily: 'v4' })
    expect((tls.options.tls as { family?: number }).family).toBe(4)
    expect(tls.resolveBootstrapFamily).toBeUndefined()
    expect(tls.warnings).toStrictEqual([])
    const plaintext = plan({ brokerAddressFamily: 'v6' })
    expect(plaintext.resolveBootstrapFamily).toBe(6)
    expect(plaintext.warnings).toHaveLength(1)
    expect(plaintext.warnings[0]).toContain('brokerAddressFamily=v6 applies to the bootstrap servers only')
    expect(plaintext.warnings[0]).toContain('brokers it learns from metadata resolve with either family')
    expect(plan({ brokerAddressFamily: 'v4' }).warnings).toStrictEqual([])
    expect(plan({ brokerAddressFamily: 'any' }).resolveBootstrapFamily).toBeUndefined()
  })

  test('compression: leveled codecs get our registered codec; lz4 levels are reported as unsupported', () => {
    expect(plan({ compression: { type: 'zstd', level: 6 } }).options.compression).toBe('kafka-sink-zstd-6' as never)
    // -1 is the codec's default, zstd's level 3 (ZSTD_CLEVEL_DEFAULT).
    expect(plan({ compression: { type: 'zstd', level: -1 } }).options.compression).toBe('kafka-sink-zstd-3' as never)
    expect(plan({ compression: { type: 'none', level: 6 } }).options.compression).toBe('none')
    expect(plan({ compression: { type: 'snappy', level: 6 } }).warnings).toStrictEqual([])
    const lz4 = plan({ compression: { type: 'lz4', level: 6 } })
    expect(lz4.options.compression).toBe('lz4')
    expect(lz4.warnings.join('\n')).toContain('lz4')
  })
})

describe('chooseCompression', () => {
  const sample = Buffer.from(JSON.stringify(Array.from({ length: 500 }, (_, id) => ({ id, name: `customer-${id}` }))))
  const registry = compressionsAlgorithms as unknown as Record<string, { compressSync(data: Buffer): Buffer; bitmask: number }>

  test('zstd levels compress with that level, as standard zstd with the zstd bitmask', () => {
    const fast = registry[chooseCompression('zstd', 1).codec]!
    const strong = registry[chooseCompression('zstd', 19).codec]!
    expect(fast.bitmask).toBe(4)
    const fastBytes = fast.compressSync(sample)
    const strongBytes = strong.compressSync(sample)
    expect(zlib.zstdDecompressSync(fastBytes).equals(sample)).toBe(true)
    expect(zlib.zstdDecompressSync(strongBytes).equals(sample)).toBe(true)
    expect(fastBytes.equals(strongBytes)).toBe(false)
  })

  test('gzip levels are standard gzip with the gzip bitmask; out-of-range levels are clamped with a warning', () => {
    const choice = chooseCompression('gzip', 1)
    const codec = registry[choice.codec]!
    expect(codec.bitmask).toBe(1)
    expect(zlib.gunzipSync(codec.compressSync(sample)).equals(sample)).toBe(true)
    const clamped = chooseCompression('gzip', 12)
    expect(clamped.codec).toBe('kafka-sink-gzip-9')
    expect(clamped.warning).toContain('12')
  })

  test('the asynchronous path compresses small and large batches alike into standard zstd and gzip', async () => {
    const entries = compressionsAlgorithms as unknown as Record<string, { compress(data: Buffer): Promise<Buffer> }>
    const small = Buffer.from('{"seq":1}'.repeat(100))
    const large = Buffer.from(Array.from({ length: 20_000 }, (_, index) => `{"seq":${index}}`).join(''))
    for (const data of [small, large]) {
      expect(zlib.zstdDecompressSync(await entries[chooseCompression('zstd', 6).codec]!.compress(data)).equals(data)).toBe(true)
      expect(zlib.gunzipSync(await entries[chooseCompression('gzip', 6).codec]!.compress(data)).equals(data)).toBe(true)
    }
  })

  test("the client's own codecs are left untouched", () => {
    chooseCompression('zstd', 3)
    expect(registry.zstd!.compressSync(sample).equals(zlib.zstdCompressSync(sample))).toBe(true)
  })
})

// README: the client's retries wait 100 ms, doubling, capped by reconnectBackoffMaxMs, drawn from the upper half.
describe('clientRetryDelay', () => {
  test('about 100 ms before the first retry, doubling, never above reconnectBackoffMaxMs', () => {
    const highest = () => 1
    const lowest = () => 0
    expect(clientRetryDelay(1, 20_000, highest)).toBe(100)
    expect(clientRetryDelay(1, 20_000, lowest)).toBe(50)
    expect(clientRetryDelay(2, 20_000, highest)).toBe(200)
    expect(clientRetryDelay(4, 20_000, highest)).toBe(800)
    expect(clientRetryDelay(12, 1_000, highest)).toBe(1_000)
    expect(clientRetryDelay(12, 1_000, lowest)).toBe(500)
    const drawn = clientRetryDelay(1, 20_000)
    expect(drawn).toBeGreaterThanOrEqual(50)
    expect(drawn).toBeLessThanOrEqual(100)
  })
})

describe('parseBootstrapServer', () => {
  test.each([
    ['broker:9093', { host: 'broker', port: 9093 }],
    ['broker', { host: 'broker', port: 9092 }],
    ['[::1]:9094', { host: '::1', port: 9094 }],
    ['[::1]', { host: '::1', port: 9092 }],
    ['::1', { host: '::1', port: 9092 }],
  ])('%s', (server, expected) => {
    expect(parseBootstrapServer(server)).toEqual(expected)
  })
})
