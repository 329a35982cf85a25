/**
 * The SASL requests the front answers itself (KIP-43, KIP-152):
 *
 *   SaslHandshake Request v0–1    => mechanism STRING                  (request header v1)
 *   SaslHandshake Response v0–1   => error_code [mechanisms STRING]    (response header v0)
 *   SaslAuthenticate Request v0–1 => auth_bytes BYTES                  (request header v1)
 *                            v2   => auth_bytes COMPACT_BYTES TAG_BUFFER (flexible: request header v2)
 *   SaslAuthenticate Response v0  => error_code error_message NULLABLE_STRING auth_bytes BYTES
 *                             v1  => … + session_lifetime_ms INT64
 *                             v2  => the v1 fields with compact types + TAG_BUFFER (response header v1)
 *
 * After a v0 handshake the client sends the SASL tokens as raw size-prefixed frames, without Kafka headers, and
 * the server answers the same way; after a v1 handshake the tokens travel in SaslAuthenticate.
 */
import { Reader, requestBodyOffset, responseFrame, Writer, framed } from './protocol.ts'

export const kafkaErrors = {
  NONE: 0,
  UNSUPPORTED_SASL_MECHANISM: 33,
  ILLEGAL_SASL_STATE: 34,
  UNSUPPORTED_VERSION: 35,
  SASL_AUTHENTICATION_FAILED: 58,
} as const

const firstFlexibleSaslAuthenticate = 2
const firstSaslAuthenticateWithLifetime = 1

export function readSaslHandshakeMechanism(frame: Buffer): string {
  return new Reader(frame, requestBodyOffset(frame, false)).nullableString() ?? ''
}

export function saslHandshakeResponse(correlationId: number, errorCode: number, mechanisms: readonly string[]): Buffer {
  const body = new Writer().int16(errorCode).arrayLength(mechanisms.length, false)
  for (const mechanism of mechanisms) body.nullableString(mechanism)
  return responseFrame(correlationId, false, body.build())
}

export function readSaslAuthenticateBytes(frame: Buffer, apiVersion: number): Buffer {
  const flexible = apiVersion >= firstFlexibleSaslAuthenticate
  const reader = new Reader(frame, requestBodyOffset(frame, flexible))
  return flexible ? reader.compactBytes() : reader.classicBytes()
}

/**
 * session_lifetime_ms is 0: the front never asks clients to re-authenticate (KIP-368), so a connection stays
 * authenticated until it closes.
 */
export function saslAuthenticateResponse(
  correlationId: number,
  apiVersion: number,
  answer: { readonly errorCode: number; readonly errorMessage: string | null; readonly authBytes: Buffer },
): Buffer {
  const flexible = apiVersion >= firstFlexibleSaslAuthenticate
  const body = new Writer().int16(answer.errorCode)
  if (flexible) body.compactNullableString(answer.errorMessage).compactBytes(answer.authBytes)
  else body.nullableString(answer.errorMessage).classicBytes(answer.authBytes)
  if (apiVersion >= firstSaslAuthenticateWithLifetime) body.int64(0n)
  if (flexible) body.noTaggedFields()
  return responseFrame(correlationId, flexible, body.build())
}

/** A raw SASL token frame (the v0 handshake flow). */
export function rawSaslToken(token: Buffer): Buffer {
  return framed(token)
}
