import type { SpanKind } from '../span-kinds.js'
import { nanosToIso } from '../time.js'

/**
 * What the API returns for a span, field by field: the one list that the SELECT
 * list, the raw row's type, the `Span` type and toSpan() are all made from.
 * Each field reads one selected value (a column, or an expression under an
 * alias). `tokens` holds every stored token count (packages/ingest's column
 * table: a test checks that none is left out). Never the embedding; input and
 * output only where asked, they can be large.
 */

interface Field<A extends string = string, R = never, T = unknown> {
  /** The name the value is selected as. */
  readonly alias: A
  /** The SQL that yields it, when it is not the column of that name. */
  readonly expr?: string
  readonly read: (raw: R) => T
  /** Selected only when the caller asks for input and output. */
  readonly io?: true
}
interface Group<F extends Record<string, Field> = Record<string, Field>> {
  readonly group: F
}

const column = <const A extends string, R, T>(alias: A, read: (raw: R) => T): Field<A, R, T> => ({ alias, read })
const computed = <const A extends string, R, T>(alias: A, expr: string, read: (raw: R) => T): Field<A, R, T> => ({ alias, expr, read })
const text = (v: string): string => v
const count = (v: number): number => Number(v)
const nullable = (v: number | null): number | null => (v === null ? null : Number(v))
const START_NS = 'toString(toUnixTimestamp64Nano(start_time))'
const END_NS = 'toString(toUnixTimestamp64Nano(end_time))'

/** The token counts a span stores, as the API names them. */
export const TOKEN_FIELDS = {
  input: column('input_tokens', count),
  output: column('output_tokens', count),
  total: column('total_tokens', count),
  cacheRead: column('cache_read_tokens', count),
  cacheWrite: column('cache_write_tokens', count),
  reasoning: column('reasoning_tokens', count),
}

/** Every token count, by API name: a span's, or a sum over a trace's spans. */
export type Tokens = { [K in keyof typeof TOKEN_FIELDS]: number }
const TOKEN_KEYS = Object.keys(TOKEN_FIELDS) as Array<keyof typeof TOKEN_FIELDS>
export const noTokens = (): Tokens => Object.fromEntries(TOKEN_KEYS.map((k) => [k, 0])) as Tokens

/** SELECT items summing every token count, each as `<prefix><column>`. */
export const tokenSums = (prefix: string): string =>
  TOKEN_KEYS.map((k) => `sum(${TOKEN_FIELDS[k].alias}) AS ${prefix}${TOKEN_FIELDS[k].alias}`).join(', ')

/** The token counts of a row selected with tokenSums(prefix). */
export function tokensOf(row: Record<string, unknown>, prefix: string): Tokens {
  const out = noTokens()
  for (const k of TOKEN_KEYS) out[k] = Number(row[`${prefix}${TOKEN_FIELDS[k].alias}`])
  return out
}

export const SPAN_FIELDS = {
  traceId: column('trace_id', text),
  spanId: column('span_id', text),
  parentSpanId: column('parent_span_id', (v: string): string | null => (v === '' ? null : v)),
  name: column('name', text),
  kind: column('kind', (v: SpanKind) => v),
  spanKind: column('span_kind', text),
  service: column('service_name', text),
  startTime: computed('start_ns', START_NS, nanosToIso),
  endTime: computed('end_ns', END_NS, nanosToIso),
  startTimeUnixNano: computed('start_ns', START_NS, text),
  durationMs: column('duration_ms', count),
  status: column('status_code', text),
  statusMessage: column('status_message', text),
  errorType: column('error_type', text),
  provider: column('provider', text),
  operation: column('operation', text),
  requestModel: column('request_model', text),
  responseModel: column('response_model', text),
  tokens: { group: TOKEN_FIELDS },
  costUsd: column('cost_usd', nullable),
  ttftMs: column('ttft_ms', nullable),
  finishReason: column('finish_reason', text),
  userId: column('user_id', text),
  sessionId: column('session_id', text),
  environment: column('environment', text),
  release: column('release', text),
  tags: column('tags', (v: string[]) => v),
  attributes: column('attributes', (v: Record<string, string>) => v),
  input: { ...column('input', text), io: true },
  output: { ...column('output', text), io: true },
} as const

type Fields = typeof SPAN_FIELDS
type Leaves<F> = { [K in keyof F]: F[K] extends Group<infer G> ? G[keyof G] : F[K] }[keyof F]
type Value<E> = E extends Group<infer G> ? { [K in keyof G]: Value<G[K]> } : E extends Field<string, never, infer T> ? T : never
type IoKeys = { [K in keyof Fields]: Fields[K] extends { io: true } ? K : never }[keyof Fields]

/** A span as the API returns it. */
export type Span = { [K in Exclude<keyof Fields, IoKeys>]: Value<Fields[K]> } & { [K in IoKeys]?: Value<Fields[K]> }

/** A span's row as ClickHouse returns it for spanSelect(). */
export type RawSpan = {
  [E in Leaves<Fields> as E extends { io: true } ? never : E['alias']]: E extends Field<string, infer R> ? R : never
} & { [E in Leaves<Fields> as E extends { io: true } ? E['alias'] : never]?: E extends Field<string, infer R> ? R : never } & {
  /** Which columns the content merge filled (clickhouse/010_content_merge.sql): read by content/span-content.ts's withContent, never returned. */
  content_filled: number
}

const isGroup = (e: Field | Group): e is Group => 'group' in e
const leaves = (fields: Record<string, Field | Group>): Field[] => Object.values(fields).flatMap((e) => (isGroup(e) ? leaves(e.group) : [e]))

function selectList(io: boolean): string {
  const seen = new Set<string>()
  const items: string[] = ['content_filled']
  for (const f of leaves(SPAN_FIELDS)) {
    if ((f.io && !io) || seen.has(f.alias)) continue
    seen.add(f.alias)
    items.push(f.expr === undefined ? f.alias : `${f.expr} AS ${f.alias}`)
  }
  return items.join(', ')
}
const SELECT = selectList(false)
const SELECT_IO = selectList(true)

/** The SELECT list of a span listing (no leading SELECT); with `io`, input and output too. */
export function spanSelect(opts: { io?: boolean } = {}): string {
  return opts.io ? SELECT_IO : SELECT
}

function build(fields: Record<string, Field | Group>, raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const key in fields) {
    const e = fields[key] as Field | Group
    if (isGroup(e)) out[key] = build(e.group, raw)
    else if (!e.io || raw[e.alias] !== undefined) out[key] = (e.read as (v: unknown) => unknown)(raw[e.alias])
  }
  return out
}

export function toSpan(r: RawSpan): Span {
  return build(SPAN_FIELDS, r as Record<string, unknown>) as Span
}
