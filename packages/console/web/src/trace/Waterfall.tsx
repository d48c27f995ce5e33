import { useRef } from 'preact/hooks'
import { ms } from '../format'
import { eventOffsetMs, type WaterfallRow } from './tree'

const TICKS = [0, 0.25, 0.5, 0.75, 1]

/** Levels indented; deeper spans say their depth instead (a loop can nest thousands, which would push the name out of its column). */
const MAX_INDENT = 24

/** The row a key moves to in the tree of rows (depth-first order), or undefined. */
function target(rows: WaterfallRow[], i: number, key: string): number | undefined {
  const depth = rows[i]?.depth ?? 0
  switch (key) {
    case 'ArrowDown':
      return i + 1 < rows.length ? i + 1 : undefined
    case 'ArrowUp':
      return i > 0 ? i - 1 : undefined
    case 'Home':
      return 0
    case 'End':
      return rows.length - 1
    case 'ArrowRight':
      // the first child: the next row when it is one level deeper
      return rows[i + 1] && rows[i + 1]!.depth > depth ? i + 1 : undefined
    case 'ArrowLeft': {
      for (let j = i - 1; j >= 0; j--) if (rows[j]!.depth < depth) return j
      return undefined
    }
  }
  return undefined
}

/**
 * The span tree on one time axis: bar offset and width are to scale with the whole trace.
 * A WAI-ARIA tree: one tab stop (the selected span); arrows, Home and End move the selection.
 */
export function Waterfall({ rows, totalMs, selected, onSelect }: { rows: WaterfallRow[]; totalMs: number; selected: string | null; onSelect: (spanId: string) => void }) {
  const scale = totalMs > 0 ? totalMs : 1
  const box = useRef<HTMLDivElement>(null)
  const onKey = (e: KeyboardEvent, i: number) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault()
      onSelect(rows[i]!.span.spanId)
      return
    }
    const to = target(rows, i, e.key)
    if (to === undefined) return
    e.preventDefault()
    // Focus moves at once (the rows stay the same), so the next key starts from there.
    const id = rows[to]!.span.spanId
    box.current?.querySelector<HTMLElement>(`[data-span-id="${CSS.escape(id)}"]`)?.focus()
    onSelect(id)
  }
  const hasChildren = (i: number) => (rows[i + 1]?.depth ?? -1) > rows[i]!.depth
  return (
    <div class="waterfall" role="tree" aria-label="Span waterfall: arrow keys move between spans" ref={box}>
      <div class="wf-row wf-axis" aria-hidden="true">
        <div class="wf-label">Span</div>
        <div class="wf-track">
          {TICKS.map((t) => (
            <span key={t} class="wf-tick" style={{ left: `${t * 100}%` }}>
              {ms(t * totalMs)}
            </span>
          ))}
        </div>
        <div class="wf-dur">Duration</div>
      </div>
      {rows.map(({ span, depth, offsetMs }, i) => (
        <div
          key={span.spanId}
          role="treeitem"
          aria-level={depth + 1}
          aria-selected={selected === span.spanId}
          {...(hasChildren(i) ? { 'aria-expanded': true } : {})}
          tabIndex={selected === span.spanId || (selected === null && i === 0) ? 0 : -1}
          class={`wf-row${selected === span.spanId ? ' selected' : ''}`}
          data-span-id={span.spanId}
          onClick={() => onSelect(span.spanId)}
          onKeyDown={(e) => onKey(e, i)}
        >
          <div class="wf-label" style={{ paddingLeft: `${Math.min(depth, MAX_INDENT) * 16 + 4}px` }} title={span.name}>
            {depth > MAX_INDENT && <span class="wf-depth" title={`nested ${depth} levels deep`}>↳{depth} </span>}
            <span class={`kind kind-${span.kind}`}>{span.kind || 'span'}</span> {span.name}
          </div>
          <div class="wf-track">
            <div
              class={`wf-bar kind-${span.kind}${span.status === 'error' ? ' error' : ''}`}
              style={{ left: `${(offsetMs / scale) * 100}%`, width: `${Math.max(0.3, (span.durationMs / scale) * 100)}%` }}
              title={`${span.name}: starts at +${ms(offsetMs)}, lasts ${ms(span.durationMs)}`}
            >
              {span.ttftMs !== null && span.durationMs > 0 && <div class="wf-ttft" style={{ width: `${Math.min(100, (span.ttftMs / span.durationMs) * 100)}%` }} title={`time to first token ${ms(span.ttftMs)}`} />}
            </div>
            {/* Each event a mark at its time on the trace's axis (an exception in red); the span's detail lists them. */}
            {span.events.map((e, k) => (
              <div key={k} class={`wf-event${e.name === 'exception' ? ' exception' : ''}`} style={{ left: `${Math.min(100, Math.max(0, ((offsetMs + eventOffsetMs(span, e)) / scale) * 100))}%` }} aria-hidden="true" />
            ))}
          </div>
          <div class="wf-dur">{ms(span.durationMs)}</div>
        </div>
      ))}
    </div>
  )
}
