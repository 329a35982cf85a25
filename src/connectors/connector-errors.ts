/**
 * The errors the connectors service raises, each with the google.rpc code KurrentDB's connectors API answers with
 * for the same situation. `api/` maps them to HTTP in one place; nothing else needs to know about HTTP.
 */
import type { FieldViolation } from '../settings/parse-sink-settings.ts'

export const connectorErrorCodes = [
  'INVALID_ARGUMENT', // 400: bad id, name or settings (with field violations)
  'FAILED_PRECONDITION', // 400: the connector's state does not allow the command
  'NOT_FOUND', // 404: no such connector (also on commands: KurrentDB says 400 there, which hides typos)
  'ALREADY_EXISTS', // 409: create of an id that exists
  'ABORTED', // 409: a concurrent command changed the connector first
  'UNAVAILABLE', // 503: KurrentDB cannot be reached
  'INTERNAL', // 500: a bug; the message is logged, the client sees a generic text
] as const
export type ConnectorErrorCode = (typeof connectorErrorCodes)[number]

export class ConnectorError extends Error {
  override readonly name = 'ConnectorError'
  constructor(
    readonly code: ConnectorErrorCode,
    message: string,
    readonly details: { readonly fieldViolations?: readonly FieldViolation[]; readonly connectorId?: string; readonly cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
  }
}

export function invalidArgument(fieldViolations: readonly FieldViolation[]): ConnectorError {
  // KurrentDB's message is the violations as a JSON object of field → messages; clients that parse it keep working.
  const grouped: Record<string, string[]> = {}
  for (const violation of fieldViolations) (grouped[violation.field] ??= []).push(violation.description)
  return new ConnectorError('INVALID_ARGUMENT', JSON.stringify(grouped), { fieldViolations })
}

export function connectorNotFound(connectorId: string): ConnectorError {
  return new ConnectorError('NOT_FOUND', `Connector ${connectorId} not found`, { connectorId })
}
