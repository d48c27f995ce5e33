import { parseError } from '@clickhouse/client'
import type { ChdbExtension } from 'chdb/connection'
import type { StreamQuery } from '@spanlens/query'
import { withSettingsClause } from './scoped-settings.js'

type Params = Parameters<StreamQuery>[0]

/**
 * One statement through chDB's queryStream, its output handed to `read` a block at a time
 * (chDB formats one block per fetch and runs no further ahead while it is not fetched: RSS
 * stayed flat for 5 s between two fetches of 20 MB). Settings go into the statement's own
 * SETTINGS clause, as every other embedded call's do (scoped-settings.ts); `default_format`
 * is the stream's format. The caller holds the call gate and the leftover guard: a stream
 * that failed or was cancelled leaves its output so far for the next call, as a failed
 * query does (store-leftover-output.ts; measured: the names and types line of a stream that
 * hit max_result_rows came first in the next query's output).
 */
export async function streamChdb<T>(chdb: ChdbExtension, params: Params, read: (chunks: AsyncIterable<Uint8Array>) => Promise<T>): Promise<T> {
  const { default_format: format, ...settings } = params.clickhouse_settings
  let stream: ReturnType<ChdbExtension['queryStream']>
  try {
    stream = chdb.queryStream(withSettingsClause(params.query, settings), { format: String(format ?? 'TabSeparated') })
  } catch (err) {
    throw asClickHouseError(err)
  }
  try {
    return await read(chunksOf(stream))
  } finally {
    // Idempotent; ends a stream `read` left before its end.
    stream.cancel()
  }
}

async function* chunksOf(stream: ReturnType<ChdbExtension['queryStream']>): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of stream) yield chunk.raw()
  } catch (err) {
    throw asClickHouseError(err)
  }
}

/**
 * chDB's stream errors carry the engine's message (`Code: 396. DB::Exception: … (TOO_MANY_ROWS_OR_BYTES)`)
 * under chDB's own codes; the rest of the code reads ClickHouse's code and type, as the
 * embedded connection's other calls give them (parseError is what chdb's Connection uses).
 */
function asClickHouseError(err: unknown): Error {
  const message = err instanceof Error ? err.message : String(err)
  const mapped = parseError(message)
  if (mapped !== err) (mapped as Error & { cause?: unknown }).cause = err
  return mapped
}
