import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { lex } from '../src/sql/lexer.js'
import { ANALYST_TABLES, checkQueryTree, parseAstLines } from '../src/sql/policy.js'

// Lines of EXPLAIN QUERY TREE as chDB 3.4.0 (libchdb 26.7.2.1) printed them for
// `SELECT user()`: the analyzer names the function by its canonical name.
const USER_TREE = [
  'QUERY id: 0',
  '  PROJECTION',
  '    LIST id: 1, nodes: 1',
  "      CONSTANT id: 2, constant_value: 'default', constant_value_type: String",
  '        EXPRESSION',
  '          FUNCTION id: 3, function_name: currentUser, function_type: ordinary, result_type: String',
  '  JOIN TREE',
  '    TABLE id: 12, alias: __table1, table_name: system.one',
]

describe('SQL policy on the query tree', () => {
  it('refuses a function by the canonical name the analyzer resolved, whatever alias was written', () => {
    expect(() => checkQueryTree(USER_TREE, 'spanlens')).toThrow(expect.objectContaining({ code: 'SPANLENS_SQL_FORBIDDEN' }))
  })

  it("refuses a virtual column read from a table, not a subquery's column of the same name", () => {
    const fromTable = ['  JOIN TREE', '    TABLE id: 3, alias: __table1, table_name: spanlens.analyst_spans', '      COLUMN id: 2, column_name: _database, result_type: String, source_id: 3']
    const fromSubquery = ['    QUERY id: 3, alias: __table1', '      COLUMN id: 2, column_name: _database, result_type: UInt8, source_id: 3']
    expect(() => checkQueryTree(fromTable, 'spanlens')).toThrow(expect.objectContaining({ code: 'SPANLENS_SQL_FORBIDDEN' }))
    expect(() => checkQueryTree(fromSubquery, 'spanlens')).not.toThrow()
  })

  it('reads a node\'s name apart from an alias ClickHouse printed unquoted, parentheses and all', () => {
    const [node] = parseAstLines(["      TableIdentifier spans (alias analyst_spans(project = 'p2'))"])
    expect(node).toEqual({ depth: 6, type: 'TableIdentifier', name: 'spans' })
    expect(parseAstLines(['    Function count (alias a)b) (children 1)'])[0]?.name).toBe('count')
  })

  it('docs/sql.md has a row for exactly the tables the sandbox lets a query read', () => {
    const doc = readFileSync(new URL('../../../docs/sql.md', import.meta.url), 'utf8')
    const rows = [...doc.matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1])
    expect(rows.sort()).toEqual(Object.keys(ANALYST_TABLES).sort())
  })
})

describe('SQL lexer', () => {
  it.each([
    ['`sp\\x61ns`', 'spans'],
    ['"sp\\x61ns"', 'spans'],
    ['`a\\_b`', 'a\\_b'],
    ['`a\\zb`', 'a\\zb'],
    ['`a\\`b`', 'a`b'],
    ['`a``b`', 'a`b'],
    ['`a\\Nb`', 'ab'],
    ['`a\\tb`', 'a\tb'],
  ])('reads the quoted name %s as ClickHouse does: %s', (text, value) => {
    expect(lex(text)).toEqual([{ kind: 'quoted_ident', text, value }])
  })
})
