import type { InsertedColumn, RowOf } from '../schema/columns.js'
import { METRIC_INSERT_COLUMNS } from '../schema/metric-columns.js'
import { LOG_INSERT_COLUMNS } from '../schema/log-columns.js'
import { SPAN_CONTENT_INSERT_COLUMNS } from '../schema/span-content-columns.js'
import { SPAN_INSERT_COLUMNS } from '../schema/span-columns.js'
import { columnLine, compileEncoder, encodeRow } from './row-format.js'

/**
 * A table the spool writes rows for. Every signal's rows take the same way to
 * ClickHouse: appended to a segment of their table (acknowledged once written),
 * one insert per segment with its deduplication token, refused rows isolated into
 * dead letters, replay after a crash. A table is one row here, made from its
 * column table (schema/*-columns.ts).
 */
export interface SpoolTable<R = never> {
  readonly name: string
  /** The inserted columns, in order: every segment of this table starts with this list. */
  readonly columns: readonly string[]
  /** The segment's first line: `columns` as TabSeparatedWithNames reads them. */
  readonly header: Buffer
  /** The DateTime64 column whose day is the row's partition (an insert over more than 100 days is split by it). */
  readonly dayColumn: string
  /**
   * The inserted columns that tell one row from another within a project (its sorting key,
   * less what ClickHouse computes at insert): how a retry finds which rows it holds
   * (stored-rows.ts).
   */
  readonly identity: readonly IdentityColumn[]
  /** One TabSeparated line (without the newline) in `columns` order. */
  readonly encode: (row: R) => string
}

/** A column of a table's identity, and how its value reads back as text: a string, an unsigned integer, a DateTime64. */
export interface IdentityColumn {
  readonly column: string
  readonly kind: 'string' | 'uint' | 'time'
}

function spoolTable<const C extends readonly InsertedColumn[]>(
  name: string,
  columns: C,
  dayColumn: C[number]['name'],
  identity: ReadonlyArray<{ column: C[number]['name']; kind: IdentityColumn['kind'] }>,
  encode: (row: RowOf<C>) => string = compileEncoder<RowOf<C>>(columns),
): SpoolTable<RowOf<C>> {
  const names = columns.map((c) => c.name)
  return { name, columns: names, header: columnLine(names), dayColumn, identity, encode }
}

const str = <N extends string>(column: N) => ({ column, kind: 'string' as const })
const uint = <N extends string>(column: N) => ({ column, kind: 'uint' as const })
const time = <N extends string>(column: N) => ({ column, kind: 'time' as const })

// A log record's sorting key ends in record_hash, computed at insert from its other fields;
// its two times stand in for it, so two records of one span at the same nanosecond read as one.
export const SPANS = spoolTable('spans', SPAN_INSERT_COLUMNS, 'start_time', [str('trace_id'), str('span_id')], encodeRow)
export const METRICS = spoolTable('metrics', METRIC_INSERT_COLUMNS, 'time', [str('name'), uint('series_id'), time('time')])
export const LOGS = spoolTable('logs', LOG_INSERT_COLUMNS, 'timestamp', [str('trace_id'), str('span_id'), time('timestamp'), time('observed_timestamp')])
export const SPAN_CONTENT = spoolTable('span_content', SPAN_CONTENT_INSERT_COLUMNS, 'time', [str('trace_id'), str('span_id'), time('time'), uint('seq')])

/** Every table this version spools to; a segment of any other table is set aside unread (spool.ts). */
const SPOOL_TABLES: ReadonlyMap<string, SpoolTable> = new Map([SPANS, METRICS, LOGS, SPAN_CONTENT].map((t) => [t.name, t as SpoolTable]))

export function spoolTableNamed(name: string): SpoolTable | undefined {
  return SPOOL_TABLES.get(name)
}
