import { queryString } from './api.js'
import { CliError, TIME_SYNTAX, type Command, type CommandContext, type OptionSpec } from './command.js'
import { costTotal, count, duration, timestamp, usd } from '../format.js'
import { stringifyReply } from '../json.js'
import { cell, figure, table } from './table.js'
import { ANALYST_TABLES } from '../sql/policy.js'

const FROM: OptionSpec = { type: 'string', value: 'T', help: 'start of the time range (inclusive)' }
const TO: OptionSpec = { type: 'string', value: 'T', help: 'end of the time range (default now)' }
const SERVICE: OptionSpec = { type: 'string', value: 'S', help: 'only this service (service.name); a comma list for several', list: true }
const MODEL: OptionSpec = { type: 'string', value: 'M', help: 'only this request or response model; a comma list for several', list: true }
const SCORE: OptionSpec = { type: 'string', value: 'NAME', help: 'the score used by score outcomes and comparisons' }

/** The span filter every analysis takes, from --from/--to/--service/--model. */
function filter(ctx: CommandContext): Record<string, string> {
  const f: Record<string, string> = {}
  for (const k of ['from', 'to', 'service', 'model']) {
    const v = ctx.str(k)
    if (v) f[k] = v
  }
  return f
}

/** Options that only one form of a command reads: given to the other form they would be ignored. */
function onlyFor(ctx: CommandContext, form: string, options: readonly string[]): void {
  const given = options.filter((o) => ctx.str(o) !== undefined)
  if (given.length > 0) throw new CliError(`${given.map((o) => `--${o}`).join(', ')}: for ${form}`)
}

/** Indented, or on one line (`flat`, or too deep for JSON.stringify: json.ts). */
function printJson(ctx: CommandContext, value: unknown, flat = false): void {
  let text: string
  try {
    text = flat ? JSON.stringify(value) : JSON.stringify(value, null, 2)
  } catch (err) {
    if (!(err instanceof RangeError)) throw err
    text = stringifyReply(value)
  }
  ctx.out(`${text}\n`)
}

const traces: Command = {
  name: 'traces',
  summary: 'list traces, newest first, or print one trace as a tree',
  usage: ['traces [--from T] [--to T] [--service S] [--model M] [--q TEXT] [--limit N] [--cursor C]', 'traces <traceId>'],
  maxArgs: 1,
  options: {
    from: FROM,
    to: TO,
    service: SERVICE,
    model: MODEL,
    q: { type: 'string', value: 'TEXT', help: 'case-insensitive substring of any span input or output' },
    limit: { type: 'string', value: 'N', help: 'traces per page, 1-1000 (default 50)', int: true },
    cursor: { type: 'string', value: 'C', help: 'the next page, as printed under the previous one' },
  },
  examples: [
    ['traces --from now-24h --model gpt-4o --limit 20', 'the last day of traces that called gpt-4o'],
    ['traces --from 2026-12-01T00:00:00Z --to 2026-12-02T00:00:00Z --q refund', 'one UTC day, traces mentioning "refund"'],
    ['traces 4bf92f3577b34da6a3ce929d0e0e4736', 'one trace as a tree of spans'],
  ],
  notes: [TIME_SYNTAX, 'Time filters apply to the root span; --service, --model and --q keep a trace when any of its spans matches.'],
  async run(ctx) {
    const [traceId] = ctx.args
    if (traceId) {
      onlyFor(ctx, 'the list of traces, not one trace', ['from', 'to', 'service', 'model', 'q', 'limit', 'cursor'])
      const trace = (await ctx.call('GET', `/traces/${encodeURIComponent(traceId)}`)) as TraceJson
      // A tree nested deeper than MAX_INDENT on one line: indented, its text would grow with the square of its depth.
      if (ctx.json) printJson(ctx, trace, depthFirst(trace.roots, 0).some((s) => s.depth > MAX_INDENT))
      else ctx.out(renderTrace(trace))
      return 0
    }
    const params = { from: ctx.str('from'), to: ctx.str('to'), service: ctx.str('service'), model: ctx.str('model'), q: ctx.str('q'), limit: ctx.str('limit'), cursor: ctx.str('cursor') }
    const page = (await ctx.call('GET', `/traces${queryString(params)}`)) as {
      items: Array<Record<string, unknown> & { tokens: { total: number } }>
      nextCursor: string | null
    }
    if (ctx.json) {
      printJson(ctx, page)
      return 0
    }
    const costs = page.items.map((t) => costTotal(t.costUsd as number | null, t.costIncomplete === true))
    ctx.out(
      table(
        ['trace', 'start', 'name', 'service', 'status', 'spans', 'duration', 'tokens', 'cost'],
        page.items.map((t, i) => [
          t.traceId as string,
          timestamp(t.startTime as string),
          t.name as string,
          t.service as string,
          statusWord(t.status as string),
          t.spans as number,
          figure(duration(t.durationMs as number)),
          figure(count(t.tokens.total)),
          figure(costs[i] as string),
        ]),
      ),
    )
    if (costs.some((c) => c.startsWith('≥'))) ctx.out('≥: at least; some LLM calls in the trace have no price (a model missing from the price table, or no usage reported)\n')
    if (page.nextCursor) ctx.out(`next page: --cursor ${page.nextCursor}\n`)
    return 0
  },
}

const drift: Command = {
  name: 'drift',
  summary: 'compare two sets of spans (two releases, models, services, attribute values or time windows)',
  usage: ['drift --reference A --current B [--dimension D] [--signals a,b] [--min-samples N] [--from T] [--to T] [--service S] [--model M]'],
  options: {
    reference: { type: 'string', value: 'A', help: 'the baseline: a value of --dimension, or a time window FROM..TO without it' },
    current: { type: 'string', value: 'B', help: 'the set compared with it, in the same form' },
    dimension: { type: 'string', value: 'D', help: 'release, model, service, environment, provider, operation, kind, attr:<key> or resource:<key>' },
    signals: { type: 'string', value: 'a,b', help: 'signals to test (latency, output_tokens, model, prompt, score:<name>, attr:<key>, ...); default: the built-in set', list: true },
    'min-samples': { type: 'string', value: 'N', help: 'spans needed on each side for a verdict (default 30)', int: true },
    from: FROM,
    to: TO,
    service: SERVICE,
    model: MODEL,
  },
  examples: [
    ['drift --dimension release --reference v41 --current v42', 'release v42 against v41'],
    ['drift --reference now-14d..now-7d --current now-7d..now', 'this week against last week'],
    ['drift --dimension attr:tenant --reference acme --current globex --signals latency,output_tokens,attr:route', 'two values of a span attribute'],
  ],
  notes: [TIME_SYNTAX, 'Without --dimension, A and B are time windows FROM..TO (TO may be left out: now-7d..).'],
  async run(ctx) {
    const dimension = ctx.str('dimension')
    const side = (name: string) => {
      const raw = ctx.str(name)
      if (!raw) throw new CliError(`--${name} is required`)
      if (dimension) return raw
      const parts = raw.split('..')
      const [from, to] = parts
      // One "..": without it "now-1d" would read as a window from then on, and a third part would be dropped.
      if (parts.length !== 2 || !from) throw new CliError(`--${name}: expected FROM..TO (TO may be left out), e.g. now-14d..now-7d, got "${raw}"`)
      return { from, ...(to ? { to } : {}) }
    }
    const body: Record<string, unknown> = { reference: side('reference'), current: side('current'), filter: filter(ctx) }
    if (dimension) body.dimension = dimension
    const signals = ctx.str('signals')
    if (signals) body.signals = signals.split(',').map((s) => s.trim())
    const minSamples = ctx.int('min-samples')
    if (minSamples !== undefined) body.minSamples = minSamples
    const r = (await ctx.call('POST', '/drift', body)) as { drifted: boolean; nReference: number; nCurrent: number; signals: Array<{ signal: string; type: string; status: string; method: string | null; drifted: boolean | null; nReference: number; nCurrent: number; statistics: Array<{ name: string; value: number; pValue: number | null }> }> }
    if (ctx.json) {
      printJson(ctx, r)
      return 0
    }
    ctx.out(`reference ${r.nReference} spans, current ${r.nCurrent} spans: ${r.drifted ? 'DRIFT' : 'no drift'}\n`)
    ctx.out(
      table(
        ['signal', 'type', 'n ref', 'n cur', 'method', 'drifted', 'statistics'],
        r.signals.map((s) => [s.signal, s.type, s.nReference, s.nCurrent, s.method, s.status === 'ok' ? s.drifted : 'not enough data', s.statistics.map((x) => `${x.name}=${cell(x.value)}${x.pValue !== null ? ` (p=${cell(x.pValue)})` : ''}`).join(' ')]),
      ),
    )
    return 0
  },
}

const OUTCOMES = 'error_rate, refusal_rate, negative_feedback_rate, score_mean, latency_p95 or output_length'
const bias: Command = {
  name: 'bias',
  summary: 'compare an outcome across groups (four-fifths rule, significance), or counterfactual prompt pairs',
  maxArgs: 1,
  usage: ['bias --group-by KEY --outcome O [--score NAME] [--min-group-size N] [--from T] [--to T] [--service S] [--model M]', 'bias counterfactual [--score NAME] [--from T] [--to T] [--service S] [--model M]'],
  options: {
    'group-by': { type: 'string', value: 'KEY', help: 'attr:<key>, resource:<key>, user_prefix:<n>, user, language, model, service, environment, release or provider' },
    outcome: { type: 'string', value: 'O', help: OUTCOMES },
    score: SCORE,
    'min-group-size': { type: 'string', value: 'N', help: 'smaller groups are listed, not judged (default 30)', int: true },
    from: FROM,
    to: TO,
    service: SERVICE,
    model: MODEL,
  },
  examples: [
    ['bias --group-by attr:tenant --outcome refusal_rate --from now-7d', 'refusal rate per tenant over the last week'],
    ['bias --group-by language --outcome score_mean --score helpfulness --min-group-size 50', 'mean helpfulness score per prompt language'],
    ['bias counterfactual --from now-30d', 'prompt pairs tagged spanlens.counterfactual.pair_id/side: refusals, length, score'],
  ],
  notes: [TIME_SYNTAX],
  async run(ctx) {
    const [sub] = ctx.args
    if (sub === 'counterfactual') {
      onlyFor(ctx, 'bias across groups, not counterfactual pairs', ['group-by', 'outcome', 'min-group-size'])
      const score = ctx.str('score')
      printJson(ctx, await ctx.call('POST', '/bias/counterfactual', { filter: filter(ctx), ...(score ? { score } : {}) }))
      return 0
    }
    if (sub !== undefined) throw new CliError(`unknown bias subcommand ${sub}`)
    const groupBy = ctx.str('group-by')
    const outcome = ctx.str('outcome')
    if (!groupBy || !outcome) throw new CliError('--group-by and --outcome are required')
    const body: Record<string, unknown> = { groupBy, outcome, filter: filter(ctx) }
    const score = ctx.str('score')
    if (score) body.score = score
    const minGroupSize = ctx.int('min-group-size')
    if (minGroupSize !== undefined) body.minGroupSize = minGroupSize
    const r = (await ctx.call('POST', '/bias', body)) as { flagged: boolean; bestGroup: string | null; demographicParityDifference: number | null; demographicParityRatio: number | null; lowestRatio: { group: string; ratio: number } | null; groups: Array<{ group: string; n: number; value: number | null; ci: [number, number] | null; judged: boolean; ratio: number | null; fourFifthsViolation: boolean | null; pValueAdjusted: number | null; significant: boolean | null }> }
    if (ctx.json) {
      printJson(ctx, r)
      return 0
    }
    ctx.out(
      `best group: ${r.bestGroup ?? '-'}  lowest ratio to best: ${r.lowestRatio ? `${cell(r.lowestRatio.ratio)} (${r.lowestRatio.group})` : '-'}  ` +
        `parity of values: difference ${cell(r.demographicParityDifference)}, ratio ${cell(r.demographicParityRatio)}  ${r.flagged ? 'FLAGGED' : 'not flagged'}\n`,
    )
    ctx.out(table(['group', 'n', 'value', '95% CI', 'ratio', '4/5 rule', 'p (Bonferroni)', 'significant'], r.groups.map((g) => [g.group, g.n, g.value, g.ci ? `${cell(g.ci[0])}..${cell(g.ci[1])}` : null, g.ratio, g.judged ? (g.fourFifthsViolation ? 'violated' : 'ok') : 'too small', g.pValueAdjusted, g.significant])))
    return 0
  },
}

const slo: Command = {
  name: 'slo',
  summary: 'status of every SLO in SPANLENS_SLO_FILE; `slo check` exits 2 when an alert fires',
  usage: ['slo [--at T]', 'slo check [--at T]'],
  maxArgs: 1,
  options: { at: { type: 'string', value: 'T', help: 'evaluate as of this time (default now)' } },
  examples: [
    ['slo', 'budget left and burn rates of each SLO'],
    ['slo check', 'for cron or CI: exit 2 and name the SLOs when a burn-rate alert fires'],
    ['slo --at now-1d', 'the same, as it was a day ago'],
  ],
  notes: [TIME_SYNTAX],
  async run(ctx) {
    const [sub] = ctx.args
    const check = sub === 'check'
    if (sub !== undefined && !check) throw new CliError(`unknown slo subcommand ${sub}`)
    const r = (await ctx.call('GET', `/slo${queryString({ at: ctx.str('at') })}`)) as { firing: boolean; slos: Array<{ name: string; objective: number; window: string; sli: number | null; errorBudget: { remaining: number }; burnRates: Record<string, number | null>; alerts: Array<{ severity: string; longWindow: string; shortWindow: string; firing: boolean }>; firing: boolean }> }
    if (ctx.json) printJson(ctx, r)
    else ctx.out(table(['slo', 'objective', 'window', 'sli', 'budget left', 'burn 5m', '1h', '6h', '1d', '3d', 'alerts'], r.slos.map((s) => [s.name, s.objective, s.window, s.sli, s.errorBudget.remaining, s.burnRates['5m'], s.burnRates['1h'], s.burnRates['6h'], s.burnRates['1d'], s.burnRates['3d'], s.alerts.filter((a) => a.firing).map((a) => `${a.severity}(${a.longWindow}/${a.shortWindow})`).join(' ') || '-'])))
    if (check && r.firing) {
      ctx.err(`SLO alert firing: ${r.slos.filter((s) => s.firing).map((s) => s.name).join(', ')}\n`)
      return 2
    }
    return 0
  },
}

/** The tables the sandbox lets a query read, from its own list, so the help cannot leave one out. */
const SQL_TABLES = Object.keys(ANALYST_TABLES)

const sql: Command = {
  name: 'sql',
  summary: `run one read-only SELECT over ${SQL_TABLES.slice(0, -1).join(', ')} and ${SQL_TABLES.at(-1)} (this project only)`,
  usage: ['sql "SELECT ..."'],
  maxArgs: Number.POSITIVE_INFINITY,
  options: {},
  examples: [
    ['sql "SELECT model, sum(calls) FROM spans_minute GROUP BY model"', 'calls per model from the per-minute rollup'],
    ["sql \"SELECT attributes['tenant'] AS tenant, count() FROM spans WHERE start_time >= now() - INTERVAL 1 DAY GROUP BY tenant\"", 'spans per value of a span attribute, last day'],
  ],
  notes: [`Tables: ${SQL_TABLES.join(', ')}. One SELECT; no SETTINGS, FORMAT or other databases (docs/security.md).`],
  async run(ctx) {
    const query = ctx.args.join(' ')
    if (!query) throw new CliError('sql needs a query: spanlens sql "SELECT count() FROM spans"')
    const r = (await ctx.call('POST', '/sql', { query })) as { data: Array<Record<string, unknown>>; meta: Array<{ name: string; type: string }>; rows: number }
    if (ctx.json) {
      printJson(ctx, r)
      return 0
    }
    ctx.out(table(r.meta.map((m) => m.name), r.data.map((row) => r.meta.map((m) => sqlCell(row[m.name], m.type)))))
    ctx.out(`${r.rows} row(s)\n`)
    return 0
  },
}

/** ClickHouse types whose values the SQL route sends as strings to keep every digit (docs/sql.md). */
const EXACT_NUMBER_TYPE = /^(?:Nullable\()?(?:U?Int(?:64|128|256)|Decimal)\b/

/** One value of a SQL result: an exact integer grouped like every count, aligned as a number. */
function sqlCell(v: unknown, type: string) {
  if (typeof v === 'string' && EXACT_NUMBER_TYPE.test(type)) return figure(/^-?\d+$/.test(v) ? BigInt(v).toLocaleString('en-US') : v)
  return typeof v === 'object' && v !== null ? JSON.stringify(v) : (v as string | number | boolean | null)
}

/** Every query command, in the order `spanlens --help` lists them. */
export const COMMANDS: readonly Command[] = [traces, drift, bias, slo, sql]

interface TraceJson {
  traceId: string
  durationMs: number
  totals: { spans: number; errors: number; tokens: { total: number }; costUsd: number | null; costIncomplete?: boolean }
  roots: SpanJson[]
  truncated?: boolean
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

/** OTLP's `unset` is what a healthy span reports; say ok. */
function statusWord(status: string): string {
  return status === 'unset' ? 'ok' : status
}

/** Levels indented; deeper spans say their depth instead: a trace 10,000 deep would print 100 MB of spaces. */
const MAX_INDENT = 32
const indent = (depth: number) => (depth > MAX_INDENT ? `${'  '.repeat(MAX_INDENT)}↳${depth} ` : '  '.repeat(depth))

/** The tree's spans, parents first, each with its depth under `depth`: from an explicit stack, as a trace can nest thousands deep. */
function depthFirst(roots: SpanJson[], depth: number): Array<{ s: SpanJson; depth: number }> {
  const out: Array<{ s: SpanJson; depth: number }> = []
  const stack = roots.map((s) => ({ s, depth })).reverse()
  while (stack.length > 0) {
    const next = stack.pop() as { s: SpanJson; depth: number }
    out.push(next)
    for (let i = next.s.children.length - 1; i >= 0; i--) stack.push({ s: next.s.children[i] as SpanJson, depth: next.depth + 1 })
  }
  return out
}

function renderTrace(t: TraceJson): string {
  const lines = [
    `trace ${t.traceId}: ${t.totals.spans} spans, ${duration(t.durationMs)}, ${count(t.totals.tokens.total)} tokens, ${costTotal(t.totals.costUsd, t.totals.costIncomplete === true)}, ${t.totals.errors} errors`,
  ]
  const spans = depthFirst(t.roots, 1)
  if (t.truncated) lines.push(`  (the trace has more spans than the tree holds: the first ${count(spans.length)} by start time are shown)`)
  for (const { s, depth } of spans) {
    lines.push(`${indent(depth)}${s.status === 'error' ? '✗' : '•'} ${s.name} [${s.kind}] ${duration(s.durationMs)}${s.tokens.total ? `, ${count(s.tokens.total)} tok` : ''}${s.costUsd ? `, ${usd(s.costUsd)}` : ''}`)
  }
  return `${lines.join('\n')}\n`
}
