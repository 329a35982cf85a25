// Which security-protocol mismatches a listener observation proves, after Kafka's listener rules: a TLS listener
// answers a plaintext client with a TLS record; a plaintext listener answers ApiVersions in plaintext; a SASL
// listener answers ApiVersions before authentication but closes on any other request; only a SASL listener
// offers SaslHandshake. A listener that did not answer proves nothing (it may simply be down).
import { describe, expect, test } from 'bun:test'
import { describeSecurityMismatch, type ListenerObservation } from '../../../../src/sink/kafka/listener-probe.ts'
import type { SecurityProtocol } from '../../../../src/sink/kafka/port.ts'

const tls: ListenerObservation = { kind: 'tls' }
const kafka = (overTls: boolean, sasl: boolean): ListenerObservation => ({ kind: 'kafka', overTls, advertisesSaslHandshake: sasl, authenticationRequired: sasl })
const silent: ListenerObservation = { kind: 'inconclusive', reason: 'ECONNREFUSED' }

describe('describeSecurityMismatch', () => {
  test.each<[SecurityProtocol, ListenerObservation, RegExp | undefined]>([
    ['plaintext', kafka(false, false), undefined],
    ['plaintext', tls, /requires TLS/],
    ['plaintext', kafka(false, true), /requires SASL authentication/],
    ['ssl', kafka(false, false), /does not offer TLS/],
    ['ssl', kafka(true, false), undefined],
    ['ssl', kafka(true, true), /requires SASL authentication/],
    ['saslPlaintext', kafka(false, true), undefined],
    ['saslPlaintext', kafka(false, false), /does not offer SASL/],
    // A real Kafka plaintext listener lists SaslHandshake too, but answers Metadata without authentication.
    ['saslPlaintext', { kind: 'kafka', overTls: false, advertisesSaslHandshake: true, authenticationRequired: false }, /does not offer SASL/],
    ['saslPlaintext', tls, /requires TLS/],
    ['saslSsl', kafka(true, true), undefined],
    ['saslSsl', kafka(true, false), /does not offer SASL/],
    ['saslSsl', kafka(false, true), /does not offer TLS/],
    ['saslSsl', silent, undefined],
    ['plaintext', silent, undefined],
  ])('%s client, %o', (protocol, observation, expected) => {
    const mismatch = describeSecurityMismatch(protocol, observation)
    if (expected === undefined) expect(mismatch).toBeUndefined()
    else {
      expect(mismatch).toMatch(expected)
      expect(mismatch).toContain('check authentication:securityProtocol')
    }
  })
})
