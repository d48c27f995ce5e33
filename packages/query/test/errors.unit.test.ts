import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { queryApiErrors } from '../src/index.js'

const doc = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8')
const tableRows = (text: string) => new Set([...text.matchAll(/^\| (SPANLENS_[A-Z_]+)[^|]*\| (\d{3}) \|/gm)].map((m) => `${m[1]} ${m[2]}`))

describe('query error catalogue', () => {
  it('every code and status is in the errors table of docs/api.md', () => {
    const rows = tableRows(doc('../../../docs/api.md'))
    const catalogue = Object.values(queryApiErrors)
      .map((e) => `${e.code} ${e.statusCode}`)
      // The three SQL codes share one row: SPANLENS_SQL_INVALID / _FAILED / _LIMIT.
      .filter((row) => !/^SPANLENS_SQL_(FAILED|LIMIT) /.test(row))
    expect(catalogue.filter((row) => !rows.has(row))).toEqual([])
  })
})
