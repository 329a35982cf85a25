/**
 * The connector management routes: KurrentDB's connectors API paths, bodies and responses. Each handler takes the
 * plain values it needs from the request and calls the service; validation messages and errors are left to the
 * schemas and to error-mapping.ts.
 */
import { Elysia } from 'elysia'
import { invalidArgument } from '../connectors/connector-errors.ts'
import type { ConnectorService, RawSettings } from '../connectors/connector-service.ts'
import { flattenConfiguration } from '../settings/flatten-configuration.ts'
import {
  ConfigurationResponse,
  ConnectorParams,
  ConnectorPositionParams,
  CreateConnectorBody,
  EmptyResponse,
  ListConnectorsQuery,
  ListConnectorsResponse,
  NestedConfiguration,
  positionMessage,
  RawSettingsMap,
  readLogPosition,
  RenameConnectorBody,
  SettingsResponse,
  type CreateConnectorRequest,
} from './connector-schemas.ts'
import { readListQuery } from './list-query.ts'
import { readJsonBody } from './request-body.ts'
import { RequestError, StatusSchema } from './rpc-status.ts'

export const connectorsTag = 'Connectors'
const security = [{ basicAuth: [] }]

// Every route can fail authentication, hit an outage of KurrentDB or a bug; bodies can be too large.
const commonErrors = { 401: StatusSchema, 403: StatusSchema, 500: StatusSchema, 503: StatusSchema } as const
const commandResponses = { 200: EmptyResponse, 400: StatusSchema, 404: StatusSchema, 409: StatusSchema, ...commonErrors } as const
const bodyCommandResponses = { ...commandResponses, 413: StatusSchema, 415: StatusSchema } as const

/** `configuration` wins when it has at least one field, as in KurrentDB; otherwise the flat `settings`. */
export function settingsOfCreateRequest(body: CreateConnectorRequest): RawSettings {
  if (body.configuration !== undefined && Object.keys(body.configuration).length > 0) return flattenConfiguration(body.configuration)
  return body.settings ?? {}
}

function logPosition(text: string): bigint {
  const position = readLogPosition(text)
  if (position === undefined) throw invalidArgument([{ field: 'Position', description: positionMessage }])
  return position
}

const startDescription =
  'Starts the connector from its last checkpoint or, without one, from `subscription:initialPosition`. Allowed when ' +
  'the connector is stopped (or stopping); a running connector gives 400 FAILED_PRECONDITION.'

export function connectorRoutes(options: { service: ConnectorService; maxBodyBytes: number }) {
  const { service, maxBodyBytes } = options
  return (
    new Elysia({ name: 'connector-routes' })
      .onParse(({ request }) => readJsonBody(request, maxBodyBytes))
      .get(
        '/connectors',
        async ({ query }) => {
          const result = await service.list(readListQuery(query))
          return { items: [...result.items], totalSize: result.totalSize }
        },
        {
          query: ListConnectorsQuery,
          response: { 200: ListConnectorsResponse, 400: StatusSchema, ...commonErrors },
          detail: {
            operationId: 'listConnectors',
            summary: 'List connectors',
            description:
              'Connectors matching every given filter, oldest first, one page at a time. Settings are included only ' +
              'when asked for; secrets always show as `***`.',
            tags: [connectorsTag],
            security,
          },
        },
      )
      .post(
        '/connectors/:id',
        async ({ params: { id }, body }) => {
          await service.create(id, { name: body.name, settings: settingsOfCreateRequest(body) })
          return {}
        },
        {
          params: ConnectorParams,
          body: CreateConnectorBody,
          response: bodyCommandResponses,
          detail: {
            operationId: 'createConnector',
            summary: 'Create a connector',
            description:
              'Creates a stopped connector after validating its settings as a whole (every problem is reported at ' +
              'once). An id that exists gives 409; the id of a deleted connector can be used again.',
            tags: [connectorsTag],
            security,
          },
        },
      )
      .put(
        '/connectors/:id/settings',
        async ({ params: { id }, body }) => {
          await service.reconfigure(id, body)
          return {}
        },
        {
          params: ConnectorParams,
          body: RawSettingsMap,
          response: bodyCommandResponses,
          detail: {
            operationId: 'reconfigureConnector',
            summary: 'Replace the settings',
            description:
              'The body is the complete flat settings map: it replaces the stored settings (nothing is merged), so ' +
              'send `instanceTypeName`, `topic` and the rest again. A secret sent as `***` keeps its stored value. ' +
              'A running connector uses the new settings from its next start.',
            tags: [connectorsTag],
            security,
          },
        },
      )
      .put(
        '/connectors/:id/configuration',
        async ({ params: { id }, body }) => {
          await service.reconfigure(id, flattenConfiguration(body))
          return {}
        },
        {
          params: ConnectorParams,
          body: NestedConfiguration,
          response: bodyCommandResponses,
          detail: {
            operationId: 'reconfigureConnectorWithConfiguration',
            summary: 'Replace the settings (nested form)',
            description: 'Like `PUT /connectors/{id}/settings`, with the settings as one nested JSON object.',
            tags: [connectorsTag],
            security,
          },
        },
      )
      .get(
        '/connectors/:id/settings',
        async ({ params: { id } }) => {
          const { settings, settingsUpdateTime } = await service.getSettings(id)
          return { settings, settingsUpdateTime }
        },
        {
          params: ConnectorParams,
          response: { 200: SettingsResponse, 400: StatusSchema, 404: StatusSchema, ...commonErrors },
          detail: {
            operationId: 'getConnectorSettings',
            summary: 'Get the settings',
            description: 'The stored settings as a flat map, secrets as `***`.',
            tags: [connectorsTag],
            security,
          },
        },
      )
      .get(
        '/connectors/:id/configuration',
        async ({ params: { id } }) => {
          const { configuration, configurationUpdateTime } = await service.getConfiguration(id)
          return { configuration, configurationUpdateTime }
        },
        {
          params: ConnectorParams,
          response: { 200: ConfigurationResponse, 400: StatusSchema, 404: StatusSchema, ...commonErrors },
          detail: {
            operationId: 'getConnectorConfiguration',
            summary: 'Get the settings (nested form)',
            description: 'The stored settings as one nested JSON object, secrets as `***`.',
            tags: [connectorsTag],
            security,
          },
        },
      )
      .post(
        '/connectors/:id/start',
        async ({ params: { id } }) => {
          await service.start(id)
          return {}
        },
        {
          params: ConnectorParams,
          response: commandResponses,
          detail: { operationId: 'startConnector', summary: 'Start', description: startDescription, tags: [connectorsTag], security },
        },
      )
      // KurrentDB's own Kafka sink tutorial starts a connector with `curl -i -L -u admin:password …/start`, which
      // sends GET; users copy that command, so it works here too. The document marks it deprecated: POST is the route.
      .get(
        '/connectors/:id/start',
        async ({ params: { id }, request: { method } }) => {
          // Elysia answers HEAD with the GET handler; a HEAD (link checkers, `curl -I`) must not start anything.
          if (method === 'HEAD') throw new RequestError('UNIMPLEMENTED', 'HEAD does not start a connector: use POST /connectors/{id}/start', { headers: { allow: 'GET, POST' } })
          await service.start(id)
          return {}
        },
        {
          params: ConnectorParams,
          response: commandResponses,
          detail: {
            operationId: 'startConnectorWithGet',
            summary: 'Start (GET form of the tutorial)',
            description: `Same as \`POST /connectors/{id}/start\`, for the \`curl\` command of KurrentDB's Kafka sink tutorial, which sends GET. Prefer POST. ${startDescription}`,
            tags: [connectorsTag],
            security,
            deprecated: true,
          },
        },
      )
      .post(
        '/connectors/:id/start/:position',
        async ({ params: { id, position } }) => {
          await service.start(id, logPosition(position))
          return {}
        },
        {
          params: ConnectorPositionParams,
          response: commandResponses,
          detail: {
            operationId: 'startConnectorFromPosition',
            summary: 'Start after a position',
            description: 'Starts the connector with the first event after `position`, ignoring its checkpoint for this start. Allowed in the same states as start.',
            tags: [connectorsTag],
            security,
          },
        },
      )
      .post(
        '/connectors/:id/reset',
        async ({ params: { id } }) => {
          await service.reset(id)
          return {}
        },
        {
          params: ConnectorParams,
          response: commandResponses,
          detail: {
            operationId: 'resetConnector',
            summary: 'Reset and start from the beginning',
            description: 'Starts a stopped connector from the beginning of its source, ignoring its checkpoint. Only allowed when the connector is stopped.',
            tags: [connectorsTag],
            security,
          },
        },
      )
      .post(
        '/connectors/:id/reset/:position',
        async ({ params: { id, position } }) => {
          await service.reset(id, logPosition(position))
          return {}
        },
        {
          params: ConnectorPositionParams,
          response: commandResponses,
          detail: {
            operationId: 'resetConnectorToPosition',
            summary: 'Reset and start after a position',
            description: 'Starts a stopped connector with the first event after `position`. Only allowed when the connector is stopped.',
            tags: [connectorsTag],
            security,
          },
        },
      )
      .post(
        '/connectors/:id/stop',
        async ({ params: { id } }) => {
          await service.stop(id)
          return {}
        },
        {
          params: ConnectorParams,
          response: commandResponses,
          detail: {
            operationId: 'stopConnector',
            summary: 'Stop',
            description: 'Stops a running connector after flushing what it has read and committing its checkpoint. Stopping a stopped connector does nothing and succeeds.',
            tags: [connectorsTag],
            security,
          },
        },
      )
      .put(
        '/connectors/:id/rename',
        async ({ params: { id }, body: { name } }) => {
          await service.rename(id, name)
          return {}
        },
        {
          params: ConnectorParams,
          body: RenameConnectorBody,
          response: bodyCommandResponses,
          detail: { operationId: 'renameConnector', summary: 'Rename', description: 'Changes the display name; the id stays.', tags: [connectorsTag], security },
        },
      )
      .delete(
        '/connectors/:id',
        async ({ params: { id } }) => {
          await service.delete(id)
          return {}
        },
        {
          params: ConnectorParams,
          response: commandResponses,
          detail: {
            operationId: 'deleteConnector',
            summary: 'Delete',
            description: 'Deletes a stopped connector and its checkpoints. Its id can be used again for a new connector.',
            tags: [connectorsTag],
            security,
          },
        },
      )
  )
}
