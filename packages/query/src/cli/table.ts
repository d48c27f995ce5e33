type Cell = string | number | boolean | null | undefined

/** Renders rows as a plain aligned text table; a column of numbers (and blanks) is right-aligned. */
export function table(headers: string[], rows: Cell[][]): string {
  const cells = rows.map((r) => r.map(cell))
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)))
  const numeric = headers.map((_, i) => rows.some((r) => typeof r[i] === 'number') && rows.every((r) => typeof r[i] === 'number' || r[i] === null || r[i] === undefined))
  const line = (r: string[]) => r.map((c, i) => (numeric[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd()
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n') + '\n'
}

export function cell(v: Cell): string {
  if (v === null || v === undefined) return '-'
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return String(v)
    if (Number.isInteger(v)) return String(v)
    return Math.abs(v) >= 1000 ? v.toFixed(1) : Math.abs(v) < 0.001 && v !== 0 ? v.toExponential(2) : v.toFixed(4)
  }
  return String(v)
}
