// Where every number leads: the traces behind it, as a /traces URL with the query
// API's own filter parameters (docs/api.md), and the user and session views.
import type { EchoedFilter } from './api/types'

/** A traces filter in the API's query-string form; empty values are dropped. */
export type TraceQuery = Record<string, string | number | undefined | null>

export function tracesHref(q: TraceQuery): string {
  const s = new URLSearchParams()
  // `from` always: the traces page reads a missing one as the last 24 hours.
  s.set('from', String(q.from ?? ''))
  // A group's empty value is one (spans without the attribute, the user), not an unset filter.
  for (const [k, v] of Object.entries(q)) if (k !== 'from' && v !== undefined && v !== null && (v !== '' || isGroupKey(k))) s.set(k, String(v))
  return `/traces?${s.toString()}`
}

const isGroupKey = (k: string) => k.startsWith('group.') || k.startsWith('not.group.')

/** A filter as the API echoes it (drift's sets) in query-string form. */
export function queryOfFilter(f: EchoedFilter): TraceQuery {
  const q: TraceQuery = {}
  const list = (v: string[] | undefined) => (v && v.length > 0 ? v.join(',') : undefined)
  q.from = f.from ?? ''
  q.to = f.to
  q.service = list(f.service)
  q.model = list(f.model)
  q.provider = list(f.provider)
  q.operation = list(f.operation)
  q.kind = list(f.kind)
  q.name = list(f.name)
  q.status = list(f.status)
  q.environment = list(f.environment)
  q.release = list(f.release)
  q.userId = f.userId
  q.sessionId = f.sessionId
  q.traceId = f.traceId
  q.q = f.text
  q.tag = list(f.tag)
  q.refusal = f.refusal === undefined ? undefined : f.refusal ? '1' : '0'
  q.minDurationMs = f.minDurationMs
  q.maxDurationMs = f.maxDurationMs
  for (const k of SPAN_NUMBERS) q[k] = f[k]?.map((c) => `${c.op}${c.value}`).join(',')
  for (const [k, v] of Object.entries(f.attributes ?? {})) q[`attr.${k}`] = v
  for (const [k, v] of Object.entries(f.attributeNumbers ?? {})) q[`attrNum.${k}`] = v.map((c) => `${c.op}${c.value}`).join(',')
  for (const [k, v] of Object.entries(f.resource ?? {})) q[`resource.${k}`] = v
  for (const [k, v] of Object.entries(f.groups ?? {})) q[`group.${k}`] = v
  // Only what is set: a spread over another query must not unset its keys.
  return Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined))
}

/** The span numbers the API's filters bound with conditions (`ttftMs=>1000`), query/src/span-numbers.ts. */
export const SPAN_NUMBERS = ['durationMs', 'ttftMs', 'costUsd', 'inputTokens', 'outputTokens', 'totalTokens'] as const

/**
 * A bias group (`model`, `attr:tenant`, `user_prefix:3`, `language`…) and one of its
 * values as a traces filter that selects exactly its spans: a plain column or attribute
 * as itself, any other key (and an empty value) as `group.<key>`, the API's filter that
 * reads the group's own expression.
 */
export function groupFilter(key: string, value: string): TraceQuery {
  const [kind, ...rest] = key.split(':')
  const arg = rest.join(':')
  if (value !== '') {
    if (kind === 'attr' && arg) return { [`attr.${arg}`]: value }
    if (kind === 'resource' && arg) return { [`resource.${arg}`]: value }
    if (kind === 'user' && !arg) return { userId: value }
    if ((kind === 'service' || kind === 'environment' || kind === 'release' || kind === 'provider') && !arg) return { [kind]: value }
  }
  return { [`group.${key}`]: value }
}

export const userHref = (id: string) => `/users/${encodeURIComponent(id)}`
export const sessionHref = (id: string) => `/sessions/${encodeURIComponent(id)}`
export const traceHref = (id: string, spanId?: string) => `/traces/${encodeURIComponent(id)}${spanId ? `?span=${encodeURIComponent(spanId)}` : ''}`

/** An absolute ISO time for a bucket boundary (epoch seconds). */
export const isoOf = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString()
