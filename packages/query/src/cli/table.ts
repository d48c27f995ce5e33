import { decimal } from '../format.js'

/** A figure already written out (money, a duration, a count): aligned right like a number. */
export interface Figure {
  figure: string
}
type Cell = string | number | boolean | null | undefined | Figure

export const figure = (text: string): Figure => ({ figure: text })

const isFigure = (v: Cell): v is Figure => typeof v === 'object' && v !== null

/** Renders rows as a plain aligned text table; a column of numbers and figures (and blanks) is right-aligned. */
export function table(headers: string[], rows: Cell[][]): string {
  const cells = rows.map((r) => r.map(cell))
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)))
  const numeric = headers.map(
    (_, i) =>
      rows.some((r) => typeof r[i] === 'number' || isFigure(r[i])) &&
      rows.every((r) => typeof r[i] === 'number' || isFigure(r[i]) || r[i] === null || r[i] === undefined),
  )
  const line = (r: string[]) => r.map((c, i) => (numeric[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd()
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n') + '\n'
}

export function cell(v: Cell): string {
  if (v === null || v === undefined) return '-'
  if (isFigure(v)) return v.figure
  if (typeof v === 'number') return decimal(v)
  return String(v)
}
