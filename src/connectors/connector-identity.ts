/**
 * Rules for connector ids and names, shared by the HTTP schemas and the service (KurrentDB's exact messages).
 */
import type { FieldViolation } from '../settings/parse-sink-settings.ts'

export const connectorIdPattern = '^[a-zA-Z0-9_-]+$'
export const connectorIdMinLength = 5
export const connectorIdMaxLength = 50
export const connectorNameMinLength = 3
export const connectorNameMaxLength = 50

export function connectorIdViolations(connectorId: string): FieldViolation[] {
  if (connectorId === '') return [{ field: 'ConnectorId', description: 'ConnectorId must not be empty' }]
  const violations: FieldViolation[] = []
  if (connectorId.length < connectorIdMinLength || connectorId.length > connectorIdMaxLength) {
    violations.push({ field: 'ConnectorId', description: `ConnectorId must be between ${connectorIdMinLength} and ${connectorIdMaxLength} characters long` })
  }
  if (!new RegExp(connectorIdPattern).test(connectorId)) {
    violations.push({ field: 'ConnectorId', description: 'ConnectorId can only contain alphanumeric characters, hyphens, and underscores' })
  }
  return violations
}

// C0 and C1 control characters (NUL, escape sequences, line breaks): a name is shown in lists, logs and terminals,
// where they hide the name or rewrite what is around it.
const controlCharacters = /[\u0000-\u001f\u007f-\u009f]/

export function connectorNameViolations(name: string): FieldViolation[] {
  const length = name.trim().length
  const violations: FieldViolation[] = []
  if (length < connectorNameMinLength || length > connectorNameMaxLength) {
    violations.push({ field: 'Name', description: `name must be between ${connectorNameMinLength} and ${connectorNameMaxLength} characters long` })
  }
  if (controlCharacters.test(name)) violations.push({ field: 'Name', description: 'name must not contain control characters (such as NUL, tab or line breaks)' })
  return violations
}
