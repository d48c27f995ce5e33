import type { ComponentChildren } from 'preact'
import { useState } from 'preact/hooks'
import { Link } from '../router'

export interface ChartTableData {
  /** the first column's header (time, bin, group) */
  key: string
  rows: string[]
  columns: Array<{ label: string; values: string[] }>
  /** columns of links: where each row's data comes from (its traces) */
  links?: Array<{ label: string; hrefs: Array<string | null> }>
}

/** A chart's numbers as a table: the text alternative a canvas or SVG chart lacks. */
function ChartTable({ title, data }: { title: string; data: ChartTableData }) {
  return (
    <div class="table-scroll chart-table">
      <table class="grid compact">
        <caption class="visually-hidden">{title}</caption>
        <thead>
          <tr>
            <th scope="col">{data.key}</th>
            {data.columns.map((c) => (
              <th key={c.label} scope="col" class="num">
                {c.label}
              </th>
            ))}
            {data.links?.map((l) => (
              <th key={l.label} scope="col">
                {l.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {data.rows.map((r, i) => (
            <tr key={`${i}-${r}`}>
              <th scope="row">{r}</th>
              {data.columns.map((c) => (
                <td key={c.label} class="num">
                  {c.values[i]}
                </td>
              ))}
              {data.links?.map((l) => (
                <td key={l.label}>{l.hrefs[i] && <Link href={l.hrefs[i]!}>traces</Link>}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

/** A chart's frame: its caption, a button that shows its numbers as a table, and the chart. */
export function ChartFrame({ title, caption, data, className = 'chart', children }: { title: string; caption?: ComponentChildren; data: ChartTableData; className?: string; children: ComponentChildren }) {
  const [table, setTable] = useState(false)
  return (
    <figure class={className} data-chart={title}>
      <figcaption>
        <span class="chart-title">{title}</span>
        {caption}
        <button type="button" class="link-button small table-toggle" aria-pressed={table} onClick={() => setTable(!table)}>
          {table ? 'Show chart' : 'Show as table'}
        </button>
      </figcaption>
      {table && <ChartTable title={title} data={data} />}
      {/* kept mounted: a canvas chart is drawn once, not again on every toggle */}
      <div hidden={table}>{children}</div>
    </figure>
  )
}
