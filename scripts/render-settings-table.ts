/**
 * Writes the settings reference into README.md, between the `settings:begin` and `settings:end` markers, from the
 * setting definitions in src/settings. With `--check`, writes nothing and exits 1 when the README differs from what
 * would be rendered (a test runs it, so the documentation cannot drift from the schemas).
 */
import { renderSettingsReference } from '../src/settings/settings-table.ts'

const beginMarker = '<!-- settings:begin (generated from src/settings by `bun scripts/render-settings-table.ts`; do not edit by hand) -->'
const endMarker = '<!-- settings:end -->'
const readmeUrl = new URL('../README.md', import.meta.url)

/** The document with the text between the markers replaced by `section`. */
export function withSettingsSection(document: string, section: string): string {
  const begin = document.indexOf(beginMarker)
  const end = document.indexOf(endMarker)
  if (begin < 0 || end < begin) throw new Error(`README.md needs the markers\n${beginMarker}\n${endMarker}`)
  return `${document.slice(0, begin + beginMarker.length)}\n\n${section.trimEnd()}\n\n${document.slice(end)}`
}

if (import.meta.main) {
  const current = await Bun.file(readmeUrl).text()
  const rendered = withSettingsSection(current, renderSettingsReference())
  if (process.argv.includes('--check')) {
    if (current === rendered) {
      console.log('README.md settings reference is up to date.')
      process.exit(0)
    }
    const currentLines = current.split('\n')
    const firstDifference = rendered.split('\n').findIndex((line, index) => currentLines[index] !== line) + 1
    console.error(`README.md's settings reference differs from the schemas (first difference at line ${firstDifference}). Regenerate it with: bun scripts/render-settings-table.ts`)
    process.exit(1)
  }
  await Bun.write(readmeUrl, rendered)
  console.log('Wrote the settings reference into README.md.')
}
