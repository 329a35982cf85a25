/**
 * `GET /openapi.json` and `GET /docs`. Both are open: the document describes the API, holds no data, and tools
 * that import it rarely carry credentials. The document is built on first request, when every route exists.
 */
import { Elysia } from 'elysia'
import { Type } from '@sinclair/typebox'
import { renderDocsPage } from './docs-page.ts'
import type { OpenApiDocument } from './openapi.ts'

export const documentationTag = 'Documentation'

export function docsRoutes(options: { document: () => OpenApiDocument }) {
  let page: string | undefined
  return new Elysia({ name: 'docs-routes' })
    .get('/openapi.json', () => options.document(), {
      // The document's shape is OpenAPI 3.1 itself; describing it again here would say nothing.
      response: { 200: Type.Object({}, { additionalProperties: true, description: 'The OpenAPI 3.1 document of this API.' }) },
      detail: { operationId: 'getOpenApiDocument', summary: 'OpenAPI document', description: 'This API as an OpenAPI 3.1 document, generated from the route schemas.', tags: [documentationTag], security: [] },
    })
    .get(
      '/docs',
      ({ set }) => {
        set.headers['content-type'] = 'text/html; charset=utf-8'
        page ??= renderDocsPage(options.document())
        return page
      },
      {
        response: { 200: Type.String({ contentMediaType: 'text/html', description: 'A self-contained page (no scripts, no external assets).' }) },
        detail: { operationId: 'getDocsPage', summary: 'API reference page', description: 'The OpenAPI document as a browsable page.', tags: [documentationTag], security: [] },
      },
    )
}
