/**
 * CLI entry: parse flags and env, then lazily import and start the app. Importing the KurrentDB client alone costs
 * ~200 ms (measured), so `--version` and `--help` must answer before any of it is loaded.
 */
import './runtime/node-compat.ts'
import { helpText, parseCommandLine } from './cli.ts'
// The import attribute is what Deno (and the JSON-modules standard) requires; Bun and Node accept it too.
import packageJson from '../package.json' with { type: 'json' }

const version = packageJson.version

// No top-level await: the binary is built as CommonJS with precompiled bytecode, which starts faster.
async function main(): Promise<void> {
  const commandLine = parseCommandLine(process.argv.slice(2), process.env)
  switch (commandLine.command) {
    case 'version':
      process.stdout.write(`kafka-sink ${version}\n`)
      return
    case 'help':
      process.stdout.write(helpText(version))
      return
    case 'invalid':
      process.stderr.write(`kafka-sink: ${commandLine.message} (see kafka-sink --help)\n`)
      process.exit(2)
      return
    case 'health': {
      const { probeHealth } = await import('./health-probe.ts')
      process.exit(await probeHealth(commandLine.options.url))
      return
    }
    case 'serve': {
      // Before anything is loaded: the Bun binary may re-execute itself here, once, to size its garbage collector.
      const { sizeCollectorByReexecuting } = await import('./runtime/collector-sizing.ts')
      sizeCollectorByReexecuting()
      const { runApp } = await import('./app.ts')
      process.exit(await runApp(commandLine.options, version))
    }
  }
}

void main()
