/**
 * Serves the Elysia app on whichever runtime runs kafka-sink. Elysia's own `listen` exists only on Bun (on Deno and
 * Node it throws "WebStandard does not support listen"); what every runtime has is `app.fetch`, a web-standard
 * handler. So: Bun keeps Elysia's listen (it hands Bun.serve its precompiled routes), Deno serves `app.fetch` with
 * Deno.serve, and Node with srvx's node:http adapter (the server `@elysiajs/node` itself runs on; that adapter is
 * not used because it must be chosen when the app is built, listens with `reusePort`, which would let a second
 * process share our port silently, and reports port 0 as the listening port).
 */
import type { AnyElysia } from 'elysia'
import { currentRuntime } from './runtime.ts'

export interface ServeOptions {
  readonly hostname: string
  /** 0 picks a free port; `RunningServer.port` tells which. */
  readonly port: number
  /** PEM text of the certificate chain and its private key: the API is then served over HTTPS. */
  readonly tls?: { readonly cert: string; readonly key: string }
}

export interface RunningServer {
  readonly port: number
  /** Stops accepting connections; requests already being answered finish. */
  stop(): Promise<void>
}

/** Rejects when the address cannot be bound (in use, not local, no permission), with the runtime's message. */
export async function serve(app: AnyElysia, options: ServeOptions): Promise<RunningServer> {
  switch (currentRuntime()) {
    case 'bun':
      return serveOnBun(app, options)
    case 'deno':
      return serveOnDeno(app, options)
    case 'node':
      return serveOnNode(app, options)
  }
}

function serveOnBun(app: AnyElysia, options: ServeOptions): RunningServer {
  app.listen({ hostname: options.hostname, port: options.port, ...(options.tls === undefined ? {} : { tls: { cert: options.tls.cert, key: options.tls.key } }) })
  const server = app.server!
  return { port: server.port ?? options.port, stop: () => server.stop() }
}

/** The part of Deno's API used here (the project is type-checked against Bun's types, which do not have Deno's). */
interface DenoServe {
  serve(
    options: { hostname: string; port: number; cert?: string; key?: string; onListen?: () => void },
    handler: (request: Request) => Response | Promise<Response>,
  ): { readonly addr: { readonly port: number }; shutdown(): Promise<void> }
}

function serveOnDeno(app: AnyElysia, options: ServeOptions): RunningServer {
  const deno = (globalThis as unknown as { Deno: DenoServe }).Deno
  const handler = app.fetch
  const server = deno.serve(
    {
      hostname: options.hostname,
      port: options.port,
      ...(options.tls === undefined ? {} : { cert: options.tls.cert, key: options.tls.key }),
      // Deno prints "Listening on …" to stdout by default; stdout carries only JSON log lines.
      onListen: () => {},
    },
    (request) => handler(request),
  )
  return { port: server.addr.port, stop: () => server.shutdown() }
}

async function serveOnNode(app: AnyElysia, options: ServeOptions): Promise<RunningServer> {
  const [{ serve: serveWithNodeHttp }, { STATUS_CODES }] = await Promise.all([import('srvx/node'), import('node:http')])
  const handler = app.fetch
  // srvx writes a Response's statusText as the reason phrase, and a web Response's is '' unless set: the status
  // line would read "HTTP/1.1 200 " where Bun and Deno (and KurrentDB) send "HTTP/1.1 200 OK".
  const withReasonPhrase = (response: Response): Response => {
    if (response.statusText === '' && STATUS_CODES[response.status] !== undefined) {
      Object.defineProperty(response, 'statusText', { value: STATUS_CODES[response.status] })
    }
    return response
  }
  const server = serveWithNodeHttp({
    hostname: options.hostname,
    port: options.port,
    ...(options.tls === undefined ? {} : { tls: { cert: options.tls.cert, key: options.tls.key } }),
    fetch: async (request) => withReasonPhrase(await handler(request)),
    reusePort: false,
    // kafka-sink handles its own signals (app.ts) and writes its own logs.
    gracefulShutdown: false,
    silent: true,
  })
  await server.ready()
  const address = server.node?.server?.address()
  const port = typeof address === 'object' && address !== null ? address.port : options.port
  return { port, stop: () => server.close() }
}
