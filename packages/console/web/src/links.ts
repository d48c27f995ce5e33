// Where every number leads: the traces behind it, as a /traces URL with the query
// API's own filter parameters (docs/api.md), and the user and session views.
import type { EchoedFilter } from './api/types'

/** A traces filter in the API's query-string form; empty values are dropped. */
export type TraceQuery = Record<string, string | number | undefined | null>

export function tracesHref(q: TraceQuery): string {
  const s = new URLSearchParams()
  // `from` always: the traces page reads a missing one as the last 24 hours.
  s.set('from', String(q.from ?? ''))
  for (const [k, v] of Object.entries(q)) if (k !== 'from' && v !== undefined && v !== null && v !== '') s.set(k, String(v))
  return `/traces?${s.toString()}`
}

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
  for (const [k, v] of Object.entries(f.attributes ?? {})) q[`attr.${k}`] = v
  for (const [k, v] of Object.entries(f.resource ?? {})) q[`resource.${k}`] = v
  // Only what is set: a spread over another query must not unset its keys.
  return Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined))
}

/**
 * A group key of drift or bias (`model`, `attr:tenant`, `user`…) and one of its values
 * as a traces filter; null when no filter selects it (a user prefix, a language).
 */
export function groupFilter(key: string, value: string): TraceQuery | null {
  const [kind, ...rest] = key.split(':')
  const arg = rest.join(':')
  switch (kind) {
    case 'attr':
      return arg ? { [`attr.${arg}`]: value } : null
    case 'resource':
      return arg ? { [`resource.${arg}`]: value } : null
    case 'user':
      return { userId: value }
    case 'model':
    case 'service':
    case 'environment':
    case 'release':
    case 'provider':
    case 'operation':
    case 'kind':
    case 'status':
      return value === '' ? null : { [kind]: value }
    default:
      return null
  }
}

export const userHref = (id: string) => `/users/${encodeURIComponent(id)}`
export const sessionHref = (id: string) => `/sessions/${encodeURIComponent(id)}`
export const traceHref = (id: string, spanId?: string) => `/traces/${encodeURIComponent(id)}${spanId ? `?span=${encodeURIComponent(spanId)}` : ''}`

/** An absolute ISO time for a bucket boundary (epoch seconds). */
export const isoOf = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString()
