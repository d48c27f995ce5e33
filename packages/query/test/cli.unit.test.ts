import { describe, expect, it } from 'vitest'
import { stringifyReply } from '../src/json.js'
import { runCli } from '../src/index.js'
import { COMMANDS } from '../src/cli/commands.js'
import { COMMON_OPTIONS } from '../src/cli/help.js'
import { ANALYST_TABLES } from '../src/sql/policy.js'

interface Sent {
  method: string
  url: string
  body: unknown
}

/** Runs the CLI against a fake server that answers every request with `reply` (or an API error). */
async function cli(argv: string[], reply: (path: string) => { status: number; body: unknown } = () => ({ status: 500, body: { error: { code: 'SPANLENS_FAKE', message: 'no server' } } })) {
  let stdout = ''
  let stderr = ''
  const sent: Sent[] = []
  const fetch = (async (url: string, init: RequestInit) => {
    sent.push({ method: init.method ?? 'GET', url, body: init.body ? JSON.parse(init.body as string) : undefined })
    const r = reply(new URL(url).pathname)
    return new Response(stringifyReply(r.body), { status: r.status })
  }) as typeof globalThis.fetch
  const code = await runCli(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), fetch, env: {} })
  return { code, stdout, stderr, sent }
}

/** A command line as a shell splits it (double or single quotes group words). */
const words = (line: string) => [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? '')

describe('spanlens CLI help', () => {
  it('spanlens --help lists every command; without a command it prints the same to stderr and exits 1', async () => {
    const help = await cli(['--help'])
    expect(help.code).toBe(0)
    for (const c of COMMANDS) expect(help.stdout).toContain(`  ${c.name}`)
    const none = await cli([])
    expect(none.code).toBe(1)
    expect(none.stderr).toBe(help.stdout)
  })

  it('each command has --help with its options, examples and the time syntax; `spanlens help <command>` is the same', async () => {
    for (const c of COMMANDS) {
      const help = await cli([c.name, '--help'])
      expect(help.code).toBe(0)
      expect(help.sent).toEqual([])
      for (const option of Object.keys(c.options)) expect(help.stdout).toContain(`--${option}`)
      for (const [line] of c.examples) expect(help.stdout).toContain(`spanlens ${line}`)
      expect((await cli(['help', c.name])).stdout).toBe(help.stdout)
    }
    for (const name of ['traces', 'drift', 'bias', 'slo']) expect((await cli([name, '--help'])).stdout).toContain('now-<n><s|m|h|d|w>')
    for (const name of ['drift', 'bias']) expect((await cli([name, '--help'])).stdout).toMatch(/attr:<key>[\s\S]*spanlens \w+ .*attr:/)
  })

  it('every example in the help parses and sends a request', async () => {
    for (const c of COMMANDS) {
      for (const [line] of c.examples) {
        const r = await cli(words(line))
        expect({ line, stderr: r.stderr, sent: r.sent.length }).toEqual({ line, stderr: `spanlens ${c.name}: SPANLENS_FAKE: no server\n`, sent: 1 })
      }
    }
  })

  it('sql --help and the overview name every table the SQL sandbox lets a query read', async () => {
    const help = (await cli(['sql', '--help'])).stdout
    const overview = (await cli(['--help'])).stdout.split('\n').find((l) => l.startsWith('  sql ')) ?? ''
    for (const table of Object.keys(ANALYST_TABLES)) {
      expect(help).toMatch(new RegExp(`Tables: .*\\b${table}\\b`))
      expect(overview).toMatch(new RegExp(`\\b${table}\\b`))
    }
  })

  it('drift --help, as printed', async () => {
    expect((await cli(['drift', '--help'])).stdout).toMatchSnapshot()
  })
})

describe('spanlens CLI parsing', () => {
  it('an unknown option fails with that command\'s usage and sends nothing', async () => {
    const r = await cli(['traces', '--bogus'])
    expect(r.code).toBe(1)
    expect(r.stderr.split('\n')[0]).toBe('spanlens traces: unknown option --bogus')
    expect(r.stderr).toContain('spanlens traces [--from T]')
    expect(r.sent).toEqual([])
  })

  it('a refused or missing key is explained with --api-key and SPANLENS_API_KEY, not the HTTP header', async () => {
    const unauthorized = (message: string) => () => ({ status: 401, body: { error: { code: 'SPANLENS_UNAUTHORIZED', message } } })
    const missing = await cli(['traces', '--url', 'http://h:1'], unauthorized('missing Authorization header; send Authorization: Bearer <api key>'))
    expect([missing.code, missing.stderr]).toEqual([1, 'spanlens traces: SPANLENS_UNAUTHORIZED: http://h:1 needs an API key: pass --api-key <key> or set SPANLENS_API_KEY\n'])
    const refused = await cli(['traces', '--url', 'http://h:1', '--api-key', 'nope-0123'], unauthorized('invalid API key'))
    expect(refused.stderr).toBe("spanlens traces: SPANLENS_UNAUTHORIZED: http://h:1 refused the API key from --api-key: pass one of the server's SPANLENS_API_KEYS\n")
    let stderr = ''
    await runCli(['traces', '--url', 'http://h:1'], {
      stderr: (t) => (stderr += t),
      fetch: (async () => new Response(JSON.stringify({ error: { code: 'SPANLENS_UNAUTHORIZED', message: 'invalid API key' } }), { status: 401 })) as typeof fetch,
      env: { SPANLENS_API_KEY: 'nope-0123' },
    })
    expect(stderr).toContain('refused the API key from SPANLENS_API_KEY')
  })

  it('a number option that is not a whole number fails before any request', async () => {
    const r = await cli(['bias', '--group-by', 'model', '--outcome', 'error_rate', '--min-group-size', '3x'])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe('spanlens bias: --min-group-size: expected a whole number, got "3x"\n')
    expect(r.sent).toEqual([])
  })

  it('an option given an empty value fails before any request, on every command: read as not given, --signals "" ran the default signals', async () => {
    for (const command of COMMANDS) {
      const options = Object.entries({ ...COMMON_OPTIONS, ...command.options }).filter(([, spec]) => spec.type === 'string')
      expect(options.length).toBeGreaterThan(1)
      for (const [option] of options) {
        for (const argv of [[command.name, `--${option}`, ''], [command.name, `--${option}=`]]) {
          const r = await cli(argv)
          expect({ code: r.code, first: r.stderr.split('\n')[0], sent: r.sent }, argv.join(' ')).toEqual({ code: 1, first: `spanlens ${command.name}: --${option} needs a value, got an empty one`, sent: [] })
        }
      }
    }
  })

  it('a list option with an empty item fails before any request, on every command that takes one', async () => {
    const lists = COMMANDS.flatMap((c) => Object.entries(c.options).filter(([, spec]) => spec.list).map(([option]) => [c.name, option] as const))
    expect(lists).toContainEqual(['drift', 'signals'])
    for (const [command, option] of lists) {
      for (const value of ['latency,,model', 'a,', ' , ']) {
        const r = await cli([command, `--${option}`, value])
        expect({ code: r.code, stderr: r.stderr, sent: r.sent }, `${command} --${option} ${value}`).toEqual({ code: 1, stderr: `spanlens ${command}: --${option}: expected values separated by commas, got an empty one\n`, sent: [] })
      }
    }
    // Around the commas, spaces are not part of a signal's name.
    const r = await cli(['drift', '--dimension', 'release', '--reference', 'v1', '--current', 'v2', '--signals', 'latency, model'])
    expect((r.sent[0]?.body as { signals: string[] }).signals).toEqual(['latency', 'model'])
  })

  it('common options may come before the command; drift windows become {from, to}', async () => {
    const r = await cli(['--url', 'http://h:1/', 'drift', '--reference', 'now-14d..now-7d', '--current', 'now-7d..', '--service', 'chat', '--min-samples', '50'])
    expect(r.sent).toEqual([
      { method: 'POST', url: 'http://h:1/api/v1/drift', body: { reference: { from: 'now-14d', to: 'now-7d' }, current: { from: 'now-7d' }, filter: { service: 'chat' }, minSamples: 50 } },
    ])
  })

  it.each(['now-1d', 'now-14d..now-7d..now', '..now'])('a drift window %s that is not FROM..TO exits 1 before any request, naming it', async (window) => {
    const r = await cli(['drift', '--reference', window, '--current', 'now-7d..'])
    expect(r.code).toBe(1)
    expect(r.sent).toEqual([])
    expect(r.stderr).toBe(`spanlens drift: --reference: expected FROM..TO (TO may be left out), e.g. now-14d..now-7d, got "${window}"\n`)
  })

  it('an argument or an option the command form does not read exits 1 before any request, naming it', async () => {
    const id = 'ab'.repeat(16)
    for (const [argv, message] of [
      [['traces', id, 'extra'], 'spanlens traces: unexpected argument "extra"\n'],
      [['drift', 'now-1d', '--reference', 'now-2d..now-1d', '--current', 'now-1d..'], 'spanlens drift: unexpected argument "now-1d"\n'],
      [['slo', 'check', 'now', 'later'], 'spanlens slo: unexpected arguments "now" "later"\n'],
      [['traces', id, '--limit', '3', '--q', 'x'], 'spanlens traces: --q, --limit: for the list of traces, not one trace\n'],
      [['bias', 'counterfactual', '--outcome', 'error_rate'], 'spanlens bias: --outcome: for bias across groups, not counterfactual pairs\n'],
    ] as Array<[string[], string]>) {
      const r = await cli(argv)
      expect(r.code, argv.join(' ')).toBe(1)
      expect(r.sent).toEqual([])
      expect(r.stderr.startsWith(message), r.stderr).toBe(true)
    }
    // A query is every word after sql.
    const r = await cli(['sql', 'SELECT', '1'], () => ({ status: 200, body: { data: [], meta: [], rows: 0 } }))
    expect(r.sent).toEqual([{ method: 'POST', url: 'http://127.0.0.1:4318/api/v1/sql', body: { query: 'SELECT 1' } }])
  })

  it('an unknown command or subcommand exits 1', async () => {
    expect((await cli(['trace'])).code).toBe(1)
    expect((await cli(['slo', 'status'])).stderr).toBe('spanlens slo: unknown slo subcommand status\n')
    expect((await cli(['bias', 'pairs'])).code).toBe(1)
  })
})

describe('spanlens CLI output', () => {
  it('traces prints a table with numbers right-aligned, and the next page', async () => {
    const page = {
      items: [
        { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', startTime: '2026-12-04T09:00:00.000Z', name: 'agent run', service: 'chat', status: 'error', spans: 12, durationMs: 3042.5, tokens: { total: 1830 }, costUsd: 0.0123 },
        { traceId: '00f067aa0ba902b700f067aa0ba902b7', startTime: '2026-12-04T08:59:00.000Z', name: 'rag', service: 'search', status: 'ok', spans: 3, durationMs: 87, tokens: { total: 0 }, costUsd: null },
      ],
      nextCursor: 'WyIxNz',
    }
    const r = await cli(['traces', '--from', 'now-1h', '--limit', '2'], () => ({ status: 200, body: page }))
    expect(r.sent[0]?.url).toBe('http://127.0.0.1:4318/api/v1/traces?from=now-1h&limit=2')
    expect(r.stdout).toMatchSnapshot()
  })

  it('says ok for a healthy span, writes money in dollars and marks a cost some calls lack a price for, once, with why', async () => {
    const page = {
      items: [{ traceId: 'aa', startTime: '2026-12-04T09:00:00.000Z', name: 'run', service: 'chat', status: 'unset', spans: 2, durationMs: 165.4309, tokens: { total: 514 }, costUsd: 3.4e-7, costIncomplete: true }],
      nextCursor: null,
    }
    const list = (await cli(['traces'], () => ({ status: 200, body: page }))).stdout
    expect(list).toContain('  ok  ')
    expect(list).toContain('165.4 ms')
    expect(list).toContain('≥ $0.00000034')
    expect(list.match(/no price/g)).toHaveLength(1)
    const trace = {
      traceId: 'aa',
      durationMs: 2818.9,
      totals: { spans: 2, errors: 0, tokens: { total: 1830 }, costUsd: 0.000077, costIncomplete: false },
      roots: [{ name: 'run', kind: 'chain', durationMs: 2818.9, status: 'ok', tokens: { total: 0 }, costUsd: null, children: [{ name: 'chat', kind: 'llm', durationMs: 2700, status: 'error', tokens: { total: 1830 }, costUsd: 0.000077, children: [] }] }],
    }
    expect((await cli(['traces', 'aa'], () => ({ status: 200, body: trace }))).stdout).toBe(
      'trace aa: 2 spans, 2.82 s, 1,830 tokens, $0.000077, 0 errors\n  • run [chain] 2.82 s\n    ✗ chat [llm] 2.70 s, 1,830 tok, $0.000077\n',
    )
  })

  it('prints unknown, not ≥ $0, in the list and the tree when no call of a trace had a price (the API answers 0 with costIncomplete)', async () => {
    const page = {
      items: [{ traceId: 'aa', startTime: '2026-12-04T09:00:00.000Z', name: 'run', service: 'chat', status: 'ok', spans: 2, durationMs: 87, tokens: { total: 0 }, costUsd: 0, costIncomplete: true }],
      nextCursor: null,
    }
    const list = (await cli(['traces'], () => ({ status: 200, body: page }))).stdout
    expect(list).toMatch(/ unknown\n/)
    expect(list).not.toContain('≥')
    const trace = {
      traceId: 'aa',
      durationMs: 87,
      totals: { spans: 2, errors: 1, tokens: { total: 0 }, costUsd: 0, costIncomplete: true },
      roots: [{ name: 'chat', kind: 'llm', durationMs: 87, status: 'error', tokens: { total: 0 }, costUsd: null, children: [] }],
    }
    expect((await cli(['traces', 'aa'], () => ({ status: 200, body: trace }))).stdout.split('\n')[0]).toBe('trace aa: 2 spans, 87 ms, 0 tokens, unknown, 1 errors')
  })

  it('says when a trace has more spans than its tree shows', async () => {
    const trace = {
      traceId: 'aa',
      durationMs: 1000,
      totals: { spans: 12_000, errors: 0, tokens: { total: 0 }, costUsd: 0 },
      roots: [{ name: 'run', kind: 'chain', durationMs: 1000, status: 'ok', tokens: { total: 0 }, costUsd: null, children: [] }],
      truncated: true,
    }
    const out = (await cli(['traces', 'aa'], () => ({ status: 200, body: trace }))).stdout
    expect(out.split('\n').slice(0, 2)).toEqual(['trace aa: 12000 spans, 1.00 s, 0 tokens, $0, 0 errors', '  (the trace has more spans than the tree holds: the first 1 by start time are shown)'])
  })

  it('prints a trace nested 5,000 spans deep, each span under the one before', async () => {
    type Node = { name: string; kind: string; durationMs: number; status: string; tokens: { total: number }; costUsd: null; children: Node[] }
    let leaf: Node = { name: 's4999', kind: 'chain', durationMs: 1, status: 'ok', tokens: { total: 0 }, costUsd: null, children: [] }
    for (let i = 4_998; i >= 0; i--) leaf = { ...leaf, name: `s${i}`, children: [leaf] }
    const trace = { traceId: 'aa', durationMs: 1, totals: { spans: 5_000, errors: 0, tokens: { total: 0 }, costUsd: 0 }, roots: [leaf] }
    const lines = (await cli(['traces', 'aa'], () => ({ status: 200, body: trace }))).stdout.trimEnd().split('\n')
    expect(lines).toHaveLength(5_001)
    // Indented 32 levels at most, deeper ones saying their depth: the output grows with the spans, not their square.
    expect(lines[32]).toBe(`${'  '.repeat(32)}• s31 [chain] 1 ms`)
    expect(lines[5_000]).toBe(`${'  '.repeat(32)}↳5000 • s4999 [chain] 1 ms`)
    // --json: indented where it can be, on one line when indenting would grow with the square of the depth.
    const json = (await cli(['traces', 'aa', '--json'], () => ({ status: 200, body: trace }))).stdout
    expect(stringifyReply(JSON.parse(json))).toBe(stringifyReply(trace))
  })

  it('sql prints 64-bit integers, which the API sends as strings, with every digit and right-aligned like other numbers', async () => {
    const reply = {
      data: [
        { model: 'gpt-4o', calls: '1234', h: '2603192927274642682', p: 0.5 },
        { model: 'o3', calls: '7', h: '18446744073709551615', p: 12.25 },
      ],
      meta: [{ name: 'model', type: 'LowCardinality(String)' }, { name: 'calls', type: 'UInt64' }, { name: 'h', type: 'UInt64' }, { name: 'p', type: 'Float64' }],
      rows: 2,
    }
    const out = (await cli(['sql', 'SELECT …'], () => ({ status: 200, body: reply }))).stdout
    expect(out).toBe(
      [
        'model   calls                           h      p',
        '------  -----  --------------------------  -----',
        'gpt-4o  1,234   2,603,192,927,274,642,682    0.5',
        'o3          7  18,446,744,073,709,551,615  12.25',
        '2 row(s)',
        '',
      ].join('\n'),
    )
  })
})

describe('spanlens CLI when the server cannot be reached', () => {
  // The errors as Node 20's fetch (undici) throws them, recorded against a closed port, a
  // plain-HTTP port asked over https, and an unknown host: the message is always "fetch failed".
  const failed = (cause: Error) => new TypeError('fetch failed', { cause })
  const system = (message: string, fields: Record<string, unknown>) => Object.assign(new Error(message), fields)
  const unreachable = async (url: string, err: Error) => {
    let stderr = ''
    const fetch = (async () => {
      throw err
    }) as typeof globalThis.fetch
    const code = await runCli(['sql', 'SELECT 1', '--url', url], { stderr: (t) => (stderr += t), stdout: () => {}, fetch, env: {} })
    return { code, stderr }
  }

  it('names the cause: a refused connection, TLS to a plain-HTTP port and an unknown host read differently', async () => {
    const refused = await unreachable('http://127.0.0.1:4486', failed(system('connect ECONNREFUSED 127.0.0.1:4486', { code: 'ECONNREFUSED', syscall: 'connect' })))
    expect(refused).toEqual({ code: 1, stderr: 'spanlens sql: cannot reach http://127.0.0.1:4486: connect ECONNREFUSED 127.0.0.1:4486\n' })
    const tls = await unreachable(
      'https://127.0.0.1:4485',
      failed(
        system('800C4459727F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:350:\n', {
          code: 'ERR_SSL_WRONG_VERSION_NUMBER',
          library: 'SSL routines',
          reason: 'wrong version number',
        }),
      ),
    )
    expect(tls.stderr).toBe('spanlens sql: cannot reach https://127.0.0.1:4485: ERR_SSL_WRONG_VERSION_NUMBER: wrong version number (is the server plain HTTP? try http://)\n')
    const unknown = await unreachable('http://nohost.invalid', failed(system('getaddrinfo ENOTFOUND nohost.invalid', { code: 'ENOTFOUND' })))
    expect(unknown.stderr).toBe('spanlens sql: cannot reach http://nohost.invalid: getaddrinfo ENOTFOUND nohost.invalid\n')
    // Every address of a host refused: an AggregateError without a message of its own.
    const both = await unreachable('http://localhost:4486', failed(new AggregateError([system('connect ECONNREFUSED ::1:4486', { code: 'ECONNREFUSED' })], '')))
    expect(both.stderr).toBe('spanlens sql: cannot reach http://localhost:4486: connect ECONNREFUSED ::1:4486\n')
  })
})
