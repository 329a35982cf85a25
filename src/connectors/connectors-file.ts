/**
 * The declarative connectors file (`--connectors FILE`): YAML or JSON, a map of connector id → `{ name?, settings,
 * state? }`. Applied at start-up; applying the same file twice changes nothing.
 */
import { readFile } from 'node:fs/promises'
import { parse as parseYaml } from 'yaml'
import type { Logger } from '../observability/logger.ts'
import { ConnectorError } from './connector-errors.ts'
import type { ConnectorDeclaration, RunningConnectorService } from './connector-service.ts'

export class ConnectorsFileError extends Error {
  override readonly name = 'ConnectorsFileError'
}

/** Pure: the file's text → declarations, or an error naming every problem. */
export function parseConnectorsFile(text: string, fileName: string): Map<string, ConnectorDeclaration> {
  let document: unknown
  try {
    document = /\.json$/i.test(fileName) || text.trimStart().startsWith('{') ? JSON.parse(text) : parseYaml(text)
  } catch (error) {
    throw new ConnectorsFileError(`${fileName} is not valid YAML or JSON: ${(error as Error).message}`)
  }
  if (document === null || document === undefined) return new Map()
  if (typeof document !== 'object' || Array.isArray(document)) throw new ConnectorsFileError(`${fileName} must map connector ids to { name?, settings, state? }`)
  const problems: string[] = []
  const declarations = new Map<string, ConnectorDeclaration>()
  for (const [connectorId, entry] of Object.entries(document)) {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      problems.push(`${connectorId}: must be an object with settings`)
      continue
    }
    const { name, settings, state, ...unknown } = entry as Record<string, unknown>
    for (const key of Object.keys(unknown)) problems.push(`${connectorId}: unknown field '${key}' (expected name, settings, state)`)
    if (name !== undefined && typeof name !== 'string') problems.push(`${connectorId}: name must be a string`)
    if (settings === null || typeof settings !== 'object' || Array.isArray(settings)) problems.push(`${connectorId}: settings must be a map of setting keys to values`)
    const normalizedState = state === undefined ? 'running' : typeof state === 'string' ? state.toLowerCase() : undefined
    if (normalizedState !== 'running' && normalizedState !== 'stopped') problems.push(`${connectorId}: state must be running or stopped`)
    if (problems.length > 0) continue
    declarations.set(connectorId, { name: name as string | undefined, settings: settings as Record<string, unknown>, state: normalizedState as 'running' | 'stopped' })
  }
  if (problems.length > 0) throw new ConnectorsFileError(`${fileName}: ${problems.join('; ')}`)
  return declarations
}

export async function applyConnectorsFile(service: RunningConnectorService, fileName: string, logger: Logger): Promise<void> {
  let text: string
  try {
    text = await readFile(fileName, 'utf8')
  } catch (error) {
    throw new ConnectorsFileError(`cannot read ${fileName}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
  for (const [connectorId, declaration] of parseConnectorsFile(text, fileName)) {
    try {
      const outcome = await service.declare(connectorId, declaration)
      logger.info('connector declared', { connectorId, outcome, file: fileName })
    } catch (error) {
      if (error instanceof ConnectorError && error.details.fieldViolations !== undefined) {
        const problems = error.details.fieldViolations.map((violation) => `${violation.field}: ${violation.description}`).join('; ')
        throw new ConnectorsFileError(`${fileName}: connector ${connectorId}: ${problems}`)
      }
      if (error instanceof ConnectorError) throw new ConnectorsFileError(`${fileName}: connector ${connectorId}: ${error.message}`)
      throw error
    }
  }
}
