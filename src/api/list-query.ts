/**
 * `GET /connectors` query parameters → the service's `ListQuery`, with every problem reported at once in KurrentDB's
 * words. Paging is accepted under both names users meet: `page`/`pageSize` (KurrentDB's docs) and
 * `paging.page`/`paging.pageSize` (what its gRPC transcoding binds); the latter wins when both are given.
 */
import { invalidArgument } from '../connectors/connector-errors.ts'
import type { FieldViolation } from '../settings/parse-sink-settings.ts'
import { connectorStateNames, type ConnectorStateName, type ListQuery } from '../connectors/connector-service.ts'
import type { ListConnectorsQueryInput } from './connector-schemas.ts'

export const defaultPage = 1
export const defaultPageSize = 100
export const maxPageSize = 100
// The proto's `Paging.page` is an int32.
const maxPage = 2 ** 31 - 1

export const pageMessage = 'Page must be greater than or equal to 1.'
export const pageSizeMessage = `Page size must be between 1 and ${maxPageSize}.`

/** Throws INVALID_ARGUMENT with one field violation per problem. */
export function readListQuery(query: ListConnectorsQueryInput): ListQuery {
  const violations: FieldViolation[] = []

  const states: ConnectorStateName[] = []
  for (const state of query.state ?? []) {
    const known = connectorStateNames.find((name) => name === state.trim().toUpperCase())
    if (known === undefined) violations.push({ field: 'State', description: `State must be one of ${connectorStateNames.join(', ')}; got ${JSON.stringify(state)}` })
    else states.push(known)
  }

  const flag = (field: string, value: string | undefined): boolean => {
    if (value === undefined) return false
    const normalized = value.trim().toLowerCase()
    if (normalized === 'true') return true
    if (normalized !== 'false') violations.push({ field, description: `${field} must be true or false; got ${JSON.stringify(value)}` })
    return false
  }

  const pageValue = query['paging.page'] ?? query.page
  let page = defaultPage
  if (pageValue !== undefined) {
    const number = readWholeNumber(pageValue)
    if (number !== undefined && number >= 1 && number <= maxPage) page = number
    else violations.push({ field: 'Paging.Page', description: number !== undefined && number > maxPage ? `Page must be less than or equal to ${maxPage}.` : pageMessage })
  }
  const pageSizeValue = query['paging.pageSize'] ?? query.pageSize
  let pageSize = defaultPageSize
  if (pageSizeValue !== undefined) {
    const number = readWholeNumber(pageSizeValue)
    if (number !== undefined && number >= 1 && number <= maxPageSize) pageSize = number
    else violations.push({ field: 'Paging.PageSize', description: pageSizeMessage })
  }

  const result: ListQuery = {
    states,
    instanceTypeNames: (query.instanceTypeName ?? []).map((name) => name.trim()),
    connectorIds: (query.connectorId ?? []).map((id) => id.trim()),
    includeSettings: flag('IncludeSettings', query.includeSettings),
    includeConfiguration: flag('IncludeConfiguration', query.includeConfiguration),
    showDeleted: flag('ShowDeleted', query.showDeleted),
    page,
    pageSize,
  }
  if (violations.length > 0) throw invalidArgument(violations)
  return result
}

function readWholeNumber(text: string): number | undefined {
  const trimmed = text.trim()
  return /^[0-9]+$/.test(trimmed) ? Number(trimmed) : undefined
}
