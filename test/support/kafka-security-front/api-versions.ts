/**
 * ApiVersions (key 18) responses, patched so that clients see the SASL APIs the front answers itself.
 *
 * ApiVersions Response v0 => error_code [api_keys]                     api_keys => api_key min max
 *                      v1–v2 => error_code [api_keys] throttle_time_ms
 *                      v3+   => error_code COMPACT[api_keys + TAG_BUFFER] throttle_time_ms TAG_BUFFER
 * Its response header is always v0 (no tagged fields), even for v3+: clients must read it before they know what
 * the broker supports (KIP-511). And when a broker does not support the requested version it answers
 * UNSUPPORTED_VERSION in the v0 body layout, so the client can retry lower; such error answers are passed on as
 * they are.
 */
import { KafkaProtocolError, Reader, Writer } from './protocol.ts'

export const apiKeys = {
  Metadata: 3,
  SaslHandshake: 17,
  ApiVersions: 18,
  SaslAuthenticate: 36,
} as const

export interface ApiVersionRange {
  readonly apiKey: number
  readonly minVersion: number
  readonly maxVersion: number
}

/**
 * SaslHandshake v0–1 and SaslAuthenticate v0–2: what the front implements (sasl.ts). v0 of the handshake means
 * the pre-KIP-152 flow (raw SASL tokens after the handshake), v1 means tokens in SaslAuthenticate requests.
 */
export const saslApiVersions: readonly ApiVersionRange[] = [
  { apiKey: apiKeys.SaslHandshake, minVersion: 0, maxVersion: 1 },
  { apiKey: apiKeys.SaslAuthenticate, minVersion: 0, maxVersion: 2 },
]

/** Rebuilds `frame` (a whole ApiVersions response, header included) with `added` replacing same-key entries. */
export function patchApiVersionsResponse(frame: Buffer, requestVersion: number, added: readonly ApiVersionRange[]): Buffer {
  const reader = new Reader(frame)
  const correlationId = reader.int32()
  const errorCode = reader.int16()
  if (errorCode !== 0) return frame
  const flexible = requestVersion >= 3
  const count = reader.arrayLength(flexible)
  if (count < 0) throw new KafkaProtocolError('ApiVersions response without an api_keys array')
  const kept: Buffer[] = []
  const replacedKeys = new Set(added.map((range) => range.apiKey))
  for (let index = 0; index < count; index++) {
    const start = reader.offset
    const apiKey = reader.int16()
    reader.int16()
    reader.int16()
    if (flexible) reader.skipTaggedFields()
    if (!replacedKeys.has(apiKey)) kept.push(reader.buffer.subarray(start, reader.offset))
  }
  const writer = new Writer().int32(correlationId).int16(errorCode).arrayLength(kept.length + added.length, flexible)
  for (const entry of kept) writer.raw(entry)
  for (const range of added) {
    writer.int16(range.apiKey).int16(range.minVersion).int16(range.maxVersion)
    if (flexible) writer.noTaggedFields()
  }
  // throttle_time_ms (v1+) and the trailing TAG_BUFFER (v3+) are not ours to change.
  return writer.raw(reader.rest()).build()
}

/** The api_keys of a successful ApiVersions response (for tests and diagnostics). */
export function readApiVersionsResponse(frame: Buffer, requestVersion: number): { errorCode: number; ranges: ApiVersionRange[] } {
  const reader = new Reader(frame)
  reader.int32()
  const errorCode = reader.int16()
  const flexible = requestVersion >= 3 && errorCode === 0
  const count = reader.arrayLength(flexible)
  const ranges: ApiVersionRange[] = []
  for (let index = 0; index < count; index++) {
    ranges.push({ apiKey: reader.int16(), minVersion: reader.int16(), maxVersion: reader.int16() })
    if (flexible) reader.skipTaggedFields()
  }
  return { errorCode, ranges }
}
