import { readFileSync } from 'node:fs'
import { Readable } from 'node:stream'
import type { ClickHouseClient } from '@clickhouse/client'
import { describe, expect, it } from 'vitest'
import { runSandboxedSql } from '../src/index.js'

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url))
const QUERY = "SELECT service_name, count() AS n FROM spans WHERE name != 'tab\\there' GROUP BY service_name"

interface Call {
  method: 'query' | 'exec'
  query: string
  settings: Record<string, unknown>
}

/**
 * A client that answers like a ClickHouse server over HTTP: `exec` returns the
 * recorded EXPLAIN output; `query` appends the FORMAT clause it is given, which a
 * server would bind to the innermost SELECT of an EXPLAIN (ClickHouse #28575).
 */
function httpLikeClient(calls: Call[]): ClickHouseClient {
  return {
    exec: async (p: { query: string; clickhouse_settings?: Record<string, unknown> }) => {
      calls.push({ method: 'exec', query: p.query, settings: p.clickhouse_settings ?? {} })
      if (!p.query.startsWith('EXPLAIN AST')) return { stream: Readable.from([fixture('explain-query-tree.tsv')]) }
      // The parse that locates tables sees `spans` renamed to a marker: ClickHouse would print the marker.
      const marker = /\bFROM (\w+)/.exec(p.query)?.[1] ?? 'spans'
      return { stream: Readable.from([fixture('explain-ast.tsv').toString('utf8').replace('TableIdentifier spans', `TableIdentifier ${marker}`)]) }
    },
    query: async (p: { query: string; format: string; clickhouse_settings?: Record<string, unknown> }) => {
      calls.push({ method: 'query', query: p.query, settings: p.clickhouse_settings ?? {} })
      if (p.query.startsWith('EXPLAIN')) throw new Error('EXPLAIN through query(): the FORMAT would bind to the inner SELECT over HTTP')
      return { json: async () => ({ meta: [], data: [{ service_name: 'svc', n: 1 }], rows: 1, statistics: { elapsed: 0, rows_read: 1, bytes_read: 1 } }) }
    },
  } as unknown as ClickHouseClient
}

describe('POST /sql analysis protocol (the same embedded and over HTTP)', () => {
  it('asks for EXPLAIN as TabSeparated through exec, with no FORMAT clause, and reads the lines back', async () => {
    const calls: Call[] = []
    const limits = { maxExecutionSeconds: 7, maxMemoryBytes: 64 * 1024 * 1024, maxResultRows: 50 }
    const r = await runSandboxedSql(httpLikeClient(calls), 'p1', QUERY, { database: 'spanlens', limits })
    expect(r.data).toEqual([{ service_name: 'svc', n: 1 }])
    const [ast, tables, tree, run] = calls as [Call, Call, Call, Call]
    for (const explain of [ast, tables, tree]) {
      expect(explain.method).toBe('exec')
      expect(explain.query).not.toMatch(/\bFORMAT\b/i)
      expect(explain.settings.default_format).toBe('TabSeparated')
    }
    expect(ast.query).toBe(`EXPLAIN AST graph = 0 ${QUERY}`)
    expect(tables.query).toMatch(/^EXPLAIN AST graph = 0 SELECT .* FROM spanlens_table_\d+ WHERE/)
    expect(run.query).toContain("FROM analyst_spans(project = 'p1') AS spans WHERE")
    // The analyzer runs scalar subqueries: the query tree is built under the limits.
    expect(tree.settings).toMatchObject({ readonly: '2', max_memory_usage: String(64 * 1024 * 1024) })
    expect(Number(tree.settings.max_execution_time)).toBeGreaterThan(0)
    expect(Number(tree.settings.max_execution_time)).toBeLessThanOrEqual(7)
    expect(run.method).toBe('query')
    expect(run.settings).toMatchObject({ readonly: '2', max_result_rows: '50', result_overflow_mode: 'throw' })
    expect(Number(run.settings.max_execution_time)).toBeLessThanOrEqual(7)
  })

  it("a server's error message reaches the analyst without the server's version", async () => {
    const err = Object.assign(new Error('Syntax error: failed at position 1 (SELEC): SELEC 1. Expected one of: Query. (SYNTAX_ERROR) (version 24.8.4.13 (official build))'), { code: '62', type: 'SYNTAX_ERROR' })
    const client = { exec: async () => Promise.reject(err) } as unknown as ClickHouseClient
    const limits = { maxExecutionSeconds: 1, maxMemoryBytes: 1 << 26, maxResultRows: 1 }
    const refused = (await runSandboxedSql(client, 'p1', 'SELEC 1', { database: 'spanlens', limits }).catch((e: unknown) => e)) as Error
    expect(refused).toMatchObject({ code: 'SPANLENS_SQL_INVALID' })
    expect(refused.message).toContain('SYNTAX_ERROR')
    expect(refused.message).not.toMatch(/version|24\.8/)
  })
})
