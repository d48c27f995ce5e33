import { z } from 'zod'
import type { ParamBag } from './db.js'
import { REFUSAL_PHRASES } from './bias/refusal-phrases.js'
import { contentRefusal, contentTextMatch } from './content/span-content.js'
import { errors } from './errors.js'
import { SPAN_KINDS, type SpanKind } from './span-kinds.js'
import { chTime, parseTime } from './time.js'

/** What a caller can narrow spans by. Lists mean "any of". */
export interface SpanFilter {
  from?: Date
  to?: Date
  service?: string[]
  model?: string[]
  provider?: string[]
  operation?: string[]
  kind?: SpanKind[]
  name?: string[]
  status?: string[]
  environment?: string[]
  release?: string[]
  userId?: string
  sessionId?: string
  traceId?: string
  /** span attribute equality, all must hold */
  attributes?: Record<string, string>
  /** resource attribute equality, all must hold */
  resource?: Record<string, string>
  /** case-insensitive substring of input or output, as shown (content from logs included) */
  text?: string
  /** any of these tags */
  tag?: string[]
  /** true: refusals only (the `refusal` column: a content_filter finish or a refusal phrase); false: none */
  refusal?: boolean
  /** duration_ms at least / below this */
  minDurationMs?: number
  maxDurationMs?: number
  /** the span's trace has a score of this name matching the condition, all must hold */
  scores?: Record<string, ScoreCondition>
}

/**
 * A condition on a trace's score of one name: `*` (has one), a number with an
 * optional operator (`<=0`, `>0.5`, `=1`, `!=0`), or a category (`positive`).
 */
type ScoreCondition = { op: 'any' } | { op: '=' | '!=' | '<' | '<=' | '>' | '>='; value: number } | { op: 'category'; value: string }

const SCORE_CONDITION = /^(<=|>=|!=|<|>|=)?\s*(-?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)$/i

function parseScoreCondition(name: string, raw: string): ScoreCondition {
  const s = raw.trim()
  if (s === '*') return { op: 'any' }
  const m = SCORE_CONDITION.exec(s)
  if (m) {
    const value = Number(m[2])
    if (!Number.isFinite(value)) throw errors.BAD_REQUEST(`score.${name}: ${m[2]} is out of range for a number`)
    return { op: (m[1] ?? '=') as '=', value }
  }
  return { op: 'category', value: s.startsWith('=') ? s.slice(1) : s }
}

/** Dimensions the per-minute rollup keeps; a filter on anything else needs raw spans. */
const ROLLUP_FIELDS = new Set(['from', 'to', 'service', 'model', 'provider', 'operation', 'kind', 'environment', 'release'])

export function onlyRollupFields(f: SpanFilter): boolean {
  return Object.entries(f).every(([k, v]) => v === undefined || ROLLUP_FIELDS.has(k))
}

/** The model a span ran on: what was asked for, or what answered when the request did not say. */
export const MODEL_EXPR = "if(request_model != '', request_model, response_model)"

/**
 * SQL conditions over `spans` (no leading WHERE) scoping to the project and the
 * filter. Every value goes through a query parameter.
 */
export function spanConditions(project: string, f: SpanFilter, bag: ParamBag, alias = ''): string[] {
  const c = (col: string) => `${alias}${col}`
  const projectParam = bag.add(project, 'String')
  const out = [`${c('project_id')} = ${projectParam}`]
  if (f.from) out.push(`${c('start_time')} >= ${bag.add(chTime(f.from), "DateTime64(9, 'UTC')")}`)
  if (f.to) out.push(`${c('start_time')} < ${bag.add(chTime(f.to), "DateTime64(9, 'UTC')")}`)
  const inList = (col: string, values: string[] | undefined) => {
    if (values && values.length > 0) out.push(`${col} IN ${bag.add(values, 'Array(String)')}`)
  }
  inList(c('service_name'), f.service)
  inList(c('provider'), f.provider)
  inList(c('operation'), f.operation)
  inList(c('kind'), f.kind)
  inList(c('name'), f.name)
  inList(c('status_code'), f.status)
  inList(c('environment'), f.environment)
  inList(c('release'), f.release)
  if (f.model && f.model.length > 0) {
    const p = bag.add(f.model, 'Array(String)')
    out.push(`(${c('request_model')} IN ${p} OR ${c('response_model')} IN ${p})`)
  }
  if (f.userId !== undefined) out.push(`${c('user_id')} = ${bag.add(f.userId, 'String')}`)
  if (f.sessionId !== undefined) out.push(`${c('session_id')} = ${bag.add(f.sessionId, 'String')}`)
  if (f.traceId !== undefined) out.push(`${c('trace_id')} = ${bag.add(f.traceId, 'String')}`)
  for (const [k, v] of Object.entries(f.attributes ?? {})) {
    out.push(`${c('attributes')}[${bag.add(k, 'String')}] = ${bag.add(v, 'String')}`)
  }
  for (const [k, v] of Object.entries(f.resource ?? {})) {
    out.push(`${c('resource_attributes')}[${bag.add(k, 'String')}] = ${bag.add(v, 'String')}`)
  }
  if (f.tag && f.tag.length > 0) out.push(`hasAny(${c('tags')}, ${bag.add(f.tag, 'Array(String)')})`)
  if (f.refusal !== undefined) {
    // Content that arrived as GenAI log records counts, as everywhere content is read.
    const refused = contentRefusal(alias, projectParam, bag.add(REFUSAL_PHRASES, 'Array(String)'))
    out.push(f.refusal ? refused : `NOT ${refused}`)
  }
  // Numbers as text: @clickhouse/client refuses to serialize an integer beyond ±2^53 (1e21 is one).
  if (f.minDurationMs !== undefined) out.push(`${c('duration_ms')} >= ${bag.add(String(f.minDurationMs), 'Float64')}`)
  if (f.maxDurationMs !== undefined) out.push(`${c('duration_ms')} < ${bag.add(String(f.maxDurationMs), 'Float64')}`)
  for (const [name, cond] of Object.entries(f.scores ?? {})) {
    const test =
      cond.op === 'any' ? '1' : cond.op === 'category' ? `string_value = ${bag.add(cond.value, 'String')}` : `value ${cond.op} ${bag.add(String(cond.value), 'Float64')}`
    out.push(`${c('trace_id')} IN (SELECT trace_id FROM scores FINAL WHERE project_id = ${projectParam} AND name = ${bag.add(name, 'String')} AND ${test})`)
  }
  if (f.text !== undefined && f.text !== '') {
    const p = bag.add(f.text, 'String')
    out.push(contentTextMatch(alias, projectParam, (column) => `positionCaseInsensitiveUTF8(${column}, ${p}) > 0`))
  }
  return out
}

const list = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean))

/** Span kinds: any other value is refused, not answered with nothing. */
const kinds = list.pipe(z.array(z.enum(SPAN_KINDS)))
const flag = z.union([z.boolean(), z.enum(['1', '0', 'true', 'false']).transform((v) => v === '1' || v === 'true')])
const ms = z.union([z.number(), z.string().trim().min(1).transform(Number)]).pipe(z.number().finite().min(0))
const scoreConditions = z.record(z.string().min(1), z.string().trim().min(1))

/** JSON form of a filter (request bodies, SLO files). Times as ISO, epoch ms or now-<duration>. */
export const spanFilterSchema = z
  .object({
    from: z.union([z.string(), z.number()]).optional(),
    to: z.union([z.string(), z.number()]).optional(),
    service: list.optional(),
    model: list.optional(),
    provider: list.optional(),
    operation: list.optional(),
    kind: kinds.optional(),
    name: list.optional(),
    status: list.optional(),
    environment: list.optional(),
    release: list.optional(),
    userId: z.string().optional(),
    sessionId: z.string().optional(),
    traceId: z.string().optional(),
    attributes: z.record(z.string(), z.string()).optional(),
    resource: z.record(z.string(), z.string()).optional(),
    text: z.string().optional(),
    tag: list.optional(),
    refusal: flag.optional(),
    minDurationMs: ms.optional(),
    maxDurationMs: ms.optional(),
    scores: scoreConditions.optional(),
  })
  .strict()

export type SpanFilterInput = z.input<typeof spanFilterSchema>

export function toSpanFilter(input: SpanFilterInput | undefined, now = new Date()): SpanFilter {
  const parsed = spanFilterSchema.safeParse(input ?? {})
  if (!parsed.success) throw errors.BAD_REQUEST(`filter: ${z.prettifyError(parsed.error)}`)
  const { from, to, scores, ...rest } = parsed.data
  const out: SpanFilter = {}
  for (const [k, v] of Object.entries(rest)) if (v !== undefined) (out as Record<string, unknown>)[k] = v
  if (scores !== undefined) out.scores = Object.fromEntries(Object.entries(scores).map(([k, v]) => [k, parseScoreCondition(k, v)]))
  if (from !== undefined) out.from = parseTime(from, 'from', now)
  if (to !== undefined) out.to = parseTime(to, 'to', now)
  if (out.from && out.to && out.from >= out.to) throw errors.BAD_REQUEST('from must be before to')
  return out
}

/**
 * Query-string form: `service=a,b&model=gpt-4o&attr.tenant=acme&resource.region=eu&q=refund`,
 * `score.feedback=<=0`, `refusal=1`, `minDurationMs=1000`, `tag=vip`.
 * Unknown keys are ignored by this function (routes validate their own extra keys).
 */
export function filterFromQuery(q: Record<string, unknown>, now = new Date()): SpanFilter {
  const input: Record<string, unknown> = {}
  const attributes: Record<string, string> = {}
  const resource: Record<string, string> = {}
  const scores: Record<string, string> = {}
  const keys = new Set(Object.keys(spanFilterSchema.shape))
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined) continue
    const str = Array.isArray(v) ? String(v[v.length - 1]) : String(v)
    if (k.startsWith('attr.')) attributes[k.slice(5)] = str
    else if (k.startsWith('resource.')) resource[k.slice(9)] = str
    else if (k.startsWith('score.')) scores[k.slice(6)] = str
    else if (k === 'q') input.text = str
    else if (keys.has(k) && k !== 'attributes' && k !== 'resource' && k !== 'scores') input[k] = Array.isArray(v) ? v.map(String) : str
  }
  if (Object.keys(attributes).length > 0) input.attributes = attributes
  if (Object.keys(resource).length > 0) input.resource = resource
  if (Object.keys(scores).length > 0) input.scores = scores
  return toSpanFilter(input as SpanFilterInput, now)
}
