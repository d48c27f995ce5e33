import { useEffect, useRef } from 'preact/hooks'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'

export interface Series {
  label: string
  values: Array<number | null>
  color: string
}

export const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#db2777', '#65a30d']

/** A line chart over time (x in epoch seconds), sized to its container. */
export function TimeSeriesChart({
  title,
  x,
  series,
  format = (v) => String(v),
  height = 220,
  marker,
  floor,
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
}) {
  const box = useRef<HTMLDivElement>(null)
  useEffect(() => {
    const el = box.current
    if (!el) return
    const data: uPlot.AlignedData = [x, ...series.map((s) => s.values)]
    const drawMarker = (u: uPlot) => {
      if (!marker) return
      const y = u.valToPos(marker.value, 'y', true)
      const ctx = u.ctx
      ctx.save()
      ctx.strokeStyle = '#6b7280'
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
        series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, points: { show: x.length < 60 }, value: (_u: uPlot, v: number | null) => (v === null ? '–' : format(v)) }))],
        axes: [{}, { values: (_u, ticks) => ticks.map((t) => format(t)), size: 70 }],
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
    const ro = new ResizeObserver(() => plot.setSize({ width: Math.max(200, el.clientWidth), height }))
    ro.observe(el)
    return () => {
      ro.disconnect()
      plot.destroy()
    }
  }, [x, series, height, marker?.value, floor])
  return (
    <figure class="chart" data-chart={title}>
      <figcaption>
        {title}
        {marker && <span class="muted"> (dashed: {marker.label})</span>}
      </figcaption>
      <div ref={box} class="chart-canvas" />
    </figure>
  )
}
