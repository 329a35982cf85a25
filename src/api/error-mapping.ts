/**
 * The one place where errors become HTTP responses: every error (the service's, the HTTP layer's, Elysia's
 * validation, parse and routing errors, and bugs) leaves as a google.rpc.Status body with the status code that
 * KurrentDB's connectors API uses for the same situation. Client mistakes are never 500s, and a 500 never shows
 * more than a generic message; the real error goes to the log.
 */
import { ValueErrorType } from '@sinclair/typebox/errors'
import { Elysia, NotFoundError, ParseError, ValidationError } from 'elysia'
import { ConnectorError, invalidArgument } from '../connectors/connector-errors.ts'
import type { FieldViolation } from '../settings/parse-sink-settings.ts'
import { connectorIdViolations } from '../connectors/connector-identity.ts'
import { positionMessage } from './connector-schemas.ts'
import { badRequestDetail, RequestError, resourceInfoDetail, rpcCodes, statusBody, type RpcCodeName, type Status, type StatusDetail } from './rpc-status.ts'

export interface ErrorResponse {
  readonly httpStatus: number
  readonly body: Status
  readonly headers: Readonly<Record<string, string>>
  /** Set for 5xx caused by a failure on our side: what the log should describe. */
  readonly serverError?: unknown
}

export const internalErrorMessage = 'kafka-sink failed to handle the request; the details are in its log'

export interface ErrorContext {
  readonly method: string
  readonly pathname: string
  /** Methods the API serves on this path (empty when no route matches it). */
  readonly allowedMethods: (pathname: string) => readonly string[]
}

export function mapError(error: unknown, context: ErrorContext): ErrorResponse {
  if (error instanceof ConnectorError) return fromConnectorError(error)
  if (error instanceof RequestError) {
    const response = respond(error.rpcCode, error.message, violationDetails(error.options.fieldViolations), error.options.headers)
    return error.options.httpStatus === undefined ? response : { ...response, httpStatus: error.options.httpStatus }
  }
  if (error instanceof ParseError) {
    // Our body reader's errors reach here wrapped by Elysia; anything else it wraps is a body it could not read.
    if (error.cause instanceof RequestError) return mapError(error.cause, context)
    return respond('INVALID_ARGUMENT', 'The request body could not be read as JSON', [badRequestDetail([{ field: 'body', description: 'The request body could not be read as JSON' }])])
  }
  if (error instanceof ValidationError) {
    // A response that does not match its own schema is our bug, not the client's.
    if (error.type === 'response') return internal(error)
    return fromConnectorError(invalidArgument(validationViolations(error)))
  }
  if (error instanceof NotFoundError) {
    const allowed = context.allowedMethods(context.pathname)
    if (allowed.length === 0) return respond('NOT_FOUND', `No route ${context.method} ${context.pathname}; see /docs for the routes of this API`)
    return respond('UNIMPLEMENTED', `Method ${context.method} is not allowed on ${context.pathname}; allowed: ${allowed.join(', ')}`, [], { allow: allowed.join(', ') })
  }
  return internal(error)
}

function fromConnectorError(error: ConnectorError): ErrorResponse {
  if (error.code === 'INTERNAL') return internal(error)
  const details: StatusDetail[] = violationDetails(error.details.fieldViolations)
  if (error.details.connectorId !== undefined) details.push(resourceInfoDetail(error.details.connectorId, error.message))
  return { ...respond(error.code, error.message, details), ...(error.code === 'UNAVAILABLE' && error.cause !== undefined ? { serverError: error } : {}) }
}

function respond(rpcCode: RpcCodeName, message: string, details: readonly StatusDetail[] = [], headers: Readonly<Record<string, string>> = {}): ErrorResponse {
  return { httpStatus: rpcCodes[rpcCode].httpStatus, body: statusBody(rpcCode, message, details), headers }
}

function internal(error: unknown): ErrorResponse {
  return { ...respond('INTERNAL', internalErrorMessage), serverError: error }
}

function violationDetails(fieldViolations: readonly FieldViolation[] | undefined): StatusDetail[] {
  return fieldViolations === undefined || fieldViolations.length === 0 ? [] : [badRequestDetail(fieldViolations)]
}

/**
 * Elysia's schema violations as field violations. A schema's `error` annotation is the user-facing text; the id
 * and position parameters get the exact texts KurrentDB uses. TypeBox reports some problems twice for one field
 * (missing, then wrong type), so only the first problem per field is kept.
 */
export function validationViolations(error: ValidationError): FieldViolation[] {
  const violations: FieldViolation[] = []
  const seen = new Set<string>()
  const add = (violation: FieldViolation) => {
    const key = `${violation.field}\u0000${violation.description}`
    if (seen.has(key)) return
    seen.add(key)
    violations.push(violation)
  }
  let valueErrors: ValidationError['all']
  try {
    valueErrors = error.all
  } catch {
    valueErrors = []
  }
  const fieldsDone = new Set<string>()
  for (const valueError of valueErrors) {
    const path = typeof valueError.path === 'string' ? valueError.path : ''
    if (fieldsDone.has(path)) continue
    fieldsDone.add(path)
    if (error.type === 'params' && path === '/id') {
      const violationsOfId = connectorIdViolations(String(valueError.value ?? ''))
      for (const violation of violationsOfId.length > 0 ? violationsOfId : [{ field: 'ConnectorId', description: 'ConnectorId is not valid' }]) add(violation)
      continue
    }
    if (error.type === 'params' && path === '/position') {
      add({ field: 'Position', description: positionMessage })
      continue
    }
    const annotated = (valueError.schema as { error?: unknown } | undefined)?.error
    const explanation = typeof annotated === 'string' ? annotated : (valueError.summary ?? valueError.message)
    if (valueError.type === ValueErrorType.ObjectAdditionalProperties) {
      // The user's own key, as typed: e.g. a setting sent at the top level of a create body instead of in `settings`.
      const unknownKey = path.slice(path.lastIndexOf('/') + 1)
      add({ field: unknownKey, description: `Unknown field ${JSON.stringify(unknownKey)}. ${explanation}` })
      continue
    }
    add({ field: fieldName(error.type, path), description: explanation })
  }
  if (violations.length === 0) add({ field: fieldName(error.type, ''), description: `The request ${error.type} is not valid` })
  return violations
}

/** `/settings/topic` → `Settings.topic`: PascalCase first segment, like KurrentDB's property names. */
function fieldName(part: string, path: string): string {
  const segments = path.split('/').filter((segment) => segment !== '')
  if (segments.length === 0) return part
  const [first, ...rest] = segments
  return [first!.charAt(0).toUpperCase() + first!.slice(1), ...rest].join('.')
}

/**
 * The plugin: one global `onError` that answers every error with its Status body. `onServerError` lets the request
 * log describe the real error of a 5xx on the request's own log line.
 */
export function errorMapping(options: { allowedMethods: ErrorContext['allowedMethods']; onServerError: (request: Request, error: unknown) => void }) {
  return new Elysia({ name: 'error-mapping' }).onError({ as: 'global' }, ({ error, request, set }) => {
    const { pathname } = new URL(request.url)
    const mapped = mapError(error, { method: request.method, pathname, allowedMethods: options.allowedMethods })
    if (mapped.serverError !== undefined) options.onServerError(request, mapped.serverError)
    set.status = mapped.httpStatus
    set.headers['content-type'] = 'application/json; charset=utf-8'
    for (const [name, value] of Object.entries(mapped.headers)) set.headers[name] = value
    return mapped.body
  })
}
