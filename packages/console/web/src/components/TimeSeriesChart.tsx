import { useEffect, useRef } from 'preact/hooks'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import { time } from '../format'
import { navigate } from '../router'
import { ChartFrame } from './ChartTable'

export interface Series {
  label: string
  values: Array<number | null>
  color: string
}

export const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#db2777', '#65a30d']

/**
 * A line chart over time (x in epoch seconds), sized to its container, with its numbers
 * as a table one click away. `href(i)`: the traces behind the i-th point; a click on the
 * plot opens those of the point under the cursor.
 */
export function TimeSeriesChart({
  title,
  x,
  series,
  format = (v) => String(v),
  height = 220,
  marker,
  floor,
  href,
}: {
  title: string
  x: number[]
  series: Series[]
  format?: (v: number) => string
  height?: number
  /** a dashed horizontal reference line (an objective, a threshold) */
  marker?: { value: number; label: string }
  /** lowest value the y axis shows; lines below it are clipped (the legend keeps true values) */
  floor?: number
  href?: (i: number) => string | null
}) {
  const box = useRef<HTMLDivElement>(null)
  const hrefRef = useRef(href)
  hrefRef.current = href
  useEffect(() => {
    const el = box.current
    if (!el) return
    const data: uPlot.AlignedData = [x, ...series.map((s) => s.values)]
    const drawMarker = (u: uPlot) => {
      if (!marker) return
      const y = u.valToPos(marker.value, 'y', true)
      const ctx = u.ctx
      ctx.save()
      ctx.strokeStyle = '#4b5563'
      ctx.setLineDash([6, 4])
      ctx.beginPath()
      ctx.moveTo(u.bbox.left, y)
      ctx.lineTo(u.bbox.left + u.bbox.width, y)
      ctx.stroke()
      ctx.restore()
    }
    const plot = new uPlot(
      {
        width: Math.max(200, el.clientWidth),
        height,
        // The legend's time at the cursor, as every other time is written (uPlot's own format names no zone).
        series: [{ value: (_u: uPlot, t: number | null) => (t === null ? '–' : time(new Date(t * 1000).toISOString())) }, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, points: { show: x.length < 60 }, value: (_u: uPlot, v: number | null) => (v === null ? '–' : format(v)) }))],
        axes: [{ stroke: '#374151' }, { values: (_u, ticks) => ticks.map((t) => format(t)), size: 70, stroke: '#374151' }],
        scales: {
          x: { time: true },
          // uPlot's own nice range unless a marker or a floor must shape it
          y: marker === undefined && floor === undefined ? {} : {
            range: (_u, min, max) => {
              const lo = Math.min(min, marker?.value ?? min)
              const hi = Math.max(max, marker?.value ?? max)
              return [floor === undefined ? lo : Math.max(lo, floor), hi === lo ? hi + 1 : hi]
            },
          },
        },
        hooks: { draw: [drawMarker] },
        legend: { live: true },
      },
      data,
      el,
    )
    const onClick = () => {
      const i = plot.cursor.idx
      const to = i === null || i === undefined ? null : hrefRef.current?.(i)
      if (to) navigate(to)
    }
    if (hrefRef.current) {
      plot.over.addEventListener('click', onClick)
      plot.over.style.cursor = 'pointer'
      plot.over.title = 'Click a point to open its traces'
    }
    const ro = new ResizeObserver(() => plot.setSize({ width: Math.max(200, el.clientWidth), height }))
    ro.observe(el)
    return () => {
      ro.disconnect()
      plot.over.removeEventListener('click', onClick)
      plot.destroy()
    }
  }, [x, series, height, marker?.value, floor])
  const data = {
    key: 'Time',
    rows: x.map((t) => time(new Date(t * 1000).toISOString())),
    columns: series.map((s) => ({ label: s.label, values: s.values.map((v) => (v === null ? '–' : format(v))) })),
    ...(href ? { links: [{ label: 'Traces', hrefs: x.map((_, i) => href(i)) }] } : {}),
  }
  return (
    <ChartFrame title={title} data={data} caption={marker && <span class="muted"> (dashed: {marker.label})</span>}>
      <div ref={box} class="chart-canvas" role="img" aria-label={`${title}: line chart over time of ${series.map((s) => s.label).join(', ')}; “Show as table” lists the values`} />
    </ChartFrame>
  )
}
