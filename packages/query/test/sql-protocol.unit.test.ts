import { readFileSync } from 'node:fs'
import { Readable } from 'node:stream'
import { type ClickHouseClient, parseError } from '@clickhouse/client'
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
      if (!p.query.startsWith('EXPLAIN')) {
        const body = { meta: [{ name: 'service_name', type: 'String' }, { name: 'n', type: 'UInt64' }], data: [['svc', 1]], rows: 1, statistics: { elapsed: 0, rows_read: 1, bytes_read: 1 } }
        return { stream: Readable.from([Buffer.from(JSON.stringify(body))]) }
      }
      if (!p.query.startsWith('EXPLAIN AST')) return { stream: Readable.from([fixture('explain-query-tree.tsv')]) }
      // The parse that locates tables sees `spans` renamed to a marker: ClickHouse would print the marker.
      const marker = /\bFROM (\w+)/.exec(p.query)?.[1] ?? 'spans'
      return { stream: Readable.from([fixture('explain-ast.tsv').toString('utf8').replace('TableIdentifier spans', `TableIdentifier ${marker}`)]) }
    },
    query: async (p: { query: string; format: string; clickhouse_settings?: Record<string, unknown> }) => {
      calls.push({ method: 'query', query: p.query, settings: p.clickhouse_settings ?? {} })
      if (p.query.startsWith('EXPLAIN')) throw new Error('EXPLAIN through query(): the FORMAT would bind to the inner SELECT over HTTP')
      if (p.query.includes('system.tables')) return { json: async () => [{ name: 'spans' }, { name: 'span_content' }] }
      throw new Error('the query itself runs through exec, read as a stream')
    },
  } as unknown as ClickHouseClient
}

describe('POST /sql analysis protocol (the same embedded and over HTTP)', () => {
  it('asks for EXPLAIN as TabSeparated through exec, with no FORMAT clause, and reads the lines back', async () => {
    const calls: Call[] = []
    const limits = { maxExecutionSeconds: 7, maxMemoryBytes: 64 * 1024 * 1024, maxResultRows: 50, maxResultBytes: 64 * 1024 * 1024 }
    const r = await runSandboxedSql(httpLikeClient(calls), 'p1', QUERY, { database: 'spanlens', limits })
    expect(r.data).toEqual([{ service_name: 'svc', n: 1 }])
    const [ast, tables, bound, names, tree, run] = calls as [Call, Call, Call, Call, Call, Call]
    for (const explain of [ast, tables, bound, tree]) {
      expect(explain.method).toBe('exec')
      expect(explain.query).not.toMatch(/\bFORMAT\b/i)
      expect(explain.settings.default_format).toBe('TabSeparated')
    }
    expect(ast.query).toBe(`EXPLAIN AST graph = 0 ${QUERY}`)
    expect(tables.query).toMatch(/^EXPLAIN AST graph = 0 SELECT .* FROM spanlens_table_\d+ WHERE/)
    expect(run.query).toContain("FROM analyst_spans(project = 'p1') AS spans WHERE")
    // The rewritten query is parsed, and checked against the database's tables, before the analyzer runs it.
    expect(bound.query).toBe(`EXPLAIN AST graph = 0 ${run.query}`)
    expect(names).toMatchObject({ method: 'query', query: expect.stringContaining('system.tables') })
    // The analyzer runs scalar subqueries: the query tree is built under the limits.
    expect(tree.settings).toMatchObject({ readonly: '2', max_memory_usage: String(64 * 1024 * 1024) })
    expect(Number(tree.settings.max_execution_time)).toBeGreaterThan(0)
    expect(Number(tree.settings.max_execution_time)).toBeLessThanOrEqual(7)
    expect(run.method).toBe('exec')
    expect(run.settings).toMatchObject({ readonly: '2', max_result_rows: '50', max_result_bytes: String(64 * 1024 * 1024), result_overflow_mode: 'throw', default_format: 'JSONCompact' })
    expect(Number(run.settings.max_execution_time)).toBeLessThanOrEqual(7)
  })

  it("a server's error message reaches the analyst without the server's version", async () => {
    const err = Object.assign(new Error('Syntax error: failed at position 1 (SELEC): SELEC 1. Expected one of: Query. (SYNTAX_ERROR) (version 24.8.4.13 (official build))'), { code: '62', type: 'SYNTAX_ERROR' })
    const client = { exec: async () => Promise.reject(err) } as unknown as ClickHouseClient
    const limits = { maxExecutionSeconds: 1, maxMemoryBytes: 1 << 26, maxResultRows: 1, maxResultBytes: 64 * 1024 * 1024 }
    const refused = (await runSandboxedSql(client, 'p1', 'SELEC 1', { database: 'spanlens', limits }).catch((e: unknown) => e)) as Error
    expect(refused).toMatchObject({ code: 'SPANLENS_SQL_INVALID' })
    expect(refused.message).toContain('SYNTAX_ERROR')
    expect(refused.message).not.toMatch(/version|24\.8/)
  })

  it.each([
    ["Maybe you meant: ['spanlens.spans_minute_mv', 'spanlens.spans']", 'Maybe you meant spans?'],
    ["Maybe you meant: ['trace_hours']", ''],
    ['Maybe you meant spanlens.span_content?', ''],
  ])("a hint for a misspelt table (%s) names the analyst's tables alone", async (hint, kept) => {
    const message = `Unknown table expression identifier 'tbl' in scope SELECT * FROM tbl. ${hint}. (UNKNOWN_IDENTIFIER) (version 26.7.1.1 (official build))`
    const client = { exec: async () => Promise.reject(Object.assign(new Error(message), { code: '47', type: 'UNKNOWN_IDENTIFIER' })) } as unknown as ClickHouseClient
    const limits = { maxExecutionSeconds: 1, maxMemoryBytes: 1 << 26, maxResultRows: 1, maxResultBytes: 64 * 1024 * 1024 }
    const refused = (await runSandboxedSql(client, 'p1', 'SELECT * FROM tbl', { database: 'spanlens', limits }).catch((e: unknown) => e)) as Error
    expect(refused).toMatchObject({ code: 'SPANLENS_SQL_INVALID' })
    expect(refused.message).not.toMatch(/spans_minute_mv|trace_hours|span_content|spanlens\./)
    if (kept) expect(refused.message).toContain(kept)
    else expect(refused.message).not.toContain('Maybe you meant')
  })
})

describe('POST /sql when ClickHouse fails running the query', () => {
  // Server replies as clickhouse-js parses them (parseError), from a two-shard cluster with
  // a node stopped and from a server out of memory or query slots.
  const failing = (text: string | Error): ClickHouseClient => {
    const client = httpLikeClient([])
    const exec = client.exec.bind(client)
    return {
      ...client,
      exec: async (p: { query: string }) => (p.query.startsWith('EXPLAIN') ? exec(p as never) : Promise.reject(typeof text === 'string' ? parseError(text) : text)),
    } as unknown as ClickHouseClient
  }
  const run = async (text: string | Error) => {
    const limits = { maxExecutionSeconds: 5, maxMemoryBytes: 1 << 26, maxResultRows: 10, maxResultBytes: 64 * 1024 * 1024 }
    return (await runSandboxedSql(failing(text), 'p1', QUERY, { database: 'spanlens', limits }).catch((e: unknown) => e)) as Error & { code: string; statusCode: number }
  }

  it('a shard that cannot be reached, or whose connection broke, is 503 SPANLENS_STORE_UNREACHABLE with Retry-After, naming only the type', async () => {
    for (const [text, type] of [
      ['Code: 210. DB::NetException: Connection refused (127.0.0.1:9486, local address: 127.0.0.1:60212). (NETWORK_ERROR) (version 26.7.1.1)', 'NETWORK_ERROR'],
      ['Code: 279. DB::NetException: All connection tries failed. Log: Timeout exceeded while connecting to socket (127.0.0.1:9486, connection timeout 1000 ms). (ALL_CONNECTION_TRIES_FAILED) (version 26.7.1.1)', 'ALL_CONNECTION_TRIES_FAILED'],
      // A shard's socket closed mid-packet: the input that ended is the connection's, not the SQL's.
      ['Code: 32. DB::Exception: Attempt to read after eof: while receiving packet from 127.0.0.1:9486. (ATTEMPT_TO_READ_AFTER_EOF) (version 26.7.1.1)', 'ATTEMPT_TO_READ_AFTER_EOF'],
      ['Code: 33. DB::Exception: Cannot read all data. Bytes read: 1. Bytes expected: 5: While executing Remote. (CANNOT_READ_ALL_DATA) (version 26.7.1.1)', 'CANNOT_READ_ALL_DATA'],
    ] as const) {
      const err = (await run(text)) as Error & { code: string; statusCode: number; retryAfterSeconds?: number }
      expect({ type, code: err.code, status: err.statusCode, retryAfter: err.retryAfterSeconds }).toEqual({ type, code: 'SPANLENS_STORE_UNREACHABLE', status: 503, retryAfter: 5 })
      expect(err.message).toContain(type)
      expect(err.message).not.toContain('127.0.0.1')
    }
    // The same types raised by the SQL itself (toUInt8('')), here or on a shard, stay the analyst's 400.
    for (const text of [
      "Code: 32. DB::Exception: Attempt to read after eof: Cannot parse UInt8 from String, because value is too short: while executing 'FUNCTION toUInt8(substring(toString(__table1.dummy), 5_UInt8) :: 2)'. (ATTEMPT_TO_READ_AFTER_EOF) (version 26.7.1.1)",
      'Code: 32. DB::Exception: Received from 127.0.0.1:9486. DB::Exception: Attempt to read after eof: Cannot parse UInt8 from String, because value is too short. (ATTEMPT_TO_READ_AFTER_EOF): While executing Remote. (ATTEMPT_TO_READ_AFTER_EOF) (version 26.7.1.1)',
    ]) {
      const own = await run(text)
      expect({ code: own.code, status: own.statusCode }).toEqual({ code: 'SPANLENS_SQL_FAILED', status: 400 })
    }
  })

  it('a store failure (the server out of memory or query slots, a spent quota, a changed password) is 502 SPANLENS_QUERY_FAILED naming only its type', async () => {
    for (const [text, type] of [
      ['Code: 202. DB::Exception: Too many simultaneous queries. Maximum: 100. (TOO_MANY_SIMULTANEOUS_QUERIES) (version 26.7.1.1)', 'TOO_MANY_SIMULTANEOUS_QUERIES'],
      // Both were the analyst's 400 while the catalogue's store types and /sql's were two lists.
      ["Code: 201. DB::Exception: Quota for user `spanlens` for 3600s has been exceeded: queries = 101/100. Interval will end at 2026-12-06 09:00:00. (QUOTA_EXCEEDED) (version 26.7.1.1)", 'QUOTA_EXCEEDED'],
      ['Code: 516. DB::Exception: spanlens: Authentication failed: password is incorrect, or there is no user with such name. (AUTHENTICATION_FAILED) (version 26.7.1.1)', 'AUTHENTICATION_FAILED'],
      ['Code: 193. DB::Exception: Wrong password for user spanlens. (WRONG_PASSWORD) (version 26.7.1.1)', 'WRONG_PASSWORD'],
      [
        'Code: 241. DB::Exception: Memory limit (total) exceeded: would use 3.73 GiB (attempt to allocate chunk of 4194304 bytes), maximum: 3.72 GiB. OvercommitTracker decision: Query was selected to stop by OvercommitTracker. (MEMORY_LIMIT_EXCEEDED) (version 26.7.1.1)',
        'MEMORY_LIMIT_EXCEEDED',
      ],
    ] as const) {
      const err = await run(text)
      expect({ type, code: err.code, status: err.statusCode, message: err.message }).toEqual({ type, code: 'SPANLENS_QUERY_FAILED', status: 502, message: `ClickHouse query failed: ${type}` })
    }
  })

  it("the analyst's own SQL errors stay 400, without a shard's address; the query's memory limit is SPANLENS_SQL_LIMIT", async () => {
    const own = await run('Code: 153. DB::Exception: Received from 127.0.0.1:9486. DB::Exception: Division by zero: while executing FUNCTION intDiv(1, 0). (ILLEGAL_DIVISION) (version 26.7.1.1)')
    expect({ code: own.code, status: own.statusCode }).toEqual({ code: 'SPANLENS_SQL_FAILED', status: 400 })
    expect(own.message).toContain('Division by zero')
    expect(own.message).not.toMatch(/127\.0\.0\.1|9486|Received from/)
    // The whole message, as a client that does not trim it (chDB's shape: numeric code, the text as ClickHouse wrote it).
    const whole = await run(Object.assign(new Error('Received from 127.0.0.1:9486. DB::Exception: Division by zero: while executing FUNCTION intDiv(1, 0). (ILLEGAL_DIVISION)'), { code: '153' }))
    expect({ code: whole.code, status: whole.statusCode }).toEqual({ code: 'SPANLENS_SQL_FAILED', status: 400 })
    expect(whole.message).toMatch(/^query failed: Division by zero/)
    const limit = await run('Code: 241. DB::Exception: Memory limit (for query) exceeded: would use 64.01 MiB (attempt to allocate chunk of 1048576 bytes), maximum: 64.00 MiB. (MEMORY_LIMIT_EXCEEDED) (version 26.7.1.1)')
    expect({ code: limit.code, status: limit.statusCode }).toEqual({ code: 'SPANLENS_SQL_LIMIT', status: 400 })
  })
})
