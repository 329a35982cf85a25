import { describe, expect, test } from 'bun:test'
import { ConnectorError } from '../../../src/connectors/connector-errors.ts'
import { readListQuery } from '../../../src/api/list-query.ts'

function violationsOf(query: Parameters<typeof readListQuery>[0]): Array<{ field: string; description: string }> {
  try {
    readListQuery(query)
  } catch (error) {
    expect(error).toBeInstanceOf(ConnectorError)
    expect((error as ConnectorError).code).toBe('INVALID_ARGUMENT')
    return [...((error as ConnectorError).details.fieldViolations ?? [])]
  }
  throw new Error('expected INVALID_ARGUMENT')
}

describe('readListQuery', () => {
  test('defaults: every connector, no settings, page 1 of 100', () => {
    expect(readListQuery({})).toEqual({
      states: [],
      instanceTypeNames: [],
      connectorIds: [],
      includeSettings: false,
      includeConfiguration: false,
      showDeleted: false,
      page: 1,
      pageSize: 100,
    })
  })

  test('reads filters, flags in any letter case, and both paging spellings (paging.* wins)', () => {
    expect(
      readListQuery({
        state: ['CONNECTOR_STATE_RUNNING', 'connector_state_stopped'],
        instanceTypeName: ['kafka-sink'],
        connectorId: ['a-connector', 'b-connector'],
        includeSettings: 'TRUE',
        includeConfiguration: 'false',
        showDeleted: 'true',
        page: '7',
        pageSize: '5',
        'paging.page': '2',
        'paging.pageSize': '100',
      }),
    ).toEqual({
      states: ['CONNECTOR_STATE_RUNNING', 'CONNECTOR_STATE_STOPPED'],
      instanceTypeNames: ['kafka-sink'],
      connectorIds: ['a-connector', 'b-connector'],
      includeSettings: true,
      includeConfiguration: false,
      showDeleted: true,
      page: 2,
      pageSize: 100,
    })
    expect(readListQuery({ page: '3', pageSize: '1' })).toMatchObject({ page: 3, pageSize: 1 })
  })

  test.each([
    [{ page: '0' }, 'Paging.Page', 'Page must be greater than or equal to 1.'],
    [{ page: '' }, 'Paging.Page', 'Page must be greater than or equal to 1.'],
    [{ page: '1e3' }, 'Paging.Page', 'Page must be greater than or equal to 1.'],
    [{ page: '2147483648' }, 'Paging.Page', 'Page must be less than or equal to 2147483647.'],
    [{ pageSize: '101' }, 'Paging.PageSize', 'Page size must be between 1 and 100.'],
    [{ 'paging.pageSize': '0' }, 'Paging.PageSize', 'Page size must be between 1 and 100.'],
    [{ showDeleted: 'maybe' }, 'ShowDeleted', 'ShowDeleted must be true or false; got "maybe"'],
    [{ state: ['RUNNING'] }, 'State', 'State must be one of CONNECTOR_STATE_ACTIVATING, CONNECTOR_STATE_RUNNING, CONNECTOR_STATE_DEACTIVATING, CONNECTOR_STATE_STOPPED; got "RUNNING"'],
  ])('%j is refused', (query, field, description) => {
    expect(violationsOf(query)).toEqual([{ field, description }])
  })

  test('reports every problem at once', () => {
    expect(violationsOf({ page: '0', pageSize: '0', includeSettings: 'x', state: ['x'] }).map(({ field }) => field).sort()).toEqual(['IncludeSettings', 'Paging.Page', 'Paging.PageSize', 'State'])
  })
})
