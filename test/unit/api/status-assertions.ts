/** Assertions on google.rpc.Status error bodies, shared by the API tests. */
import { expect } from 'bun:test'
import type { ApiResponse } from './api-rig.ts'

export interface StatusJson {
  code: number
  message: string
  details: Array<{ '@type': string; fieldViolations?: Array<{ field: string; description: string }>; resourceType?: string; resourceName?: string; description?: string }>
}

/** Checks the HTTP status, the gRPC code and that the body is exactly a Status (no stack, no extra fields). */
export function expectStatus(response: ApiResponse, httpStatus: number, grpcCode: number): StatusJson {
  expect({ status: response.status, body: response.text }).toMatchObject({ status: httpStatus })
  expect(response.headers.get('content-type')).toStartWith('application/json')
  const body = response.json as StatusJson
  expect(Object.keys(body).sort()).toEqual(['code', 'details', 'message'])
  expect(body.code).toBe(grpcCode)
  expect(typeof body.message).toBe('string')
  expect(Array.isArray(body.details)).toBe(true)
  expect(response.text).not.toContain('    at ') // no stack trace
  return body
}

/** The field violations of an INVALID_ARGUMENT response (400, code 3), with the message KurrentDB derives from them. */
export function expectFieldViolations(response: ApiResponse): Array<{ field: string; description: string }> {
  const body = expectStatus(response, 400, 3)
  const badRequest = body.details.find((detail) => detail['@type'] === 'type.googleapis.com/google.rpc.BadRequest')
  expect(badRequest).toBeDefined()
  const violations = badRequest!.fieldViolations ?? []
  expect(violations.length).toBeGreaterThan(0)
  return violations
}

export function expectResourceInfo(body: StatusJson, connectorId: string): void {
  expect(body.details).toContainEqual({
    '@type': 'type.googleapis.com/google.rpc.ResourceInfo',
    resourceType: 'connector',
    resourceName: connectorId,
    description: body.message,
  })
}
