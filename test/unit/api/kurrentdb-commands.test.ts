// Commands against what KurrentDB's server does, through the HTTP API with the in-process emulator: a create whose
// acknowledgement was lost is retried; a delete whose checkpoint removal fails says so; a start or reset position
// that is not an event boundary is refused as the server refuses it (INVALID_ARGUMENT), before anything is stored.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { FORWARDS, jsonEvent, KurrentDBClient } from '@kurrent/kurrentdb-client'
import { startApiRig, validSettings, type ApiRig } from './api-rig.ts'
import { expectStatus } from './status-assertions.ts'

let rig: ApiRig
let client: KurrentDBClient

beforeAll(async () => {
  rig = await startApiRig()
  client = KurrentDBClient.connectionString(rig.emulator.connectionString)
})
afterAll(async () => {
  await client?.dispose()
  await rig?.close()
})

async function historyTypes(connectorId: string): Promise<string[]> {
  const types: string[] = []
  for await (const resolved of client.readStream(`$kafka-sink/${connectorId}`, { direction: FORWARDS, fromRevision: 'start' })) types.push(resolved.event!.type)
  return types
}

describe('idempotent commands', () => {
  test('a create whose acknowledgement was lost succeeds when retried, and is stored once', async () => {
    const connectorId = 'ack-lost-create'
    rig.emulator.armFault('append-reply-lost', `$kafka-sink/${connectorId}`)
    const first = await rig.request('POST', `/connectors/${connectorId}`, { body: { settings: validSettings() } })
    expect(first.status).toBe(503)
    const retried = await rig.request('POST', `/connectors/${connectorId}`, { body: { settings: validSettings() } })
    expect({ status: retried.status, body: retried.text }).toEqual({ status: 200, body: '{}' })
    expect(await historyTypes(connectorId)).toEqual(['$kafka-sink-connector-created'])
    const listed = (await rig.request('GET', `/connectors?connectorId=${connectorId}`)).json as { items: { state: string }[] }
    expect(listed.items.map((item) => item.state)).toEqual(['CONNECTOR_STATE_STOPPED'])
  })

  test('a rename whose acknowledgement was lost succeeds when retried', async () => {
    const connectorId = 'ack-lost-rename'
    expect((await rig.request('POST', `/connectors/${connectorId}`, { body: { settings: validSettings() } })).status).toBe(200)
    rig.emulator.armFault('append-reply-lost', `$kafka-sink/${connectorId}`)
    expect((await rig.request('PUT', `/connectors/${connectorId}/rename`, { body: { name: 'renamed once' } })).status).toBe(503)
    expect((await rig.request('PUT', `/connectors/${connectorId}/rename`, { body: { name: 'renamed once' } })).status).toBe(200)
    expect((await historyTypes(connectorId)).filter((type) => type.endsWith('renamed'))).toHaveLength(1)
  })
})

describe('delete', () => {
  test('a checkpoint removal that fails is answered as an error; creating the id again removes them first', async () => {
    const connectorId = 'delete-checkpoints-fail'
    expect((await rig.request('POST', `/connectors/${connectorId}`, { body: { settings: validSettings() } })).status).toBe(200)
    await client.appendToStream(`$kafka-sink/${connectorId}/checkpoints`, jsonEvent({ type: '$kafka-sink-checkpoint', data: { commitPosition: '4096', preparePosition: '4096' } }))
    rig.emulator.armFault('delete-unavailable', `$kafka-sink/${connectorId}/checkpoints`)
    const deleted = expectStatus(await rig.request('DELETE', `/connectors/${connectorId}`), 503, 14)
    expect(deleted.message).toContain('removing its checkpoints failed')
    expectStatus(await rig.request('GET', `/connectors/${connectorId}/settings`), 404, 5)

    expect((await rig.request('POST', `/connectors/${connectorId}`, { body: { settings: validSettings() } })).status).toBe(200)
    const checkpoints: unknown[] = []
    for await (const resolved of client.readStream(`$kafka-sink/${connectorId}/checkpoints`, { direction: FORWARDS, fromRevision: 'start' })) checkpoints.push(resolved.event!.data)
    expect(checkpoints).toEqual([])
  })
})

describe('start and reset at a position', () => {
  test('a position inside a record is refused with 400 naming it; an event position is accepted', async () => {
    const connectorId = 'position-boundary'
    expect((await rig.request('POST', `/connectors/${connectorId}`, { body: { settings: validSettings() } })).status).toBe(200)
    const appended = await client.appendToStream('position-boundary-stream', jsonEvent({ type: 'e', data: {} }))
    const eventPosition = appended.position!.commit
    for (const path of [`/connectors/${connectorId}/start/${eventPosition + 1n}`, `/connectors/${connectorId}/reset/${eventPosition + 1n}`]) {
      const refused = expectStatus(await rig.request('POST', path), 400, 3)
      expect(refused.message).toContain(`${eventPosition + 1n} is not the position of an event`)
    }
    const listed = (await rig.request('GET', `/connectors?connectorId=${connectorId}`)).json as { items: { state: string }[] }
    expect(listed.items[0]!.state).toBe('CONNECTOR_STATE_STOPPED')
    expect((await rig.request('POST', `/connectors/${connectorId}/start/${eventPosition}`)).status).toBe(200)
  })
})

describe('conflicts', () => {
  test('KurrentDB unreachable while re-reading after a conflict answers 503, not 500', async () => {
    const connectorId = 'conflict-reread-outage'
    expect((await rig.request('POST', `/connectors/${connectorId}`, { body: { settings: validSettings() } })).status).toBe(200)
    // Another writer moves the history on, so the next command meets WrongExpectedVersion and reads what won.
    await client.appendToStream(`$kafka-sink/${connectorId}`, jsonEvent({ type: '$kafka-sink-connector-renamed', data: { connectorId, name: 'by someone else', timestamp: new Date().toISOString() } }))
    rig.emulator.armFault('read-unavailable', `$kafka-sink/${connectorId}`)
    const response = expectStatus(await rig.request('PUT', `/connectors/${connectorId}/rename`, { body: { name: 'mine' } }), 503, 14)
    expect(response.message).toContain('KurrentDB could not be reached')
  })
})
