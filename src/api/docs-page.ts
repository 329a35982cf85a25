/**
 * The browsable API reference: one self-contained HTML page rendered on the server from the OpenAPI document, with
 * inline CSS and no script, so it works offline and behind strict firewalls (no CDN).
 */
import type { JsonObject, OpenApiDocument, OpenApiOperation, OpenApiParameter } from './openapi.ts'

function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;')
}

/** Descriptions use Markdown backticks for code; everything else is shown as text. */
function prose(text: string | undefined): string {
  return escapeHtml(text ?? '').replace(/`([^`]+)`/g, '<code>$1</code>')
}

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function componentName(reference: string): string {
  return reference.slice(reference.lastIndexOf('/') + 1)
}

function anchor(kind: 'operation' | 'schema', name: string): string {
  return `${kind}-${name.replace(/[^A-Za-z0-9_-]/g, '-')}`
}

/** A short type label: `string`, `array of Connector`, `map of string`, `"kafka-sink"`, with links to components. */
function typeLabel(schema: unknown): string {
  if (!isJsonObject(schema)) return 'any'
  if (typeof schema.$ref === 'string') {
    const name = componentName(schema.$ref)
    return `<a href="#${anchor('schema', name)}">${escapeHtml(name)}</a>`
  }
  if (schema.const !== undefined) return `<code>${escapeHtml(JSON.stringify(schema.const))}</code>`
  if (Array.isArray(schema.anyOf)) return schema.anyOf.map(typeLabel).join(' | ')
  if (schema.type === 'array') return `array of ${typeLabel(schema.items)}`
  if (schema.type === 'object' && isJsonObject(schema.patternProperties) && !isJsonObject(schema.properties)) {
    const [valueSchema] = Object.values(schema.patternProperties)
    return `map of ${typeLabel(valueSchema)}`
  }
  if (typeof schema.type === 'string') return escapeHtml(schema.format === undefined ? schema.type : `${schema.type} (${String(schema.format)})`)
  return 'any'
}

/** Description plus the facts a reader looks for: accepted values, default, pattern, example. */
function schemaNotes(schema: unknown): string {
  if (!isJsonObject(schema)) return ''
  const notes: string[] = []
  if (typeof schema.description === 'string') notes.push(prose(schema.description))
  if (Array.isArray(schema.enum)) notes.push(`One of ${schema.enum.map((value) => `<code>${escapeHtml(String(value))}</code>`).join(', ')}.`)
  else if (isJsonObject(schema['x-enumDescriptions'])) {
    notes.push(`One of ${Object.keys(schema['x-enumDescriptions']).map((value) => `<code>${escapeHtml(value)}</code>`).join(', ')} (any letter case, with or without <code>_</code> or <code>-</code>).`)
  }
  if (schema.default !== undefined) notes.push(`Default <code>${escapeHtml(JSON.stringify(schema.default))}</code>.`)
  if (typeof schema.pattern === 'string') notes.push(`Pattern <code>${escapeHtml(schema.pattern)}</code>.`)
  if (typeof schema.minLength === 'number' || typeof schema.maxLength === 'number') {
    notes.push(`Length ${schema.minLength ?? 0}–${schema.maxLength ?? '∞'}.`)
  }
  if (Array.isArray(schema.examples) && schema.examples.length > 0 && typeof schema.examples[0] !== 'object') {
    notes.push(`Example <code>${escapeHtml(JSON.stringify(schema.examples[0]))}</code>.`)
  }
  return notes.join(' ')
}

function propertiesTable(schema: JsonObject): string {
  if (!isJsonObject(schema.properties)) return ''
  const required = Array.isArray(schema.required) ? schema.required : []
  const rows = Object.entries(schema.properties).map(
    ([name, property]) =>
      `<tr><td><code>${escapeHtml(name)}</code>${required.includes(name) ? ' <span class="required">required</span>' : ''}</td>` +
      `<td>${typeLabel(property)}</td><td>${schemaNotes(property)}</td></tr>`,
  )
  return `<table><thead><tr><th>Field</th><th>Type</th><th>Description</th></tr></thead><tbody>${rows.join('')}</tbody></table>`
}

function schemaBlock(schema: unknown): string {
  if (!isJsonObject(schema)) return ''
  const table = isJsonObject(schema.properties) && typeof schema.$ref !== 'string' ? propertiesTable(schema) : ''
  return `<p>${typeLabel(schema)}${schemaNotes(schema) === '' ? '' : ` — ${schemaNotes(schema)}`}</p>${table}`
}

function parametersTable(parameters: readonly OpenApiParameter[]): string {
  if (parameters.length === 0) return ''
  const rows = parameters.map(
    (parameter) =>
      `<tr><td><code>${escapeHtml(parameter.name)}</code>${parameter.required ? ' <span class="required">required</span>' : ''}</td>` +
      `<td>${parameter.in}</td><td>${typeLabel(parameter.schema)}</td><td>${prose(parameter.description)} ${schemaNotes({ ...parameter.schema, description: undefined })}</td></tr>`,
  )
  return `<h4>Parameters</h4><table><thead><tr><th>Name</th><th>In</th><th>Type</th><th>Description</th></tr></thead><tbody>${rows.join('')}</tbody></table>`
}

function operationSection(path: string, method: string, operation: OpenApiOperation): string {
  const body = operation.requestBody?.content['application/json']?.schema
  const responses = Object.entries(operation.responses).map(([status, response]) => {
    const [mediaType, content] = Object.entries(response.content ?? {})[0] ?? []
    return `<tr><td>${escapeHtml(status)}</td><td>${prose(response.description)}</td><td>${content === undefined ? '' : `${typeLabel(content.schema)} <small>${escapeHtml(mediaType ?? '')}</small>`}</td></tr>`
  })
  return [
    `<section class="operation" id="${anchor('operation', operation.operationId)}">`,
    `<h3><span class="method ${escapeHtml(method)}">${escapeHtml(method.toUpperCase())}</span> <code>${escapeHtml(path)}</code>`,
    operation.deprecated ? ' <span class="deprecated">deprecated</span>' : '',
    operation.security.length > 0 ? ' <span class="auth">HTTP Basic</span>' : '',
    '</h3>',
    `<p class="summary">${prose(operation.summary)}</p><p>${prose(operation.description)}</p>`,
    parametersTable(operation.parameters),
    body === undefined ? '' : `<h4>Request body</h4>${schemaBlock(body)}`,
    `<h4>Responses</h4><table><thead><tr><th>Status</th><th>Meaning</th><th>Body</th></tr></thead><tbody>${responses.join('')}</tbody></table>`,
    '</section>',
  ].join('')
}

const styles = `
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1d1f23;background:#fafafa}
main{max-width:1100px;margin:0 auto;padding:1.5rem}
h1{margin-bottom:.2rem}h2{margin-top:2.5rem;border-bottom:2px solid #ddd}
nav ul{columns:2;list-style:none;padding:0}nav li{margin:.15rem 0}
.operation,.schema{background:#fff;border:1px solid #e2e2e2;border-radius:6px;padding:.5rem 1rem;margin:1rem 0}
.method{display:inline-block;min-width:4.2rem;text-align:center;border-radius:4px;color:#fff;font-size:.8rem;padding:.1rem .3rem}
.get{background:#2f7dd1}.post{background:#2e9b5c}.put{background:#c78a12}.delete{background:#c2413a}.patch{background:#7a4fc2}
.summary{font-weight:600}.required{color:#c2413a;font-size:.75rem}.auth,.deprecated{font-size:.75rem;border:1px solid #999;border-radius:4px;padding:0 .3rem}
.deprecated{border-color:#c78a12;color:#8a5d00}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border:1px solid #e2e2e2;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f1f1f1}code{background:#f1f1f1;padding:0 .2rem;border-radius:3px}
`

export function renderDocsPage(document: OpenApiDocument): string {
  const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ path, method, operation })),
  )
  const sections = document.tags.map((tag) => {
    const tagged = operations.filter(({ operation }) => operation.tags.includes(tag.name))
    return `<h2 id="tag-${escapeHtml(tag.name)}">${escapeHtml(tag.name)}</h2><p>${prose(tag.description)}</p>${tagged
      .map(({ path, method, operation }) => operationSection(path, method, operation))
      .join('')}`
  })
  const schemas = Object.entries(document.components.schemas).map(
    ([name, schema]) => `<section class="schema" id="${anchor('schema', name)}"><h3>${escapeHtml(name)}</h3>${schemaBlock(schema)}</section>`,
  )
  const navigation = operations.map(
    ({ path, method, operation }) =>
      `<li><a href="#${anchor('operation', operation.operationId)}"><span class="method ${escapeHtml(method)}">${escapeHtml(method.toUpperCase())}</span> ${escapeHtml(path)}</a></li>`,
  )
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(document.info.title)} ${escapeHtml(document.info.version)}</title><style>${styles}</style></head><body><main>`,
    `<h1>${escapeHtml(document.info.title)}</h1><p>Version ${escapeHtml(document.info.version)} · <a href="/openapi.json">openapi.json</a></p>`,
    `<p>${prose(document.info.description)}</p>`,
    `<nav><ul>${navigation.join('')}</ul></nav>`,
    ...sections,
    '<h2 id="schemas">Schemas</h2>',
    ...schemas,
    '</main></body></html>',
  ].join('\n')
}
