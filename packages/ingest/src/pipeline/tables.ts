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
  /** One TabSeparated line (without the newline) in `columns` order. */
  readonly encode: (row: R) => string
}

function spoolTable<const C extends readonly InsertedColumn[]>(
  name: string,
  columns: C,
  dayColumn: C[number]['name'],
  encode: (row: RowOf<C>) => string = compileEncoder<RowOf<C>>(columns),
): SpoolTable<RowOf<C>> {
  const names = columns.map((c) => c.name)
  return { name, columns: names, header: columnLine(names), dayColumn, encode }
}

export const SPANS = spoolTable('spans', SPAN_INSERT_COLUMNS, 'start_time', encodeRow)
export const METRICS = spoolTable('metrics', METRIC_INSERT_COLUMNS, 'time')
export const LOGS = spoolTable('logs', LOG_INSERT_COLUMNS, 'timestamp')
export const SPAN_CONTENT = spoolTable('span_content', SPAN_CONTENT_INSERT_COLUMNS, 'time')

/** Every table this version spools to; a segment of any other table is set aside unread (spool.ts). */
const SPOOL_TABLES: ReadonlyMap<string, SpoolTable> = new Map([SPANS, METRICS, LOGS, SPAN_CONTENT].map((t) => [t.name, t as SpoolTable]))

export function spoolTableNamed(name: string): SpoolTable | undefined {
  return SPOOL_TABLES.get(name)
}
