/**
 * runtime/ owns what differs between the JavaScript runtimes kafka-sink runs on (Bun, Deno, Node): which one this
 * is, and how the HTTP API is served (serve.ts). Everything else in src/ uses only APIs all three provide
 * (node:* modules, web standards), so this folder is the only place that names a runtime.
 */

export type RuntimeName = 'bun' | 'deno' | 'node'

interface RuntimeGlobals {
  readonly Bun?: { readonly version: string }
  readonly Deno?: { readonly version: { readonly deno: string } }
}

/** Deno and Bun both define `process` too, so they are recognised by their own globals first. */
export function currentRuntime(): RuntimeName {
  const globals = globalThis as RuntimeGlobals
  if (globals.Deno !== undefined) return 'deno'
  if (globals.Bun !== undefined) return 'bun'
  return 'node'
}

/** For logs and refusals: e.g. `bun 1.4.5`, `deno 2.9.6`, `node 20.20.2`. */
export function runtimeDescription(): string {
  const globals = globalThis as RuntimeGlobals
  switch (currentRuntime()) {
    case 'deno':
      return `deno ${globals.Deno!.version.deno}`
    case 'bun':
      return `bun ${globals.Bun!.version}`
    case 'node':
      return `node ${process.versions.node}`
  }
}
