// Display formatting only; values stay numbers everywhere else.

export function ms(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–'
  if (v < 1) return `${v.toFixed(2)} ms`
  if (v < 1000) return `${Math.round(v)} ms`
  if (v < 60_000) return `${(v / 1000).toFixed(v < 10_000 ? 2 : 1)} s`
  return `${(v / 60_000).toFixed(1)} min`
}

export function usd(v: number | null | undefined, incomplete = false): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–'
  const s = v === 0 ? '$0' : v < 0.01 ? `$${v.toPrecision(2)}` : `$${v.toFixed(v < 100 ? 4 : 2)}`
  return incomplete ? `${s}+` : s
}

export function int(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–'
  return Math.round(v).toLocaleString('en-US')
}

export function pct(v: number | null | undefined, digits = 2): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–'
  return `${(v * 100).toFixed(digits)}%`
}

export function num(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–'
  if (v !== 0 && Math.abs(v) < 10 ** -digits) return v.toExponential(2)
  return Number(v.toFixed(digits)).toString()
}

export function pValue(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–'
  return v < 0.0001 ? '< 0.0001' : v.toFixed(4)
}

export function time(iso: string): string {
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  return d.toLocaleString('en-GB', { year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
}

export function shortId(id: string): string {
  return id.length > 12 ? `${id.slice(0, 8)}…` : id
}
