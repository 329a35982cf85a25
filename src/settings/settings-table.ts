/**
 * Renders the settings reference of the README from the setting definitions, so no prose about a setting is
 * written twice. Pure: scripts/render-settings-table.ts writes it into README.md, or checks that it is there.
 */
import { enumSpellingNote } from './setting-kinds.ts'
import { settingDefinitions, settingKeys, unsupportedSettings } from './kafka-sink-settings.ts'
import { settingGroups, type SettingDefinition } from './setting-definition.ts'

function escapeCell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ')
}

function code(text: string): string {
  return `\`${text}\``
}

function keyCell(definition: SettingDefinition): string {
  const keys = definition.collection === 'namedEntries' ? `${code(`${definition.key}:<Name>`)} or ${code(definition.key)}` : code(definition.key)
  return definition.required ? `${keys} (required)` : keys
}

function typeCell(definition: SettingDefinition): string {
  return definition.secret ? `${definition.typeName}, secret` : definition.typeName
}

function defaultCell(definition: SettingDefinition): string {
  return definition.flatDefault === undefined ? 'none' : code(definition.flatDefault)
}

function acceptedValuesCell(definition: SettingDefinition): string {
  if (typeof definition.acceptedValues === 'string') return definition.acceptedValues
  return definition.acceptedValues.map(({ value, description }) => `${code(value)}: ${description}`).join('<br>')
}

function row(cells: readonly string[]): string {
  return `| ${cells.map(escapeCell).join(' | ')} |`
}

function groupTable(definitions: readonly SettingDefinition[]): string[] {
  return [
    row(['Key', 'Type', 'Default', 'Accepted values', 'Description']),
    row(['---', '---', '---', '---', '---']),
    ...definitions.map((definition) =>
      row([keyCell(definition), typeCell(definition), defaultCell(definition), acceptedValuesCell(definition), definition.schema.description ?? '']),
    ),
  ]
}

/** The README's settings reference: one table per group, then the KurrentDB keys that are refused. */
export function renderSettingsReference(): string {
  const lines: string[] = [
    `- Enumerated values are accepted in ${enumSpellingNote}; they are listed here in their canonical spelling.`,
    '- Durations are whole milliseconds or .NET TimeSpan strings (`hh:mm:ss[.fff]`, `d.hh:mm:ss`). A bare number is ' +
      'always milliseconds (.NET would read a bare TimeSpan number as days).',
    '- A nested `configuration` object is flattened to the same keys ' +
      `(\`{"subscription": {"filter": {"scope": "stream"}}}\` sets \`${settingKeys.filterScope}\`).`,
    '',
  ]
  for (const group of settingGroups) {
    const definitions = settingDefinitions.filter((definition) => definition.group === group.id)
    if (definitions.length === 0) continue
    lines.push(`### ${group.title}`, '', ...groupTable(definitions), '')
  }
  lines.push(
    '### KurrentDB settings kafka-sink does not support',
    '',
    'These keys belong to features of KurrentDB\'s connectors that kafka-sink does not have. They are refused with ' +
      'the reason below rather than ignored.',
    '',
    row(['Key', 'Why']),
    row(['---', '---']),
    ...unsupportedSettings.map((unsupported) => {
      const key = unsupported.withChildren ? `${code(unsupported.key)}, ${code(`${unsupported.key}:*`)}` : code(unsupported.key)
      const harmless = unsupported.harmless ? ' (`false` is accepted, as it asks for nothing)' : ''
      return row([`${key}${harmless}`, unsupported.reason])
    }),
    '',
  )
  return lines.join('\n')
}
