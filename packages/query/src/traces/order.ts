import { type ClickHouseClient, ParamBag, select } from '../db.js'
import { errors } from '../errors.js'
import type { SpanFilter } from '../filters.js'
import { chTime } from '../time.js'
import { listedTraces } from './listed.js'
import { spansAround } from './slack.js'

/**
 * Orders of the trace listing besides the default newest-first (`-startTime`), by a
 * field of the listing's TraceSummary; a leading `-` is descending.
 */
const ORDER_FIELDS = {
  startTime: 'toFloat64(toUnixTimestamp64Nano(min(start_time)))',
  durationMs: '(toUnixTimestamp64Nano(max(end_time)) - toUnixTimestamp64Nano(min(start_time))) / 1e6',
  // Rounded: a float sum may differ in its last bits between two reads, and the
  // keyset cursor compares it exactly.
  costUsd: 'round(sum(ifNull(cost_usd, 0)), 12)',
  tokens: 'toFloat64(sum(total_tokens))',
  errors: "toFloat64(countIf(status_code = 'error'))",
  spans: 'toFloat64(count())',
} as const

type TraceOrderField = keyof typeof ORDER_FIELDS
export interface TraceOrder {
  field: TraceOrderField
  desc: boolean
}

const TRACE_ORDERS = Object.keys(ORDER_FIELDS).flatMap((f) => [f, `-${f}`])

export function parseTraceOrder(raw: unknown): TraceOrder | undefined {
  if (raw === undefined || raw === '-startTime') return undefined
  const s = String(raw)
  const field = s.replace(/^-/, '')
  if (!(field in ORDER_FIELDS)) throw errors.BAD_REQUEST(`order: expected one of ${TRACE_ORDERS.join(', ')}, got "${s.slice(0, 40)}"`)
  return { field: field as TraceOrderField, desc: s.startsWith('-') }
}

/** Keyset cursor of an ordered listing: the order, then the last row's (value, trace id). */
export interface OrderCursor {
  value: number
  id: string
}

export function encodeOrderCursor(order: TraceOrder, c: OrderCursor): string {
  return Buffer.from(JSON.stringify([`${order.desc ? '-' : ''}${order.field}`, c.value, c.id])).toString('base64url')
}

export function decodeOrderCursor(order: TraceOrder, raw: string | undefined): OrderCursor | undefined {
  if (raw === undefined) return undefined
  try {
    const v: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'))
    if (Array.isArray(v) && v.length === 3 && v[0] === `${order.desc ? '-' : ''}${order.field}` && typeof v[1] === 'number' && Number.isFinite(v[1]) && typeof v[2] === 'string') {
      return { value: v[1], id: v[2] }
    }
  } catch {
    // fall through
  }
  throw errors.BAD_REQUEST('cursor: not a cursor returned by this API for this order')
}

/**
 * One page of trace ids with their sort value, ordered by a trace-level aggregate
 * over every span of the trace (a page reads all spans of the matching traces).
 */
export async function orderedTraceIds(
  client: ClickHouseClient,
  project: string,
  filter: SpanFilter,
  order: TraceOrder,
  cursor: OrderCursor | undefined,
  limit: number,
): Promise<Array<{ trace_id: string; v: number }>> {
  const bag = new ParamBag()
  const where = [`project_id = ${bag.add(project, 'String')}`, `trace_id IN (${await listedTraces(client, project, filter, bag)})`]
  // A listed trace's head starts in the range: its spans start around it (slack.ts), as the listing's totals read them.
  const around = spansAround(filter)
  if (around.from) where.push(`start_time >= ${bag.add(chTime(around.from), "DateTime64(3, 'UTC')")}`)
  if (around.to) where.push(`start_time <= ${bag.add(chTime(around.to), "DateTime64(3, 'UTC')")}`)
  const dir = order.desc ? 'DESC' : 'ASC'
  // The value as text: @clickhouse/client refuses integers beyond ±2^53, and a start in ns is one.
  const having = cursor ? `HAVING (v, trace_id) ${order.desc ? '<' : '>'} (${bag.add(String(cursor.value), 'Float64')}, ${bag.add(cursor.id, 'String')})` : ''
  const rows = await select<{ trace_id: string; v: number }>(
    client,
    `SELECT trace_id, ${ORDER_FIELDS[order.field]} AS v
     FROM spans FINAL
     WHERE ${where.join(' AND ')}
     GROUP BY trace_id
     ${having}
     ORDER BY v ${dir}, trace_id ${dir}
     LIMIT ${limit + 1}`,
    bag.values,
  )
  return rows.map((r) => ({ trace_id: r.trace_id, v: Number(r.v) }))
}
