import type { createClient } from '@clickhouse/client'

/** The Connection type @clickhouse/client accepts (chdb types it against client-common). */
export type ClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>
type Settings = Record<string, unknown> | undefined

/**
 * chdb's Connection applies `clickhouse_settings` as session-wide `SET` statements,
 * so a setting given for one query (an insert deduplication token, a read-only
 * sandbox limit) silently stays on for every later query of the process. Over
 * HTTP the same settings are per-request. This wrapper restores the HTTP meaning
 * in embedded mode by moving the settings into the statement's own SETTINGS
 * clause, which ClickHouse scopes to that one query.
 */

// Settings that only mean something to ClickHouse's HTTP layer; chdb drops them too.
const HTTP_ONLY = new Set([
  'wait_end_of_query',
  'send_progress_in_http_headers',
  'http_response_buffer_size',
  'http_headers_progress_interval_ms',
  'http_send_progress_interval_ms',
  'enable_http_compression',
  'http_zlib_compression_level',
  'http_response_compression_method',
  'http_native_compression_disable_checksumming_on_decompress',
])

/** A ClickHouse string literal. */
export function quoteString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
}

function renderSettings(settings: Settings): string {
  if (!settings) return ''
  const parts: string[] = []
  for (const [key, value] of Object.entries(settings)) {
    if (value === undefined || HTTP_ONLY.has(key) || key === 'default_format') continue
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new Error(`invalid ClickHouse setting name ${JSON.stringify(key)}`)
    const rendered =
      typeof value === 'number' || typeof value === 'bigint'
        ? String(value)
        : typeof value === 'boolean'
          ? value
            ? '1'
            : '0'
          : quoteString(String(value))
    parts.push(`${key} = ${rendered}`)
  }
  return parts.length === 0 ? '' : `SETTINGS ${parts.join(', ')}`
}

const TRAILING_FORMAT = /\s+FORMAT\s+[A-Za-z0-9_]+\s*;?\s*$/i

/**
 * Puts a SETTINGS clause before a trailing `FORMAT x`, or at the end, on a line
 * of its own: after a trailing `-- comment` a clause on the same line would be
 * part of the comment, and the query would run without its limits.
 */
export function withSettingsClause(query: string, settings: Settings): string {
  const clause = renderSettings(settings)
  if (clause === '') return query
  const trimmed = query.replace(/;\s*$/, '')
  const match = TRAILING_FORMAT.exec(trimmed)
  if (match) {
    return `${trimmed.slice(0, match.index)}\n${clause}${match[0]}`
  }
  return `${trimmed}\n${clause}`
}

type QueryParams = Parameters<ClientConnection['query']>[0]

function keepOnlyFormat(settings: QueryParams['clickhouse_settings']): QueryParams['clickhouse_settings'] {
  if (!settings || settings.default_format === undefined) return undefined
  return { default_format: settings.default_format }
}

export function scopeSettings(inner: ClientConnection): ClientConnection {
  const scoped: ClientConnection = {
    query: (params) =>
      inner.query({
        ...params,
        query: withSettingsClause(params.query, params.clickhouse_settings),
        clickhouse_settings: keepOnlyFormat(params.clickhouse_settings),
      }),
    command: (params) =>
      inner.command({
        ...params,
        query: withSettingsClause(params.query, params.clickhouse_settings),
        clickhouse_settings: keepOnlyFormat(params.clickhouse_settings),
      }),
    exec: (params) =>
      inner.exec({
        ...params,
        query: withSettingsClause(params.query, params.clickhouse_settings),
        clickhouse_settings: keepOnlyFormat(params.clickhouse_settings),
      }),
    insert: (params) =>
      inner.insert({
        ...params,
        query: withSettingsClause(params.query, params.clickhouse_settings),
        clickhouse_settings: keepOnlyFormat(params.clickhouse_settings),
      }),
    ping: (params) => inner.ping(params),
    close: () => inner.close(),
  }
  return scoped
}
