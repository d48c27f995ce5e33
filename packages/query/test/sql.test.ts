import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Store } from '@spanlens/ingest'
import { runSandboxedSql } from '../src/index.js'
import { MAX_QUERY_BYTES } from '../src/sql/explain.js'
import { insertSpans, openStore, span } from './helpers/store.js'

let store: Store
let close: () => Promise<void>
const limits = { maxExecutionSeconds: 5, maxMemoryBytes: 512 * 1024 * 1024, maxResultRows: 100, maxResultBytes: 64 * 1024 * 1024 }
const run = (query: string, project = 'p1', l = limits) =>
  runSandboxedSql(store.client, project, query, { database: store.database, limits: l, cluster: store.cluster !== undefined, stream: store.streamQuery })

beforeAll(async () => {
  ;({ store, close } = await openStore())
  await insertSpans(store, [
    ...Array.from({ length: 5 }, () => span({ project_id: 'p1', service_name: 'mine' })),
    ...Array.from({ length: 7 }, () => span({ project_id: 'p2', service_name: 'theirs' })),
  ])
  await store.client.insert({
    table: 'scores',
    format: 'JSONEachRow',
    // Dated now: a score older than the store's retention is deleted by its TTL on insert, and the
    // isolation check below would hold for want of a score (it did, dated 2026-01-01).
    values: [{ project_id: 'p2', score_id: 's1', trace_id: 't', name: 'x', value: 1, timestamp: new Date().toISOString().replace('T', ' ').slice(0, 19) }],
  })
  const rs = await store.client.query({ query: "SELECT count() AS n FROM scores WHERE project_id = 'p2'", format: 'JSONEachRow' })
  expect(await rs.json()).toEqual([{ n: 1 }])
})
afterAll(async () => close())

describe('POST /sql sandbox', () => {
  it('runs a SELECT over the caller project only', async () => {
    const r = await run('SELECT service_name, count() AS n FROM spans GROUP BY service_name')
    expect(r.data).toEqual([{ service_name: 'mine', n: '5' }])
    expect(r.rows).toBe(1)
    expect(Object.keys(r.statistics)).toEqual(['elapsed'])
  })

  it('keeps aliases, qualified columns, CTEs, joins, subqueries and a trailing semicolon working', async () => {
    const r = await run(`WITH t AS (SELECT trace_id FROM spans) -- comment mentioning scores
      SELECT count() AS n, any(s.service_name) AS svc FROM spans AS s INNER JOIN t ON s.trace_id = t.trace_id
      WHERE s.trace_id IN (SELECT trace_id FROM spans FINAL) AND spans_x_literal = 0 OR 1;`.replace('spans_x_literal = 0 OR 1', '1'))
    expect(r.data).toEqual([{ n: '5', svc: 'mine' }])
    const q = await run('SELECT spans.name FROM spans LIMIT 1')
    expect(q.rows).toBe(1)
    expect((await run('SELECT count() AS n FROM scores')).data).toEqual([{ n: '0' }])
  })

  it.each([
    ['INSERT INTO spans (project_id) VALUES (1)', 'write'],
    ['ALTER TABLE spans DELETE WHERE 1', 'alter'],
    ['SELECT 1; SELECT 2', 'two statements'],
    ['SELECT * FROM spanlens.spans', 'qualified table'],
    ['SELECT * FROM system.tables', 'system table'],
    ['SELECT count() FROM schema_migrations', 'other table'],
    ['SELECT count() FROM spans_minute_mv', 'materialized view'],
    ['SELECT * FROM numbers(3) WHERE number IN schema_migrations', 'IN table'],
    ["SELECT * FROM file('/etc/passwd')", 'file table function'],
    ["SELECT * FROM url('http://example.com', CSV)", 'url'],
    ["SELECT * FROM s3('http://x/y')", 's3'],
    ["SELECT * FROM remote('127.0.0.1', system.one)", 'remote'],
    ["SELECT * FROM mysql('h:3306', 'd', 't', 'u', 'p')", 'mysql'],
    ["SELECT * FROM postgresql('h:5432', 'd', 't', 'u', 'p')", 'postgresql'],
    ["SELECT * FROM executable('x.sh', TSV, 'a String')", 'executable'],
    ["SELECT file('/etc/passwd')", 'file function'],
    ["SELECT dictGet('d', 'a', 1)", 'dictionary'],
    ["SELECT * FROM analyst_spans(project = 'p2')", 'other project via view'],
    ['SELECT count() FROM spans SETTINGS max_threads = 1', 'settings'],
    ["SELECT 1 INTO OUTFILE '/tmp/x'", 'into outfile'],
    ["SELECT getSetting('readonly')", 'getSetting'],
    ['SELECT * FROM (SELECT * FROM spanlens.scores)', 'nested qualified'],
  ])('refuses %s (%s) with SPANLENS_SQL_FORBIDDEN', async (query) => {
    await expect(run(query)).rejects.toMatchObject({ code: 'SPANLENS_SQL_FORBIDDEN' })
  })

  it('allows numbers() and system.one', async () => {
    expect((await run('SELECT sum(number) AS s FROM numbers(10)')).data).toEqual([{ s: '45' }])
    expect((await run('SELECT dummy FROM system.one')).rows).toBe(1)
  })

  it('a syntax error is SPANLENS_SQL_INVALID; limits are SPANLENS_SQL_LIMIT', async () => {
    await expect(run('SELEC 1')).rejects.toMatchObject({ code: 'SPANLENS_SQL_INVALID', statusCode: 400 })
    // The position is counted in the analyst's query (7: the "1"), not in the EXPLAIN it went through (19).
    await expect(run('SELEC 1')).rejects.toMatchObject({ message: expect.stringMatching(/failed at position 7 \(1\)/) })
    await expect(run('SELECT 1,\n  2 +')).rejects.toMatchObject({ message: expect.stringMatching(/failed at position 16 \(end of query\)/) })
    await expect(run('SELECT number FROM numbers(1000)')).rejects.toMatchObject({ code: 'SPANLENS_SQL_LIMIT' })
  })

  it('takes a query up to MAX_QUERY_BYTES of UTF-8 and refuses a longer one with a 400 naming query: 90,000 three-byte characters are 270 KB', async () => {
    // `SELECT length('…') AS n` padded to `bytes` with a character of `width` bytes.
    const literal = (bytes: number, ch = 'a', tail = '') => {
      const head = "SELECT length('"
      const end = `') AS n${tail}`
      return `${head}${ch.repeat((bytes - head.length - end.length) / Buffer.byteLength(ch))}${end}`
    }
    expect(Buffer.byteLength(literal(MAX_QUERY_BYTES))).toBe(MAX_QUERY_BYTES)
    expect((await run(literal(MAX_QUERY_BYTES))).data).toEqual([{ n: String(MAX_QUERY_BYTES - 22) }])
    for (const query of [literal(MAX_QUERY_BYTES + 1), `SELECT length('${'€'.repeat(90_000)}') AS n`]) {
      const err = (await run(query).catch((e: unknown) => e)) as Error & { code: string }
      expect(err).toMatchObject({ code: 'SPANLENS_BAD_REQUEST', statusCode: 400, message: expect.stringMatching(/^query: \d+ bytes of UTF-8, over the \d+ /) })
      expect(err.message).not.toContain('€')
    }
    // Within the limit as written, past it once each table read is bound to the project's view.
    const bound = (await run(literal(MAX_QUERY_BYTES - 100, 'a', ` FROM spans WHERE 1${' OR trace_id IN (SELECT trace_id FROM spans)'.repeat(40)}`)).catch((e: unknown) => e)) as Error
    expect(bound).toMatchObject({ code: 'SPANLENS_BAD_REQUEST', message: expect.stringMatching(/^query: \d+ bytes once its tables are bound/) })
  })

  it.each([
    'SELECT version()',
    'SELECT currentUser()',
    'SELECT user()',
    'SELECT current_user()',
    'SELECT currentDatabase()',
    'SELECT DATABASE()',
    'SELECT currentSchemas(true)',
    'SELECT timeZone()',
    'SELECT serverTimezone()',
    'SELECT uptime()',
    'SELECT hostname()',
    'SELECT tcpPort()',
    'SELECT queryID()',
    "SELECT logTrace('x')",
    'SELECT count() FROM numbers(3) WHERE toString(number) != buildId()',
    'SELECT (SELECT version()) AS v',
    'SELECT _database FROM spans',
    'SELECT _table FROM spans',
    'SELECT x FROM (SELECT _database AS x FROM scores)',
  ])('refuses %s, which reveals server identity or state, with SPANLENS_SQL_FORBIDDEN', async (query) => {
    await expect(run(query)).rejects.toMatchObject({ code: 'SPANLENS_SQL_FORBIDDEN', statusCode: 403 })
  })

  it('a result over SPANLENS_SQL_MAX_RESULT_BYTES is SPANLENS_SQL_LIMIT naming it: 10,000 rows of 10 kB are stopped by ClickHouse, not read whole', async () => {
    const big = { ...limits, maxResultRows: 10_000, maxResultBytes: 64 * 1024 * 1024 }
    const refused = (await run('SELECT repeat(toString(number % 10), 10000) AS s FROM numbers(10000)', 'p1', big).catch((e: unknown) => e)) as Error & { code: string; cause?: unknown }
    expect(refused).toMatchObject({ code: 'SPANLENS_SQL_LIMIT', statusCode: 400 })
    expect(refused.message).toContain('SPANLENS_SQL_MAX_RESULT_BYTES')
    // ClickHouse's own check (max_result_bytes) refused it: the 100 MB never reached the server's reader.
    expect(refused.cause).toMatchObject({ type: 'TOO_MANY_ROWS_OR_BYTES' })
    // A constant is one value in ClickHouse's blocks, expanded only as it is written: the server's reader stops that.
    await expect(run("SELECT repeat('x', 10000) AS s FROM numbers(10000)", 'p1', big)).rejects.toMatchObject({ code: 'SPANLENS_SQL_LIMIT', message: expect.stringContaining('SPANLENS_SQL_MAX_RESULT_BYTES') })
    // Under the limit it is answered.
    expect((await run("SELECT repeat('x', 1000) AS s FROM numbers(100)", 'p1', big)).rows).toBe(100)
  })

  it('a constant result over SPANLENS_SQL_MAX_RESULT_BYTES is refused as too large, a block in, not at the memory limit', async () => {
    // One 20 kB value in ClickHouse's blocks, 180 MB once written out. Written whole, in one block,
    // it passed the 128 MiB memory limit before any of it was counted.
    const small = { ...limits, maxResultRows: 10_000, maxResultBytes: 1024 * 1024, maxMemoryBytes: 128 * 1024 * 1024 }
    await expect(run("SELECT repeat('x', 20000) AS s FROM numbers(9000)", 'p1', small)).rejects.toMatchObject({
      code: 'SPANLENS_SQL_LIMIT',
      message: expect.stringContaining('SPANLENS_SQL_MAX_RESULT_BYTES'),
    })
    // The statement stopped there leaves nothing for the next one.
    expect((await run('SELECT 1 AS one')).data).toEqual([{ one: 1 }])
  })

  it('a result of many blocks comes whole and in order; an empty one keeps its columns; WITH TOTALS gives its rows', async () => {
    const r = await run('SELECT number AS n, toString(number) AS s FROM numbers(1000) ORDER BY n', 'p1', { ...limits, maxResultRows: 1000 })
    expect(r.rows).toBe(1000)
    expect(r.meta).toEqual([{ name: 'n', type: 'UInt64' }, { name: 's', type: 'String' }])
    expect(r.data.every((row, i) => row.n === String(i) && row.s === String(i))).toBe(true)
    expect(await run('SELECT number AS n FROM numbers(10) WHERE n > 100')).toMatchObject({ rows: 0, data: [], meta: [{ name: 'n', type: 'UInt64' }] })
    expect((await run('SELECT number % 2 AS k, count() AS c FROM numbers(5) GROUP BY k WITH TOTALS ORDER BY k')).data).toEqual([{ k: 0, c: '3' }, { k: 1, c: '2' }])
  })

  it('a result whose JSON outgrows SPANLENS_SQL_MAX_RESULT_BYTES is refused though ClickHouse counts it under: escaped bytes, and names repeated in every row', async () => {
    const small = { ...limits, maxResultRows: 10_000, maxResultBytes: 64 * 1024 }
    // 20 kB in ClickHouse's blocks; each control character is six bytes of JSON (\u0001).
    await expect(run('SELECT repeat(char(1), 1000) AS s FROM numbers(20)', 'p1', small)).rejects.toMatchObject({ code: 'SPANLENS_SQL_LIMIT', message: expect.stringContaining('SPANLENS_SQL_MAX_RESULT_BYTES') })
    // 1 kB of UInt8 in ClickHouse; the reply names the 900-character column in each of the 1,000 rows.
    const alias = 'c'.repeat(900)
    await expect(run(`SELECT 1 AS ${alias} FROM numbers(1000)`, 'p1', small)).rejects.toMatchObject({ code: 'SPANLENS_SQL_LIMIT', message: expect.stringContaining('SPANLENS_SQL_MAX_RESULT_BYTES') })
    expect((await run(`SELECT 1 AS ${alias} FROM numbers(10)`, 'p1', small)).data).toEqual(Array.from({ length: 10 }, () => ({ [alias]: 1 })))
  })

  it('a read of spans that returns more rows than allowed, or runs past the time limit, is SPANLENS_SQL_LIMIT (on a cluster: a Distributed read stopped mid-way)', async () => {
    await expect(run('SELECT span_id FROM spans', 'p1', { ...limits, maxResultRows: 3 })).rejects.toMatchObject({ code: 'SPANLENS_SQL_LIMIT' })
    const t0 = Date.now()
    await expect(
      run('SELECT count() AS n FROM spans, numbers(1e10) AS x WHERE sipHash64(x.number, span_id) % 7 = 1', 'p1', { ...limits, maxExecutionSeconds: 1 }),
    ).rejects.toMatchObject({ code: 'SPANLENS_SQL_LIMIT' })
    expect(Date.now() - t0).toBeLessThan(10_000)
    // The store still answers afterwards, every shard of it.
    expect((await run('SELECT count() AS n FROM spans')).data).toEqual([{ n: '5' }])
  })

  it("an analyst's error message quotes the query without the limits the sandbox added", async () => {
    const err = await run('SELECT no_such_column FROM spans').catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'SPANLENS_SQL_INVALID' })
    expect((err as Error).message).toContain('no_such_column')
    expect((err as Error).message).not.toMatch(/SETTINGS|max_memory_usage|max_execution_time/)
  })

  it('a column of the analyst\'s own that starts with an underscore is not a virtual column', async () => {
    expect((await run('SELECT _table FROM (SELECT 1 AS _table)')).data).toEqual([{ _table: 1 }])
  })

  it('keeps tabs, quotes and backslashes in literals and aliases intact through the analysis', async () => {
    const r = await run("SELECT 'a\\tb\\\\c''d' AS `t\tx`, 'new\nline' AS y")
    expect(r.data).toEqual([{ 't\tx': 'a\tb\\c\'d', y: 'new\nline' }])
  })
})

describe('POST /sql reads a table only where the query names one to read from', () => {
  // p1 has 5 spans of service 'mine' and no scores; p2 has 7 spans of 'theirs' and a score.
  it.each([
    ['SELECT service_name, count() AS spans FROM spans GROUP BY service_name ORDER BY spans DESC', [{ service_name: 'mine', spans: '5' }]],
    ['SELECT service_name, count() AS spans FROM spans GROUP BY service_name HAVING spans > 3', [{ service_name: 'mine', spans: '5' }]],
    ['SELECT count() spans FROM spans', [{ spans: '5' }]],
    ['SELECT count() AS `logs` FROM logs', [{ logs: '0' }]],
    ['FROM spans SELECT count() AS "scores"', [{ scores: '5' }]],
    ['WITH 2 AS metrics SELECT metrics * count() AS n FROM spans', [{ n: '10' }]],
    ['SELECT number AS spans_minute FROM numbers(3) ORDER BY spans_minute DESC LIMIT 1', [{ spans_minute: '2' }]],
    ['SELECT sum(number) OVER spans AS s FROM numbers(3) WINDOW spans AS (ORDER BY number) ORDER BY s DESC LIMIT 1', [{ s: '3' }]],
    ['SELECT arrayMap(spans -> spans + 1, [1, 2]) AS logs', [{ logs: [2, 3] }]],
    ['SELECT count() AS n FROM spans AS scores', [{ n: '5' }]],
    ['SELECT scores.service_name AS logs FROM spans AS scores LIMIT 1', [{ logs: 'mine' }]],
    ['SELECT spans.n FROM (SELECT count() AS n FROM spans) AS spans', [{ n: '5' }]],
    ['SELECT constructor, toString FROM (SELECT 1 AS constructor, 2 AS toString)', [{ constructor: 1, toString: 2 }]],
  ])('%s: a column, alias, window or lambda named like a table is not the table', async (query, expected) => {
    expect((await run(query)).data).toEqual(expected)
  })

  it.each([
    ['WITH spans AS (SELECT 1) SELECT * FROM spans', 'spans'],
    ['WITH t AS (SELECT 1), `logs` AS (SELECT 2) SELECT * FROM t', '`logs`'],
    ['WITH RECURSIVE scores AS (SELECT 1) SELECT * FROM scores', 'scores'],
    ['SELECT * FROM (WITH Metrics AS MATERIALIZED (SELECT 1) SELECT * FROM Metrics)', 'Metrics'],
  ])('refuses %s, a WITH subquery named like a table, with SPANLENS_SQL_INVALID naming it', async (query, name) => {
    // Bound to the view, FROM <name> would read the caller's table instead of the subquery.
    const err = await run(query).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'SPANLENS_SQL_INVALID', statusCode: 400 })
    expect((err as Error).message).toContain(`WITH ${name} AS`)
  })

  it('binds a table aliased with any name, parentheses and quotes included, to the caller\'s view', async () => {
    expect((await run("SELECT count() AS n FROM spans AS `analyst_spans(project = 'p2')`")).data).toEqual([{ n: '5' }])
    expect((await run('SELECT count() AS n FROM spans AS `a)b` FINAL')).data).toEqual([{ n: '5' }])
  })

  it('refuses IN with a bare table name, which would read the table itself, with SPANLENS_SQL_FORBIDDEN saying what to write', async () => {
    const err = await run('SELECT count() AS n FROM numbers(3) WHERE toString(number) IN spans').catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'SPANLENS_SQL_FORBIDDEN', statusCode: 403 })
    expect((err as Error).message).toContain('IN (SELECT … FROM spans)')
  })

  /** Each of these names a table where an alias, CTE or column could stand: p1 gets its own rows or a 4xx, never p2's. */
  const ESCAPES = [
    'SELECT service_name FROM spanlens.spans AS spans',
    'SELECT service_name FROM schema_migrations AS spans',
    'SELECT service_name FROM spans_local AS spans',
    "SELECT service_name FROM spans AS spans WHERE project_id = 'p2'",
    "SELECT service_name FROM spans(project = 'p2')",
    "SELECT service_name FROM spans AS `analyst_spans(project = 'p2')`",
    'WITH spans AS (SELECT * FROM spans) SELECT service_name FROM spans',
    'WITH spans AS (SELECT * FROM spanlens.spans) SELECT service_name FROM spans',
    "WITH scores AS (SELECT 'p2' AS project) SELECT service_name FROM spans, scores",
    'WITH x AS (SELECT * FROM spans) SELECT service_name FROM x AS spans',
    'SELECT service_name FROM spans WHERE trace_id IN spans',
    'SELECT service_name FROM spans WHERE (trace_id, span_id) IN (SELECT trace_id, span_id FROM scores AS spans)',
    'SELECT service_name FROM (SELECT * FROM spans) AS scores UNION ALL SELECT service_name FROM (SELECT * FROM spans) AS spans',
    'SELECT spans.service_name AS service_name FROM spans AS s JOIN spans AS spans ON s.trace_id = spans.trace_id',
    'SELECT "spans".service_name FROM "spans"',
    'SELECT service_name FROM `spans` AS `logs`',
    'SELECT service_name FROM spans/**/AS/**/logs',
    'SELECT service_name FROM `spans `',
    'SELECT service_name FROM SPANS AS Spans',
    'SELECT name AS service_name FROM scores',
    'SELECT toString(count()) AS service_name FROM spans AS scores',
    'SELECT toString(count()) AS service_name FROM scores AS spans',
    'FROM spans AS metrics SELECT metrics.service_name',
  ]

  it.each(ESCAPES)("%s: p1 reads its own rows or is refused with a 4xx, never p2's", async (query) => {
    const r = await run(query).then(
      (ok) => ok,
      (err: unknown) => err as { code: string; statusCode: number },
    )
    if ('statusCode' in r) {
      expect(r.code).toMatch(/^SPANLENS_SQL_/)
      expect(r.statusCode).toBeGreaterThanOrEqual(400)
      expect(r.statusCode).toBeLessThan(500)
      return
    }
    // p2's rows would show as 'theirs', its span count (7) or its score ('x', 1).
    for (const row of r.data) expect(['mine', '5', '0']).toContain(row.service_name)
  })
})

describe('POST /sql with table names in every role (property)', () => {
  /** What p1 counts in each source; p2's rows would add to spans (7) and scores (1). */
  const P1_COUNT: Record<string, number> = { spans: 5, SPANS: 5, '"spans"': 5, scores: 0, '`scores`': 0, logs: 0, 'numbers(2)': 2, 'system.one': 1 }
  const OUTSIDE = ['spanlens.spans', 'schema_migrations']
  // A name goes where ClickHouse reads a table, or where it is an alias, a column alias or a WITH name.
  const name = fc.constantFrom('spans', 'scores', 'logs', 'metrics', 'spans_minute', 'SPANS', '`spans`', '"scores"', 't', 'u')
  const table = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...Object.keys(P1_COUNT), 't') }, { weight: 1, arbitrary: fc.constantFrom(...OUTSIDE) })
  const source = fc.tuple(table, fc.boolean(), fc.option(name, { freq: 2 }))
  const query = fc.record({
    cte: fc.option(fc.tuple(name, fc.constantFrom(...Object.keys(P1_COUNT))), { freq: 2 }),
    withAlias: fc.option(name, { freq: 2 }),
    column: name,
    from: source,
    join: fc.option(source, { freq: 2 }),
  })
  const render = ([t, sub, alias]: [string, boolean, string | null]) => `${sub ? `(SELECT * FROM ${t})` : t}${alias ? ` AS ${alias}` : ''}`
  const sql = (q: typeof query extends fc.Arbitrary<infer Q> ? Q : never) =>
    `${q.cte ? `WITH ${q.cte[0]} AS (SELECT * FROM ${q.cte[1]}) ` : q.withAlias ? `WITH 1 AS ${q.withAlias} ` : ''}` +
    `SELECT toString(count()) AS ${q.column} FROM ${render(q.from)}${q.join ? ` JOIN ${render(q.join)} ON 1` : ''}` +
    `${!q.cte && q.withAlias ? ` WHERE ${q.withAlias} = 1` : ''} HAVING ${q.column} != '' ORDER BY ${q.column}`

  it("every answer counts p1's rows alone, and every refusal is a typed 4xx", async () => {
    let answered = 0
    await fc.assert(
      fc.asyncProperty(query, async (q) => {
        const text = sql(q)
        const r = await run(text).then(
          (ok) => ok,
          (err: unknown) => err as { code?: string; statusCode?: number },
        )
        if (!('data' in r)) {
          expect(r.code, text).toMatch(/^SPANLENS_SQL_/)
          expect(r.statusCode, text).toBeGreaterThanOrEqual(400)
          expect(r.statusCode, text).toBeLessThan(500)
          return
        }
        answered++
        const count = (t: string) => (t === 't' && q.cte ? P1_COUNT[q.cte[1]] : P1_COUNT[t]) as number
        const expected = count(q.from[0]) * (q.join ? count(q.join[0]) : 1)
        expect(OUTSIDE.includes(q.from[0]) || OUTSIDE.includes(q.join?.[0] ?? ''), text).toBe(false)
        expect(r.data.map((row) => Object.values(row)), text).toEqual([[String(expected)]])
      }),
      { seed: 20_260_504, numRuns: 150 },
    )
    // Not vacuous: most of these are questions ClickHouse answers.
    expect(answered).toBeGreaterThan(50)
  })
})

describe('POST /sql returns every value exactly', () => {
  it('64-bit and wider integers and decimals come as strings with every digit, arrays included', async () => {
    const r = await run(
      "SELECT cityHash64('a') AS h, toString(h) AS s, toUInt64(9007199254740993) AS n, toInt64('-9223372036854775808') AS int64_min, " +
        "toUInt64('18446744073709551615') AS uint64_max, toInt128('-170141183460469231731687303715884105728') AS int128_min, " +
        "toUInt256('115792089237316195423570985008687907853269984665640564039457584007913129639935') AS uint256_max, " +
        "[toUInt64(9007199254740993)] AS a, toDecimal128('12345678901234567890.123456789', 9) AS d",
    )
    expect(r.data).toEqual([
      {
        h: '2603192927274642682',
        s: '2603192927274642682',
        n: '9007199254740993',
        int64_min: '-9223372036854775808',
        uint64_max: '18446744073709551615',
        int128_min: '-170141183460469231731687303715884105728',
        uint256_max: '115792089237316195423570985008687907853269984665640564039457584007913129639935',
        a: ['9007199254740993'],
        d: '12345678901234567890.123456789',
      },
    ])
    expect(r.meta.map((m) => m.type)).toEqual(['UInt64', 'String', 'UInt64', 'Int64', 'UInt64', 'Int128', 'UInt256', 'Array(UInt64)', 'Decimal(38, 9)'])
  })

  it('floats and integers narrower than 64 bits stay JSON numbers', async () => {
    const r = await run('SELECT toFloat64(0.1) AS f64, toFloat32(1.5) AS f32, toUInt32(4294967295) AS u32, toInt32(-2147483648) AS i32, toInt8(-128) AS i8, 1e308 AS big_float')
    expect(r.data).toEqual([{ f64: 0.1, f32: 1.5, u32: 4294967295, i32: -2147483648, i8: -128, big_float: 1e308 }])
  })
})

describe('POST /sql errors speak of what the analyst wrote', () => {
  it.each([
    ['SELECT * FROM spanz', /\bspans\b/],
    ['SELECT count() FROM scorez', /\bscores\b/],
    ['SELECT servic_name FROM spans', /service_name/],
    ['SELECT servic_name FROM spans AS s', /service_name/],
  ])('%s names the analyst’s tables and columns, not the database or the project view', async (query, hint) => {
    const err = (await run(query).catch((e: unknown) => e)) as Error & { code: string }
    expect(err.code).toMatch(/^SPANLENS_SQL_(INVALID|FAILED)$/)
    expect(err.message).toMatch(hint)
    expect(err.message).not.toContain(`${store.database}.`)
    expect(err.message).not.toMatch(/analyst_|project = /)
  })

  it.each(['spans_minute_m', 'trace_hour', 'span_conten', 'schema_migration', 'spans_minute_hourl'])(
    'SELECT * FROM %s: a hint names no table the analyst may not read',
    async (table) => {
      const err = (await run(`SELECT * FROM ${table}`).catch((e: unknown) => e)) as Error & { code: string }
      expect(err.code).toBe('SPANLENS_SQL_INVALID')
      expect(err.message).toContain(table)
      expect(err.message).not.toMatch(/spans_minute_mv|trace_hours|span_content\b|schema_migrations|Maybe you meant/)
    },
  )
})

describe('POST /sql analyses the query as sent, never runs it unchecked', () => {
  // The sandbox parses `EXPLAIN AST … <query>`. Read as an implicit SELECT (clickhouse-local's and so
  // chDB's default), `EXPLAIN AST FROM (SELECT 1 AS EXPLAIN) WHERE …` would run as `SELECT EXPLAIN AS AST
  // FROM …` on the base tables, without views or limits, and its error would quote p2's rows to p1.
  it.each([
    "FROM (SELECT 1 AS EXPLAIN) WHERE CAST((SELECT any(concat(project_id, ':', service_name)) FROM spans WHERE project_id = 'p2'), 'UInt8') = 1",
    "FROM (SELECT 1 AS EXPLAIN) WHERE throwIf((SELECT count() FROM spans WHERE project_id = 'p2') > 0)",
    "FROM (SELECT 'SelectWithUnionQuery (children 1)' AS EXPLAIN)",
    'FROM spans',
  ])('%s is refused as not valid SQL, revealing nothing of p2', async (query) => {
    const err = await run(query).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'SPANLENS_SQL_INVALID', statusCode: 400 })
    expect((err as Error).message).not.toMatch(/theirs|p2:|throwIf|EXPLAIN AS AST/)
  })
})

describe('POST /sql never lets the analyzer read a table the views do not scope', () => {
  // ClickHouse's analyzer runs a scalar subquery while it builds the query tree, before the
  // tree could be checked, and a failed cast quotes the value: FROM one of these tables, p1
  // read every project's rows in the error message.
  const leak = (from: string, column = "concat('s:', service_name)") => `SELECT (SELECT toUInt8(arrayStringConcat(groupArray(${column}), '|')) FROM ${from})`
  /** Every character as ClickHouse's \xHH escape: the same name to ClickHouse, another text to a lexer. */
  const hex = (name: string) => [...name].map((c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join('')
  const tablesOfStore = async () => {
    const rs = await store.client.query({ query: 'SELECT name FROM system.tables WHERE database = {d:String}', query_params: { d: store.database }, format: 'JSONEachRow' })
    return (await rs.json<{ name: string }>()).map((r) => r.name)
  }
  const refusedOrOwn = async (query: string) => {
    const r = await run(query).then(
      (ok) => ok,
      (err: unknown) => err as { code?: string; statusCode?: number; message: string },
    )
    if ('data' in r) return JSON.stringify(r.data)
    expect(r.code, query).toMatch(/^SPANLENS_SQL_/)
    expect(r.statusCode, query).toBeLessThan(500)
    return r.message
  }

  it('reads an escaped or quoted analyst table name through the caller\'s view', async () => {
    for (const from of ['`sp\\x61ns`', '"sp\\x61ns"', `\`${hex('spans')}\``]) {
      const err = (await run(leak(from)).catch((e: unknown) => e)) as Error
      expect(err, from).toMatchObject({ code: 'SPANLENS_SQL_INVALID' })
      expect(err.message, from).toContain('s:mine|s:mine')
      expect(err.message, from).not.toContain('theirs')
    }
    expect((await run('SELECT count() AS n FROM `sp\\x61ns`')).data).toEqual([{ n: '5' }])
  })

  it('refuses every other table and view of the database, however it is written, before anything runs', async () => {
    const names = (await tablesOfStore()).filter((n) => !['spans', 'scores', 'logs', 'metrics', 'spans_minute'].includes(n))
    expect(names).toEqual(expect.arrayContaining(['span_content', 'schema_migrations']))
    // Each name in every spelling and every place, the pairs spread over the names (each query runs four parses).
    const spellings = (name: string) => [name, `\`${name}\``, `"${name}"`, `\`${hex(name)}\``, `${store.database}.${name}`]
    const places = [(t: string) => leak(t, 'toString(count())'), (t: string) => `SELECT (SELECT toUInt8(count()) FROM numbers(1) WHERE 1 IN ${t})`, (t: string) => `SELECT count() FROM ${t}`]
    let k = 0
    for (const name of names) {
      for (const from of spellings(name)) {
        const query = (places[k++ % places.length] as (t: string) => string)(from)
        const err = await run(query).catch((e: unknown) => e)
        expect(err, query).toMatchObject({ code: 'SPANLENS_SQL_FORBIDDEN', statusCode: 403 })
      }
    }
  })

  it('answers p1 alone for base-table names in scalar subqueries, IN and joins (property)', async () => {
    const name = fc.constantFrom('spans', 'scores', 'span_content', 'schema_migrations', 'spans_minute', 'logs')
    const spelled = fc.tuple(name, fc.constantFrom('bare', 'back', 'double', 'hex', 'partHex')).map(([n, how]) => {
      if (how === 'bare') return n
      if (how === 'back') return `\`${n}\``
      if (how === 'double') return `"${n}"`
      if (how === 'hex') return `\`${hex(n)}\``
      return `\`${n.slice(0, 2)}${hex(n.slice(2, 3))}${n.slice(3)}\``
    })
    const shape = fc.constantFrom(
      (t: string) => leak(t),
      (t: string) => `SELECT (SELECT toUInt8(count()) FROM numbers(1) WHERE 'x' IN ${t})`,
      (t: string) => `SELECT count() FROM numbers(1) AS n JOIN ${t} AS j ON 1`,
      (t: string) => `SELECT * FROM (SELECT (SELECT toUInt8(any(service_name)) FROM ${t} WHERE service_name != 'mine'))`,
    )
    await fc.assert(
      fc.asyncProperty(spelled, shape, async (t, make) => {
        const said = await refusedOrOwn(make(t))
        expect(said, make(t)).not.toMatch(/theirs|p2/)
      }),
      { seed: 20_261_206, numRuns: 60 },
    )
  })
})

describe('POST /sql limits cover the analysis step', () => {
  const oneSecond = { ...limits, maxExecutionSeconds: 1 }

  it('a scalar subquery that the analyzer runs stops at the time limit with SPANLENS_SQL_LIMIT', async () => {
    // Unbounded, the analyzer ran this subquery over 2e10 numbers for 7.5-16 s; over 1e11, 5x that.
    const t0 = Date.now()
    await expect(run('SELECT (SELECT sum(cityHash64(number)) FROM numbers(1e11)) AS s', 'p1', oneSecond)).rejects.toMatchObject({
      code: 'SPANLENS_SQL_LIMIT',
    })
    expect(Date.now() - t0).toBeLessThan(10_000)
  })

  it('a scalar subquery that the analyzer runs stops at the memory limit with SPANLENS_SQL_LIMIT', async () => {
    // Unbounded, groupArray over 1e8 numbers needs ~800 MiB; the limit is 64 MiB.
    let peak = process.memoryUsage().rss
    const base = peak
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss)
    }, 10)
    try {
      await expect(
        run('SELECT (SELECT length(groupArray(number)) FROM numbers(1e8)) AS n', 'p1', { ...limits, maxMemoryBytes: 64 * 1024 * 1024 }),
      ).rejects.toMatchObject({ code: 'SPANLENS_SQL_LIMIT' })
    } finally {
      clearInterval(sampler)
    }
    expect(peak - base).toBeLessThan(400 * 1024 * 1024)
  })

  it('analysis and execution share one time budget', async () => {
    const t0 = Date.now()
    await expect(run('SELECT count() FROM numbers(1e13)', 'p1', oneSecond)).rejects.toMatchObject({ code: 'SPANLENS_SQL_LIMIT' })
    expect(Date.now() - t0).toBeLessThan(10_000)
  })
})
