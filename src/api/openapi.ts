/**
 * The OpenAPI 3.1 document, generated from the routes' own TypeBox schemas and `detail`, so it cannot drift from what
 * the API validates and answers. Schemas annotated with a component name become `#/components/schemas/<name>`;
 * `documentedComponents` may show a richer schema in a component's place (the flat settings keys, which are
 * validated by the settings parser rather than by the route schema).
 *
 * Written here rather than with @elysiajs/openapi: that plugin's UI loads its assets from a CDN (users may be
 * offline), and it cannot swap a validation schema for its documentation schema.
 */
import { componentAnnotation } from './connector-schemas.ts'

/** A JSON Schema or OpenAPI object as plain JSON. */
export type JsonObject = { [key: string]: unknown }

/** What the document needs to know about a route: Elysia's route record, narrowed to plain values. */
export interface RouteDescription {
  readonly method: string
  readonly path: string
  readonly params?: unknown
  readonly query?: unknown
  readonly body?: unknown
  /** One schema (for 200) or one per status code. */
  readonly response?: unknown
  readonly detail?: {
    readonly operationId?: string
    readonly summary?: string
    readonly description?: string
    readonly tags?: readonly string[]
    readonly security?: readonly Readonly<Record<string, readonly string[]>>[]
    readonly deprecated?: boolean
  }
}

export interface OpenApiDocument {
  readonly openapi: '3.1.0'
  readonly info: { readonly title: string; readonly version: string; readonly description: string }
  readonly servers: readonly { readonly url: string; readonly description: string }[]
  readonly tags: readonly { readonly name: string; readonly description: string }[]
  readonly paths: Record<string, Record<string, OpenApiOperation>>
  readonly components: { readonly schemas: Record<string, JsonObject>; readonly securitySchemes: Record<string, JsonObject> }
}

export interface OpenApiParameter {
  readonly name: string
  readonly in: 'path' | 'query'
  readonly required: boolean
  readonly description?: string
  readonly schema: JsonObject
  readonly style?: 'form'
  readonly explode?: boolean
}

export interface OpenApiOperation {
  readonly operationId: string
  readonly summary: string
  readonly description: string
  readonly tags: readonly string[]
  readonly deprecated?: boolean
  readonly security: readonly Readonly<Record<string, readonly string[]>>[]
  readonly parameters: readonly OpenApiParameter[]
  readonly requestBody?: { readonly required: boolean; readonly content: Record<string, { readonly schema: JsonObject }> }
  readonly responses: Record<string, { readonly description: string; readonly content?: Record<string, { readonly schema: JsonObject }> }>
}

const tagDescriptions: Record<string, string> = {
  Connectors: "Manage connectors: the routes, bodies and errors of KurrentDB's connectors API. HTTP Basic authentication.",
  Health: 'Probes for orchestrators; no authentication.',
  Observability: 'Metrics for scrapers; no authentication.',
  Documentation: 'This document, as JSON and as a page; no authentication.',
}

const responseDescriptions: Record<string, string> = {
  '200': 'Success.',
  '400': "Invalid request (the `BadRequest` detail lists every field violation), or the connector's state does not allow the command (FAILED_PRECONDITION).",
  '401': 'Missing or wrong credentials (UNAUTHENTICATED); the response carries `WWW-Authenticate: Basic`.',
  '403': 'A browser marked the request cross-site, its `Origin` is foreign, or (without credentials) its `Host` is not loopback or allowed (PERMISSION_DENIED).',
  '404': 'No connector with this id, or it was deleted (NOT_FOUND).',
  '409': 'A connector with this id exists (ALREADY_EXISTS), or another request changed it at the same time (ABORTED).',
  '413': 'The body is larger than the limit (RESOURCE_EXHAUSTED).',
  '415': 'The body is not sent as `content-type: application/json` (INVALID_ARGUMENT).',
  '500': 'A failure inside kafka-sink (INTERNAL); the details are only in its log.',
  '503': 'KurrentDB cannot be reached, or kafka-sink is still loading connectors (UNAVAILABLE).',
}

// Keywords only our validation reads (Elysia's custom message, our component name) stay out of the document.
const privateKeywords = new Set(['error', componentAnnotation])

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

class ComponentRegistry {
  readonly schemas: Record<string, JsonObject> = {}
  constructor(private readonly documented: Readonly<Record<string, unknown>>) {}

  /** A schema as plain JSON Schema, with annotated components replaced by references. */
  convert(schema: unknown, isComponentRoot = false): unknown {
    if (Array.isArray(schema)) return schema.map((item) => this.convert(item))
    if (!isJsonObject(schema)) return schema
    const name = schema[componentAnnotation]
    if (typeof name === 'string' && !isComponentRoot) return this.reference(name, schema)
    const converted: JsonObject = {}
    // Object.entries leaves out TypeBox's symbol keys ([Kind], [OptionalKind]).
    for (const [key, value] of Object.entries(schema)) if (!privateKeywords.has(key)) converted[key] = this.convert(value)
    return converted
  }

  private reference(name: string, schema: JsonObject): JsonObject {
    if (this.schemas[name] === undefined) {
      this.schemas[name] = {} // placeholder: a component may refer to itself
      const source = this.documented[name] ?? schema
      this.schemas[name] = this.convert(source, true) as JsonObject
    }
    const reference: JsonObject = { $ref: `#/components/schemas/${name}` }
    // OpenAPI 3.1 allows a description next to $ref: keep the one written for this use when it differs.
    if (typeof schema.description === 'string' && schema.description !== this.schemas[name]!.description) reference.description = schema.description
    return reference
  }
}

function mediaTypeOf(schema: JsonObject): string {
  if (schema.type !== 'string') return 'application/json'
  return typeof schema.contentMediaType === 'string' ? schema.contentMediaType : 'text/plain'
}

function parametersOf(schema: unknown, location: 'path' | 'query', components: ComponentRegistry): OpenApiParameter[] {
  if (!isJsonObject(schema) || !isJsonObject(schema.properties)) return []
  const required = Array.isArray(schema.required) ? schema.required : []
  return Object.entries(schema.properties).map(([name, property]) => {
    const converted = components.convert(property) as JsonObject
    const { description, ...rest } = converted
    return {
      name,
      in: location,
      required: location === 'path' || required.includes(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: rest,
      ...(rest.type === 'array' ? { style: 'form' as const, explode: true } : {}),
    }
  })
}

function responsesOf(response: unknown, components: ComponentRegistry): OpenApiOperation['responses'] {
  const byStatus: Record<string, unknown> = isJsonObject(response) && !('type' in response) && !('anyOf' in response) ? response : { 200: response }
  const responses: OpenApiOperation['responses'] = {}
  for (const [status, schema] of Object.entries(byStatus)) {
    if (!isJsonObject(schema)) {
      responses[status] = { description: responseDescriptions[status] ?? 'Response.' }
      continue
    }
    const description = status === '200' && typeof schema.description === 'string' ? schema.description : (responseDescriptions[status] ?? 'Response.')
    responses[status] = { description, content: { [mediaTypeOf(schema)]: { schema: components.convert(schema) as JsonObject } } }
  }
  return responses
}

function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')
}

export function buildOpenApiDocument(
  routes: readonly RouteDescription[],
  options: { version: string; documentedComponents?: Readonly<Record<string, unknown>> },
): OpenApiDocument {
  const components = new ComponentRegistry(options.documentedComponents ?? {})
  const paths: OpenApiDocument['paths'] = {}
  const usedTags = new Set<string>()
  for (const route of routes) {
    const method = route.method.toLowerCase()
    const detail = route.detail ?? {}
    const tags = [...(detail.tags ?? [])]
    for (const tag of tags) usedTags.add(tag)
    const operation: OpenApiOperation = {
      operationId: detail.operationId ?? `${method}${route.path.replace(/[^A-Za-z0-9]+(.)?/g, (_match, next: string | undefined) => (next ?? '').toUpperCase())}`,
      summary: detail.summary ?? `${route.method} ${route.path}`,
      description: detail.description ?? '',
      tags,
      ...(detail.deprecated ? { deprecated: true } : {}),
      security: detail.security ?? [],
      parameters: [...parametersOf(route.params, 'path', components), ...parametersOf(route.query, 'query', components)],
      ...(isJsonObject(route.body)
        ? { requestBody: { required: true, content: { 'application/json': { schema: components.convert(route.body) as JsonObject } } } }
        : {}),
      responses: responsesOf(route.response, components),
    }
    ;(paths[openApiPath(route.path)] ??= {})[method] = operation
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'kafka-sink management API',
      version: options.version,
      description:
        "Manage kafka-sink connectors with the routes, bodies and error shapes of KurrentDB's connectors API: scripts " +
        'written for KurrentDB work after changing host and port. Every error body is a google.rpc.Status ' +
        '(`code`, `message`, `details`). The `/connectors` routes need HTTP Basic authentication unless kafka-sink ' +
        'runs with `--insecure`.',
    },
    // Relative: the document is served by the API it describes, on whatever address and scheme it listens.
    servers: [{ url: '/', description: 'The kafka-sink that serves this document' }],
    tags: [...usedTags].map((name) => ({ name, description: tagDescriptions[name] ?? '' })),
    paths,
    components: { schemas: components.schemas, securitySchemes: { basicAuth: { type: 'http', scheme: 'basic' } } },
  }
}
