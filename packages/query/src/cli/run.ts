import { parseArgs } from 'node:util'
import { cell, table } from './table.js'

export interface CliIo {
  stdout?: (text: string) => void
  stderr?: (text: string) => void
  fetch?: typeof fetch
  env?: Record<string, string | undefined>
}

const USAGE = `usage:
  spanlens traces [--from T] [--to T] [--service S] [--model M] [--q TEXT] [--limit N]
  spanlens traces <traceId>
  spanlens drift --reference A --current B [--dimension release|model|service|attr:<key>] [--signals a,b] [--from T] [--to T] [--service S]
                 (without --dimension, A and B are time windows: now-14d..now-7d)
  spanlens bias --group-by KEY --outcome error_rate|refusal_rate|negative_feedback_rate|score_mean|latency_p95|output_length
                [--score NAME] [--min-group-size N] [--from T] [--to T]
  spanlens bias counterfactual [--score NAME] [--from T]
  spanlens slo                 status of every SLO in SPANLENS_SLO_FILE
  spanlens slo check           exit 2 when an alert fires (for cron/CI)
  spanlens sql "SELECT ..."
common: --url URL (SPANLENS_URL, default http://127.0.0.1:4318)  --api-key KEY (SPANLENS_API_KEY)  --json
exit codes: 0 ok, 1 error, 2 SLO alert firing
`

class CliError extends Error {}

/** `spanlens drift|bias|slo|traces|sql`, talking to a running server over HTTP. */
export async function runCli(argv: string[], io: CliIo = {}): Promise<number> {
  const out = io.stdout ?? ((t: string) => process.stdout.write(t))
  const err = io.stderr ?? ((t: string) => process.stderr.write(t))
  const env = io.env ?? process.env
  const doFetch = io.fetch ?? fetch
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        url: { type: 'string' },
        'api-key': { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        from: { type: 'string' },
        to: { type: 'string' },
        service: { type: 'string' },
        model: { type: 'string' },
        q: { type: 'string' },
        limit: { type: 'string' },
        cursor: { type: 'string' },
        reference: { type: 'string' },
        current: { type: 'string' },
        dimension: { type: 'string' },
        signals: { type: 'string' },
        'min-samples': { type: 'string' },
        'group-by': { type: 'string' },
        outcome: { type: 'string' },
        score: { type: 'string' },
        'min-group-size': { type: 'string' },
        at: { type: 'string' },
      },
    })
  } catch (e) {
    err(`${(e as Error).message}\n${USAGE}`)
    return 1
  }
  const { values: o, positionals } = parsed
  const [command, ...rest] = positionals
  if (o.help || !command) {
    ;(o.help ? out : err)(USAGE)
    return o.help ? 0 : 1
  }
  const base = (o.url ?? env.SPANLENS_URL ?? 'http://127.0.0.1:4318').replace(/\/+$/, '')
  const key = o['api-key'] ?? env.SPANLENS_API_KEY

  async function call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const headers: Record<string, string> = { accept: 'application/json' }
    if (key) headers.authorization = `Bearer ${key}`
    if (body !== undefined) headers['content-type'] = 'application/json'
    let res: Response
    try {
      res = await doFetch(`${base}/api/v1${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
    } catch (e) {
      throw new CliError(`cannot reach ${base}: ${(e as Error).message}`)
    }
    const text = await res.text()
    let json: unknown
    try {
      json = text === '' ? {} : JSON.parse(text)
    } catch {
      throw new CliError(`HTTP ${res.status}: ${text.slice(0, 200)}`)
    }
    if (!res.ok) {
      const e = (json as { error?: { code?: string; message?: string } }).error
      throw new CliError(`${e?.code ?? `HTTP ${res.status}`}: ${e?.message ?? text.slice(0, 200)}`)
    }
    return json
  }

  const qs = (pairs: Record<string, string | undefined>) => {
    const p = new URLSearchParams()
    for (const [k, v] of Object.entries(pairs)) if (v !== undefined) p.set(k, v)
    const s = p.toString()
    return s ? `?${s}` : ''
  }
  const filter = () => {
    const f: Record<string, unknown> = {}
    if (o.from) f.from = o.from
    if (o.to) f.to = o.to
    if (o.service) f.service = o.service
    if (o.model) f.model = o.model
    return f
  }
  const window = (raw: string | undefined, name: string) => {
    if (!raw) throw new CliError(`--${name} is required`)
    if (o.dimension) return raw
    const [from, to] = raw.split('..')
    if (!from) throw new CliError(`--${name}: expected FROM..TO, e.g. now-14d..now-7d`)
    return { from, ...(to ? { to } : {}) }
  }

  try {
    switch (command) {
      case 'traces': {
        if (rest[0]) {
          const trace = (await call('GET', `/traces/${encodeURIComponent(rest[0])}`)) as TraceJson
          out(o.json ? `${JSON.stringify(trace, null, 2)}\n` : renderTrace(trace))
          return 0
        }
        const page = (await call('GET', `/traces${qs({ from: o.from, to: o.to, service: o.service, model: o.model, q: o.q, limit: o.limit, cursor: o.cursor })}`)) as {
          items: Array<Record<string, unknown> & { tokens: { total: number } }>
          nextCursor: string | null
        }
        if (o.json) out(`${JSON.stringify(page, null, 2)}\n`)
        else {
          out(table(['trace', 'start', 'name', 'service', 'status', 'spans', 'ms', 'tokens', 'cost $'], page.items.map((t) => [t.traceId as string, t.startTime as string, t.name as string, t.service as string, t.status as string, t.spans as number, t.durationMs as number, t.tokens.total, t.costUsd as number])))
          if (page.nextCursor) out(`next page: --cursor ${page.nextCursor}\n`)
        }
        return 0
      }
      case 'drift': {
        const body: Record<string, unknown> = { reference: window(o.reference, 'reference'), current: window(o.current, 'current'), filter: filter() }
        if (o.dimension) body.dimension = o.dimension
        if (o.signals) body.signals = o.signals.split(',')
        if (o['min-samples']) body.minSamples = Number(o['min-samples'])
        const r = (await call('POST', '/drift', body)) as { drifted: boolean; nReference: number; nCurrent: number; signals: Array<{ signal: string; type: string; status: string; method: string | null; drifted: boolean | null; nReference: number; nCurrent: number; statistics: Array<{ name: string; value: number; pValue: number | null }> }> }
        if (o.json) out(`${JSON.stringify(r, null, 2)}\n`)
        else {
          out(`reference ${r.nReference} spans, current ${r.nCurrent} spans: ${r.drifted ? 'DRIFT' : 'no drift'}\n`)
          out(
            table(
              ['signal', 'type', 'n ref', 'n cur', 'method', 'drifted', 'statistics'],
              r.signals.map((s) => [s.signal, s.type, s.nReference, s.nCurrent, s.method, s.status === 'ok' ? s.drifted : 'not enough data', s.statistics.map((x) => `${x.name}=${cell(x.value)}${x.pValue !== null ? ` (p=${cell(x.pValue)})` : ''}`).join(' ')]),
            ),
          )
        }
        return 0
      }
      case 'bias': {
        if (rest[0] === 'counterfactual') {
          const r = await call('POST', '/bias/counterfactual', { filter: filter(), ...(o.score ? { score: o.score } : {}) })
          out(`${JSON.stringify(r, null, 2)}\n`)
          return 0
        }
        if (!o['group-by'] || !o.outcome) throw new CliError('--group-by and --outcome are required')
        const body: Record<string, unknown> = { groupBy: o['group-by'], outcome: o.outcome, filter: filter() }
        if (o.score) body.score = o.score
        if (o['min-group-size']) body.minGroupSize = Number(o['min-group-size'])
        const r = (await call('POST', '/bias', body)) as { flagged: boolean; bestGroup: string | null; demographicParityDifference: number | null; demographicParityRatio: number | null; groups: Array<{ group: string; n: number; value: number | null; ci: [number, number] | null; judged: boolean; ratio: number | null; fourFifthsViolation: boolean | null; pValueAdjusted: number | null; significant: boolean | null }> }
        if (o.json) out(`${JSON.stringify(r, null, 2)}\n`)
        else {
          out(`best group: ${r.bestGroup ?? '-'}  parity difference: ${cell(r.demographicParityDifference)}  ratio: ${cell(r.demographicParityRatio)}  ${r.flagged ? 'FLAGGED' : 'not flagged'}\n`)
          out(table(['group', 'n', 'value', '95% CI', 'ratio', '4/5 rule', 'p (Bonferroni)', 'significant'], r.groups.map((g) => [g.group, g.n, g.value, g.ci ? `${cell(g.ci[0])}..${cell(g.ci[1])}` : null, g.ratio, g.judged ? (g.fourFifthsViolation ? 'violated' : 'ok') : 'too small', g.pValueAdjusted, g.significant])))
        }
        return 0
      }
      case 'slo': {
        const check = rest[0] === 'check'
        if (rest[0] !== undefined && !check) throw new CliError(`unknown slo subcommand ${rest[0]}`)
        const r = (await call('GET', `/slo${qs({ at: o.at })}`)) as { firing: boolean; slos: Array<{ name: string; objective: number; window: string; sli: number | null; errorBudget: { remaining: number }; burnRates: Record<string, number | null>; alerts: Array<{ severity: string; longWindow: string; shortWindow: string; firing: boolean }>; firing: boolean }> }
        if (o.json) out(`${JSON.stringify(r, null, 2)}\n`)
        else {
          out(table(['slo', 'objective', 'window', 'sli', 'budget left', 'burn 5m', '1h', '6h', '1d', '3d', 'alerts'], r.slos.map((s) => [s.name, s.objective, s.window, s.sli, s.errorBudget.remaining, s.burnRates['5m'], s.burnRates['1h'], s.burnRates['6h'], s.burnRates['1d'], s.burnRates['3d'], s.alerts.filter((a) => a.firing).map((a) => `${a.severity}(${a.longWindow}/${a.shortWindow})`).join(' ') || '-'])))
        }
        if (check && r.firing) {
          err(`SLO alert firing: ${r.slos.filter((s) => s.firing).map((s) => s.name).join(', ')}\n`)
          return 2
        }
        return 0
      }
      case 'sql': {
        const query = rest.join(' ')
        if (!query) throw new CliError('sql needs a query: spanlens sql "SELECT count() FROM spans"')
        const r = (await call('POST', '/sql', { query })) as { data: Array<Record<string, unknown>>; meta: Array<{ name: string }>; rows: number }
        if (o.json) out(`${JSON.stringify(r, null, 2)}\n`)
        else {
          const cols = r.meta.map((m) => m.name)
          out(table(cols, r.data.map((row) => cols.map((c) => { const v = row[c]; return typeof v === 'object' && v !== null ? JSON.stringify(v) : (v as string | number | null) }))))
          out(`${r.rows} row(s)\n`)
        }
        return 0
      }
      default:
        err(`unknown command ${command}\n${USAGE}`)
        return 1
    }
  } catch (e) {
    if (e instanceof CliError) {
      err(`spanlens ${command}: ${e.message}\n`)
      return 1
    }
    throw e
  }
}

interface TraceJson {
  traceId: string
  durationMs: number
  totals: { spans: number; errors: number; tokens: { total: number }; costUsd: number }
  roots: SpanJson[]
}
interface SpanJson {
  name: string
  kind: string
  durationMs: number
  status: string
  tokens: { total: number }
  costUsd: number | null
  children: SpanJson[]
}

function renderTrace(t: TraceJson): string {
  const lines = [`trace ${t.traceId}: ${t.totals.spans} spans, ${cell(t.durationMs)} ms, ${t.totals.tokens.total} tokens, $${cell(t.totals.costUsd)}, ${t.totals.errors} errors`]
  const walk = (s: SpanJson, depth: number) => {
    lines.push(`${'  '.repeat(depth)}${s.status === 'error' ? '✗' : '•'} ${s.name} [${s.kind}] ${cell(s.durationMs)} ms${s.tokens.total ? `, ${s.tokens.total} tok` : ''}${s.costUsd ? `, $${cell(s.costUsd)}` : ''}`)
    for (const c of s.children) walk(c, depth + 1)
  }
  for (const r of t.roots) walk(r, 1)
  return `${lines.join('\n')}\n`
}
