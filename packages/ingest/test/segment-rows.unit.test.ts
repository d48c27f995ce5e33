import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { columnLine } from '../src/pipeline/row-format.js'
import { rowField, type RowTarget } from '../src/pipeline/segment-rows.js'

// A row's fields read back as they were before the spool escaped them: a retry compares
// them with what the table holds (stored-rows.ts), and a field read with its escapes left
// in would count a stored row as missing and insert it again.

const target = (columns: number): RowTarget => ({ table: 'spans', columns: Array.from({ length: columns }, (_, i) => `c${i}`), format: 'TabSeparated' })

describe('a field of a spool row reads back as written', () => {
  it('undoes TabSeparated escaping of any text, field by field', () => {
    // Text with the characters TSV escapes, and the escape sequences themselves as text.
    const text = fc.string({ unit: fc.constantFrom('a', 'é', '\\', '\t', '\n', '\r', '\0', "'", 'n', 't', '0', '😀') })
    fc.assert(
      fc.property(fc.array(text, { minLength: 1, maxLength: 5 }), (values) => {
        const line = columnLine(values)
        const row = line.subarray(0, line.length - 1)
        expect(values.map((_, i) => rowField(row, target(values.length), i))).toEqual(values)
      }),
      { numRuns: 300 },
    )
  })

  it('reads a field past the end of the row as empty, and a JSON row without escapes to undo', () => {
    expect(rowField(Buffer.from('a\tb'), target(3), 2)).toBe('')
    const json: RowTarget = { table: 'spans', columns: ['a', 'b'], format: 'JSONCompactEachRow' }
    expect(rowField(Buffer.from('["x\\\\t", 7]'), json, 0)).toBe('x\\t')
    expect(rowField(Buffer.from('["x", 7]'), json, 1)).toBe('7')
  })
})
