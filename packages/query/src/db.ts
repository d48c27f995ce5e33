import type { ClickHouseClient } from '@clickhouse/client'
import { isSpanlensError, storeFailure } from './errors.js'
import { MAX_PARAM_BYTES, paramBytes, paramGroups } from './query-params.js'

export type { ClickHouseClient }
export type Params = Record<string, unknown>

/** What one query of a route may take: SPANLENS_QUERY_MAX_EXECUTION_SECONDS and SPANLENS_QUERY_MAX_MEMORY_BYTES. */
export interface QueryLimits {
  maxExecutionSeconds: number
  maxMemoryBytes: number
}

type Settings = NonNullable<Parameters<ClickHouseClient['query']>[0]['clickhouse_settings']>

/**
 * The same client with a time and a memory limit on every query, exec and command,
 * for the query routes: embedded ClickHouse runs one call at a time, so one unbounded
 * listing (a text search over a month of spans scans every row) held every project's
 * queries and ingest's inserts behind it. Settings a call gives itself win. Embedded,
 * they become the statement's SETTINGS clause (ingest's scoped-settings.ts); over HTTP
 * they are the request's. A limit hit is SPANLENS_QUERY_LIMIT (errors.ts, storeFailure).
 * Not for inserts, migrations or the server's own jobs, which take the store's client.
 */
export function withQueryLimits(client: ClickHouseClient, limits: QueryLimits): ClickHouseClient {
  const settings: Settings = {
    max_execution_time: limits.maxExecutionSeconds,
    timeout_overflow_mode: 'throw',
    max_memory_usage: String(limits.maxMemoryBytes),
  }
  const limited = <P extends { clickhouse_settings?: Settings }>(params: P): P => ({ ...params, clickhouse_settings: { ...settings, ...params.clickhouse_settings } })
  return new Proxy(client, {
    get(target, key) {
      if (key === 'query') return (params: Parameters<ClickHouseClient['query']>[0]) => target.query(limited(params))
      if (key === 'exec') return (params: Parameters<ClickHouseClient['exec']>[0]) => target.exec(limited(params))
      if (key === 'command') return (params: Parameters<ClickHouseClient['command']>[0]) => target.command(limited(params))
      const value: unknown = Reflect.get(target, key, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

/** Runs one SELECT and returns its rows; every module goes through here. */
export async function select<T>(
  client: ClickHouseClient,
  query: string,
  params: Params = {},
  settings: Record<string, string | number> = {},
): Promise<T[]> {
  try {
    const rs = await client.query({
      query,
      query_params: params,
      format: 'JSONEachRow',
      // 64-bit integers as JSON numbers: our counts stay far below 2^53.
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0, ...settings } as never,
    })
    return await rs.json<T>()
  } catch (err) {
    // Output that does not parse came from the store too (chDB once handed a
    // failed query's rows to the next call), so it is a 502, not a bug.
    if (isSpanlensError(err)) throw err
    throw storeFailure(err)
  }
}

export async function selectOne<T>(client: ClickHouseClient, query: string, params: Params = {}): Promise<T> {
  const rows = await select<T>(client, query, params)
  const row = rows[0]
  if (row === undefined) throw new Error('query returned no rows')
  return row
}

/** Collects `{name:Type}` parameters while a query is being assembled. */
export class ParamBag {
  readonly values: Params = {}
  private n = 0

  /**
   * The placeholder of `value` as a `type`. An array longer than one parameter may travel
   * (MAX_PARAM_BYTES: a listing checks up to 10,000 trace ids at once) is split over several,
   * joined back by `arrayConcat`, which ClickHouse folds into one constant (an IN set too).
   */
  add(value: unknown, type: string): string {
    if (Array.isArray(value) && type.startsWith('Array(') && paramBytes(value) > MAX_PARAM_BYTES) {
      return `arrayConcat(${[...paramGroups(value)].map((part) => this.one(part, type)).join(', ')})`
    }
    return this.one(value, type)
  }

  private one(value: unknown, type: string): string {
    const name = `p${this.n++}`
    this.values[name] = value
    return `{${name}:${type}}`
  }
}

export const num = (v: unknown): number => (v === null || v === undefined ? Number.NaN : Number(v))
export const numOrNull = (v: unknown): number | null => {
  if (v === null || v === undefined) return null
  const n = Number(v)
  return Number.isFinite(n) ? n : null
}
