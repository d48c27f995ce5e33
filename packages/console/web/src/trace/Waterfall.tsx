import { ms } from '../format'
import type { WaterfallRow } from './tree'

const TICKS = [0, 0.25, 0.5, 0.75, 1]

/** The span tree on one time axis: bar offset and width are to scale with the whole trace. */
export function Waterfall({ rows, totalMs, selected, onSelect }: { rows: WaterfallRow[]; totalMs: number; selected: string | null; onSelect: (spanId: string) => void }) {
  const scale = totalMs > 0 ? totalMs : 1
  return (
    <div class="waterfall" role="tree" aria-label="Span waterfall">
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
      {rows.map(({ span, depth, offsetMs }) => (
        <div
          key={span.spanId}
          role="treeitem"
          aria-selected={selected === span.spanId}
          tabIndex={0}
          class={`wf-row${selected === span.spanId ? ' selected' : ''}`}
          data-span-id={span.spanId}
          onClick={() => onSelect(span.spanId)}
          onKeyDown={(e) => (e.key === 'Enter' || e.key === ' ') && (e.preventDefault(), onSelect(span.spanId))}
        >
          <div class="wf-label" style={{ paddingLeft: `${depth * 16 + 4}px` }} title={span.name}>
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
          </div>
          <div class="wf-dur">{ms(span.durationMs)}</div>
        </div>
      ))}
    </div>
  )
}
