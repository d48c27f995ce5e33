import { readFile } from 'node:fs/promises'
import { rowFormat, type RowFormat } from './row-format.js'
import { segmentBody } from './segment-file.js'
import type { SealedSegment } from './spool.js'
import { spoolTableNamed } from './tables.js'

/** Where rows without a column line go, and how to read them: a segment's rows, a dead letter's. */
export interface RowTarget {
  table: string
  columns: readonly string[]
  format: RowFormat
}

/**
 * A segment's rows one by one, for the rare inserts that cannot take the file
 * whole: a batch over more daily partitions than one insert may touch, and a
 * batch ClickHouse refused as data, whose bad rows are isolated. Every row is
 * one line in both spool formats (TSV and JSON escape their line breaks).
 */
export interface SegmentRows extends RowTarget {
  /** Each row without its newline. */
  rows: Buffer[]
}

export const rowTargetOf = (segment: SealedSegment): RowTarget => ({ table: segment.table, columns: segment.columns, format: rowFormat(segment.format) })

export async function readSegmentRows(segment: SealedSegment): Promise<SegmentRows> {
  const data = await readFile(segment.path)
  const body = segment.layout === 'plain' ? data.subarray(segment.headerBytes) : (await segmentBody(data)).body
  return { ...rowTargetOf(segment), rows: splitLines(body) }
}

export function splitLines(body: Buffer): Buffer[] {
  const rows: Buffer[] = []
  let start = 0
  for (let nl = body.indexOf(0x0a, start); nl !== -1; nl = body.indexOf(0x0a, start)) {
    if (nl > start) rows.push(body.subarray(start, nl))
    start = nl + 1
  }
  if (start < body.length) rows.push(body.subarray(start))
  return rows
}

/** Rows joined back into an insert body. */
export function joinRows(rows: readonly Buffer[]): Buffer {
  const parts: Buffer[] = []
  const nl = Buffer.from('\n')
  for (const r of rows) parts.push(r, nl)
  return Buffer.concat(parts)
}

function tsvField(row: Buffer, index: number): string {
  let start = 0
  for (let i = 0; i < index; i++) {
    const tab = row.indexOf(0x09, start)
    if (tab === -1) return ''
    start = tab + 1
  }
  const end = row.indexOf(0x09, start)
  return row.subarray(start, end === -1 ? row.length : end).toString('utf8')
}

function jsonField(row: Buffer, index: number): string {
  try {
    const value = (JSON.parse(row.toString('utf8')) as unknown[])[index]
    return value === undefined || value === null ? '' : String(value)
  } catch {
    return ''
  }
}

const field = (row: Buffer, format: RowFormat, index: number): string =>
  index < 0 ? '' : format === 'TabSeparated' ? tsvField(row, index) : jsonField(row, index)

const TSV_ESCAPES: Record<string, string> = { b: '\b', f: '\f', r: '\r', n: '\n', t: '\t', '0': '\0', "'": "'", '\\': '\\' }

/** A TabSeparated field's text: its escapes (row-format.ts writes them) undone. */
function unescapeTsv(text: string): string {
  return text.indexOf('\\') === -1 ? text : text.replace(/\\(.)/g, (_, c: string) => TSV_ESCAPES[c] ?? c)
}

/** A field of a row by its column's index, as text: '' when the row has no such field. */
export function rowField(row: Buffer, target: RowTarget, index: number): string {
  const text = field(row, target.format, index)
  return target.format === 'TabSeparated' ? unescapeTsv(text) : text
}

/** The project a row belongs to (project ids need no TSV escaping: [A-Za-z0-9_.-]). */
export function rowProject(row: Buffer, target: RowTarget): string {
  return field(row, target.format, target.columns.indexOf('project_id'))
}

/** The day (since the epoch) of a row's partition time (its table's day column). -1 when unreadable. */
function rowDay(row: Buffer, target: RowTarget, dayIndex: number): number {
  const seconds = Number.parseInt(field(row, target.format, dayIndex), 10)
  return Number.isFinite(seconds) ? Math.floor(seconds / 86_400) : -1
}

/**
 * Rows grouped so that no group spans more than `maxDays` partitions, in a
 * deterministic order (by day), so a replay after a crash forms the same groups
 * and their deduplication tokens make the groups inserted before it no-ops.
 */
export function groupByDays(rows: readonly Buffer[], target: RowTarget, maxDays: number): Buffer[][] {
  const table = spoolTableNamed(target.table)
  const dayIndex = table ? target.columns.indexOf(table.dayColumn) : -1
  const byDay = new Map<number, Buffer[]>()
  for (const row of rows) {
    const day = rowDay(row, target, dayIndex)
    let list = byDay.get(day)
    if (!list) byDay.set(day, (list = []))
    list.push(row)
  }
  const days = [...byDay.keys()].sort((a, b) => a - b)
  const groups: Buffer[][] = []
  for (let i = 0; i < days.length; i += maxDays) {
    groups.push(days.slice(i, i + maxDays).flatMap((d) => byDay.get(d) as Buffer[]))
  }
  return groups
}
