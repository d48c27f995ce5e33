// Small SVG charts drawn by Preact (text is escaped like any other JSX content), each
// with its numbers as a table one click away; a bar with traces behind it opens them
// on a click, and its table row links to them for keyboards.
import { navigate } from '../router'
import { ChartFrame } from './ChartTable'

export interface BarSeries {
  label: string
  values: number[]
  color: string
  /** the traces behind each category's bar */
  hrefs?: Array<string | null>
}

/** Categories on the x axis, one bar per series in each: two distributions side by side. */
export function GroupedBars({ title, categories, series, format = (v) => v.toFixed(2) }: { title: string; categories: string[]; series: BarSeries[]; format?: (v: number) => string }) {
  const W = 640
  const H = 200
  const pad = { l: 48, r: 8, t: 8, b: 56 }
  const max = Math.max(1e-12, ...series.flatMap((s) => s.values))
  const band = (W - pad.l - pad.r) / Math.max(1, categories.length)
  const barW = Math.max(2, (band * 0.8) / Math.max(1, series.length))
  const y = (v: number) => pad.t + (H - pad.t - pad.b) * (1 - v / max)
  const table = {
    key: 'Category',
    rows: categories,
    columns: series.map((s) => ({ label: s.label, values: s.values.map((v) => format(v)) })),
  }
  const links = series.flatMap((s) => (s.hrefs ? [{ label: `${s.label} traces`, hrefs: s.hrefs }] : []))
  return (
    <ChartFrame
      title={title}
      className="chart bars"
      data={links.length ? { ...table, links } : table}
      caption={
        <span class="legend">
          {series.map((s) => (
            <span key={s.label}>
              <i style={{ background: s.color }} /> {s.label}
            </span>
          ))}
        </span>
      }
    >
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${title}; “Show as table” lists the values`}>
        <line x1={pad.l} x2={W - pad.r} y1={H - pad.b} y2={H - pad.b} class="axis" />
        <text x={pad.l - 4} y={pad.t + 8} class="tick" text-anchor="end">
          {format(max)}
        </text>
        <text x={pad.l - 4} y={H - pad.b} class="tick" text-anchor="end">
          0
        </text>
        {categories.map((c, i) => (
          <g key={`${i}-${c}`}>
            {series.map((s, j) => {
              const v = s.values[i] ?? 0
              const href = s.hrefs?.[i]
              return (
                <rect
                  key={s.label}
                  x={pad.l + i * band + band * 0.1 + j * barW}
                  y={y(v)}
                  width={barW - 1}
                  height={H - pad.b - y(v)}
                  fill={s.color}
                  {...(href ? { class: 'linked', onClick: () => navigate(href) } : {})}
                >
                  <title>{`${c} · ${s.label}: ${format(v)}${href ? ' (click: its traces)' : ''}`}</title>
                </rect>
              )
            })}
            <text x={pad.l + i * band + band / 2} y={H - pad.b + 12} class="tick" text-anchor="end" transform={`rotate(-35 ${pad.l + i * band + band / 2} ${H - pad.b + 12})`}>
              {c.length > 18 ? `${c.slice(0, 17)}…` : c}
            </text>
          </g>
        ))}
      </svg>
    </ChartFrame>
  )
}

export interface HBarRow {
  label: string
  value: number | null
  ci?: [number, number] | null
  highlight?: boolean
  /** the traces behind the row */
  href?: string | null
}

/** One horizontal bar per row with optional CI whiskers and a dashed reference line. */
export function HBars({ title, rows, format, reference, max: fixedMax }: { title: string; rows: HBarRow[]; format: (v: number) => string; reference?: { value: number; label: string }; max?: number }) {
  const W = 640
  const rowH = 26
  const pad = { l: 150, r: 70, t: 6, b: 18 }
  const H = pad.t + pad.b + rows.length * rowH
  const max = fixedMax ?? Math.max(1e-12, reference?.value ?? 0, ...rows.flatMap((r) => [r.value ?? 0, r.ci?.[1] ?? 0]))
  const x = (v: number) => pad.l + ((W - pad.l - pad.r) * Math.max(0, v)) / max
  const table = {
    key: 'Group',
    rows: rows.map((r) => r.label),
    columns: [
      { label: 'Value', values: rows.map((r) => (r.value === null ? '–' : format(r.value))) },
      ...(rows.some((r) => r.ci) ? [{ label: '95% CI', values: rows.map((r) => (r.ci ? `${format(r.ci[0])} – ${format(r.ci[1])}` : '–')) }] : []),
    ],
    ...(rows.some((r) => r.href) ? { links: [{ label: 'Traces', hrefs: rows.map((r) => r.href ?? null) }] } : {}),
  }
  return (
    <ChartFrame title={title} className="chart bars" data={table}>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${title}; “Show as table” lists the values`}>
        {rows.map((r, i) => {
          const cy = pad.t + i * rowH + rowH / 2
          return (
            <g key={`${i}-${r.label}`}>
              <text x={pad.l - 6} y={cy + 4} class="tick" text-anchor="end">
                {r.label.length > 22 ? `${r.label.slice(0, 21)}…` : r.label}
              </text>
              {r.value !== null && (
                <rect
                  x={pad.l}
                  y={cy - 8}
                  width={Math.max(1, x(r.value) - pad.l)}
                  height={16}
                  class={`${r.highlight ? 'bar bad' : 'bar'}${r.href ? ' linked' : ''}`}
                  {...(r.href ? { onClick: () => navigate(r.href!) } : {})}
                >
                  {r.href && <title>{`${r.label}: ${format(r.value)} (click: its traces)`}</title>}
                </rect>
              )}
              {r.ci && (
                <g class="whisker">
                  <line x1={x(r.ci[0])} x2={x(r.ci[1])} y1={cy} y2={cy} />
                  <line x1={x(r.ci[0])} x2={x(r.ci[0])} y1={cy - 5} y2={cy + 5} />
                  <line x1={x(r.ci[1])} x2={x(r.ci[1])} y1={cy - 5} y2={cy + 5} />
                </g>
              )}
              <text x={W - pad.r + 4} y={cy + 4} class="tick">
                {r.value === null ? '–' : format(r.value)}
              </text>
            </g>
          )
        })}
        {reference && (
          <g class="reference">
            <line x1={x(reference.value)} x2={x(reference.value)} y1={pad.t} y2={H - pad.b} />
            <text x={x(reference.value)} y={H - 4} text-anchor="middle" class="tick">
              {reference.label}
            </text>
          </g>
        )}
      </svg>
    </ChartFrame>
  )
}
