// The one mapping from errors to HTTP: each service error code to its status and gRPC code (KurrentDB's canonical
// mapping), and anything unexpected to a generic 500 that reveals nothing.
import { describe, expect, test } from 'bun:test'
import { NotFoundError } from 'elysia'
import { internalErrorMessage, mapError } from '../../../src/api/error-mapping.ts'
import { RequestError } from '../../../src/api/rpc-status.ts'
import { ConnectorError, invalidArgument, type ConnectorErrorCode } from '../../../src/connectors/connector-errors.ts'

const context = { method: 'GET', pathname: '/x', allowedMethods: () => [] }

describe('mapError', () => {
  test.each<[ConnectorErrorCode, number, number]>([
    ['INVALID_ARGUMENT', 400, 3],
    ['FAILED_PRECONDITION', 400, 9],
    ['NOT_FOUND', 404, 5],
    ['ALREADY_EXISTS', 409, 6],
    ['ABORTED', 409, 10],
    ['UNAVAILABLE', 503, 14],
  ])('ConnectorError %s → HTTP %i, code %i, with ResourceInfo for the connector', (code, httpStatus, grpcCode) => {
    const mapped = mapError(new ConnectorError(code, `Connector orders-to-kafka: ${code}`, { connectorId: 'orders-to-kafka' }), context)
    expect(mapped.httpStatus).toBe(httpStatus)
    expect(mapped.body).toEqual({
      code: grpcCode,
      message: `Connector orders-to-kafka: ${code}`,
      details: [{ '@type': 'type.googleapis.com/google.rpc.ResourceInfo', resourceType: 'connector', resourceName: 'orders-to-kafka', description: `Connector orders-to-kafka: ${code}` }],
    })
  })

  test('field violations become one BadRequest detail; the message is KurrentDB\'s JSON of field → messages', () => {
    const mapped = mapError(invalidArgument([{ field: 'topic', description: 'topic is required' }, { field: 'topic', description: 'second' }]), context)
    expect(mapped.httpStatus).toBe(400)
    expect(mapped.body).toEqual({
      code: 3,
      message: '{"topic":["topic is required","second"]}',
      details: [{ '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: [{ field: 'topic', description: 'topic is required' }, { field: 'topic', description: 'second' }] }],
    })
  })

  test('INTERNAL and unknown errors give 500 with a generic message; the real error is kept for the log only', () => {
    for (const error of [new ConnectorError('INTERNAL', 'the store is inconsistent: key 42'), new TypeError('Cannot read properties of undefined (reading "x")'), 'thrown string']) {
      const mapped = mapError(error, context)
      expect(mapped.httpStatus).toBe(500)
      expect(mapped.body).toEqual({ code: 13, message: internalErrorMessage, details: [] })
      expect(mapped.serverError).toBe(error)
    }
  })

  test('HTTP-layer errors keep their headers; routing errors become 404 or 405', () => {
    expect(mapError(new RequestError('UNAUTHENTICATED', 'no', { headers: { 'www-authenticate': 'Basic realm="kafka-sink"' } }), context)).toMatchObject({
      httpStatus: 401,
      body: { code: 16 },
      headers: { 'www-authenticate': 'Basic realm="kafka-sink"' },
    })
    expect(mapError(new RequestError('RESOURCE_EXHAUSTED', 'too big'), context)).toMatchObject({ httpStatus: 413, body: { code: 8 } })
    expect(mapError(new NotFoundError(), context)).toMatchObject({ httpStatus: 404, body: { code: 5 } })
    expect(mapError(new NotFoundError(), { ...context, allowedMethods: () => ['GET', 'HEAD'] })).toMatchObject({ httpStatus: 405, body: { code: 12 }, headers: { allow: 'GET, HEAD' } })
  })
})
