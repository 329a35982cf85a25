/**
 * Writes docs/settings.md from the setting definitions in src/settings. With `--check`, writes nothing and exits 1
 * when the file on disk differs from what would be rendered (run by the tests, so the docs cannot drift).
 */
import { renderSettingsDocument } from '../src/settings/settings-table.ts'

const documentPath = 'docs/settings.md'
const documentUrl = new URL(`../${documentPath}`, import.meta.url)
const rendered = renderSettingsDocument()

if (process.argv.includes('--check')) {
  const file = Bun.file(documentUrl)
  const current = (await file.exists()) ? await file.text() : undefined
  if (current === rendered) {
    console.log(`${documentPath} is up to date.`)
    process.exit(0)
  }
  if (current === undefined) {
    console.error(`${documentPath} is missing. Generate it with: bun scripts/render-settings-table.ts`)
  } else {
    const currentLines = current.split('\n')
    const renderedLines = rendered.split('\n')
    const firstDifference = renderedLines.findIndex((line, index) => currentLines[index] !== line)
    const line = firstDifference < 0 ? renderedLines.length + 1 : firstDifference + 1
    console.error(
      `${documentPath} differs from the settings schemas (first difference at line ${line}). ` +
        'Regenerate it with: bun scripts/render-settings-table.ts',
    )
  }
  process.exit(1)
}

await Bun.write(documentUrl, rendered)
console.log(`Wrote ${documentPath}.`)
