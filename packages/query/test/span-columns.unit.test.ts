import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { SPAN_INSERT_COLUMNS } from '../../ingest/src/schema/span-columns.js'
import { SPAN_FIELDS, spanSelect, TOKEN_FIELDS } from '../src/traces/span-row.js'

const stored = SPAN_INSERT_COLUMNS.map((c) => c.name as string)
type Leaf = { alias: string; expr?: string }
const fields = Object.values(SPAN_FIELDS).flatMap((f): Leaf[] => ('group' in f ? Object.values(f.group) : [f]))

describe("the query API's span fields", () => {
  it('return every token count ingest stores', () => {
    const tokenColumns = stored.filter((name) => name.endsWith('_tokens'))
    expect(Object.values(TOKEN_FIELDS).map((f) => f.alias).sort()).toEqual(tokenColumns.sort())
  })

  it('read only columns of the spans table, by their names or in an expression under another name', () => {
    for (const f of fields) {
      if (f.expr !== undefined) expect(stored, f.alias).not.toContain(f.alias)
      else expect(stored, f.alias).toContain(f.alias)
    }
  })

  it('select each value once; input and output only when asked', () => {
    const items = spanSelect().split(', ')
    expect(new Set(items).size).toBe(items.length)
    expect(items).not.toContain('input')
    expect(spanSelect({ io: true })).toBe(`${spanSelect()}, input, output`)
  })
})

describe('docs/api.md', () => {
  it("documents every span field, and every token count, in the spans' field table", () => {
    const doc = readFileSync(new URL('../../../docs/api.md', import.meta.url), 'utf8')
    const table = doc.slice(doc.indexOf('| Field | What |'), doc.indexOf('returned only'))
    const cells = table.split('\n').map((line) => line.split('|')[1] ?? '')
    for (const key of Object.keys(SPAN_FIELDS)) expect(cells.join(' '), key).toContain(`\`${key}\``)
    const tokens = table.split('\n').find((line) => line.startsWith('| `tokens` |')) ?? ''
    for (const key of Object.keys(TOKEN_FIELDS)) expect(tokens, key).toContain(`\`${key}\``)
  })
})
