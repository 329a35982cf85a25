/**
 * The error body of every failed request: a google.rpc.Status rendered as JSON, the shape KurrentDB's connectors API
 * answers with (it is gRPC transcoded to HTTP), so scripts that read `code`, `message` or the field violations keep
 * working. The table below is the one place that pairs a gRPC code with an HTTP status.
 */
import { Type, type Static } from '@sinclair/typebox'

/**
 * gRPC code → number and HTTP status, per the canonical google.rpc.Code mapping, with two deliberate exceptions:
 * RESOURCE_EXHAUSTED is only raised for an oversized request body, which HTTP calls 413 (canonically 429), and
 * UNIMPLEMENTED is only raised for a method a path does not support, which HTTP calls 405 (canonically 501).
 */
export const rpcCodes = {
  INVALID_ARGUMENT: { code: 3, httpStatus: 400 },
  FAILED_PRECONDITION: { code: 9, httpStatus: 400 },
  NOT_FOUND: { code: 5, httpStatus: 404 },
  ALREADY_EXISTS: { code: 6, httpStatus: 409 },
  ABORTED: { code: 10, httpStatus: 409 },
  UNAUTHENTICATED: { code: 16, httpStatus: 401 },
  PERMISSION_DENIED: { code: 7, httpStatus: 403 },
  RESOURCE_EXHAUSTED: { code: 8, httpStatus: 413 },
  UNIMPLEMENTED: { code: 12, httpStatus: 405 },
  UNAVAILABLE: { code: 14, httpStatus: 503 },
  INTERNAL: { code: 13, httpStatus: 500 },
} as const

export type RpcCodeName = keyof typeof rpcCodes

export const badRequestType = 'type.googleapis.com/google.rpc.BadRequest'
export const resourceInfoType = 'type.googleapis.com/google.rpc.ResourceInfo'

export const FieldViolationSchema = Type.Object(
  {
    field: Type.String({ description: 'The request field at fault, e.g. `ConnectorId`, `Name`, `topic`, `Paging.Page`.' }),
    description: Type.String({ description: 'What is wrong with it and, where possible, how to fix it.' }),
  },
  { additionalProperties: false },
)

export const BadRequestDetailSchema = Type.Object(
  {
    '@type': Type.Literal(badRequestType),
    fieldViolations: Type.Array(FieldViolationSchema),
  },
  { additionalProperties: false, description: 'Every problem found in the request, one entry per field and problem.' },
)

export const ResourceInfoDetailSchema = Type.Object(
  {
    '@type': Type.Literal(resourceInfoType),
    resourceType: Type.Literal('connector'),
    resourceName: Type.String({ description: 'The connector id.' }),
    description: Type.String(),
  },
  { additionalProperties: false, description: 'The connector the error is about.' },
)

export const StatusSchema = Type.Object(
  {
    code: Type.Integer({ description: 'The gRPC status code (3 INVALID_ARGUMENT, 5 NOT_FOUND, 16 UNAUTHENTICATED, …).', examples: [5] }),
    message: Type.String({
      description: 'Human-readable. For INVALID_ARGUMENT it is a JSON object of field → messages, as KurrentDB writes it.',
      examples: ['Connector orders-to-kafka not found'],
    }),
    details: Type.Array(Type.Union([BadRequestDetailSchema, ResourceInfoDetailSchema])),
  },
  { additionalProperties: false, description: 'A google.rpc.Status: the body of every error response.', 'x-component': 'Status' },
)

export type Status = Static<typeof StatusSchema>
export type StatusDetail = Status['details'][number]
export type FieldViolationBody = Static<typeof FieldViolationSchema>

/** An error raised by the HTTP layer itself (authentication, body size, JSON syntax, routing), not by the service. */
export class RequestError extends Error {
  override readonly name = 'RequestError'
  constructor(
    readonly rpcCode: RpcCodeName,
    message: string,
    readonly options: {
      readonly fieldViolations?: readonly FieldViolationBody[]
      readonly headers?: Readonly<Record<string, string>>
      /** HTTP's own word where it is more precise than the code's usual status (415 for a body that is not JSON). */
      readonly httpStatus?: number
    } = {},
  ) {
    super(message)
  }
}

export function statusBody(rpcCode: RpcCodeName, message: string, details: readonly StatusDetail[] = []): Status {
  return { code: rpcCodes[rpcCode].code, message, details: [...details] }
}

export function badRequestDetail(fieldViolations: readonly FieldViolationBody[]): StatusDetail {
  return { '@type': badRequestType, fieldViolations: fieldViolations.map(({ field, description }) => ({ field, description })) }
}

export function resourceInfoDetail(connectorId: string, description: string): StatusDetail {
  return { '@type': resourceInfoType, resourceType: 'connector', resourceName: connectorId, description }
}
