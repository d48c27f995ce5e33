import type { ClickHouseClient } from '@clickhouse/client'
import { isSpanlensError, storeFailure } from './errors.js'

export type { ClickHouseClient }
export type Params = Record<string, unknown>

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

  add(value: unknown, type: string): string {
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
