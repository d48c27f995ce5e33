import { useState } from 'preact/hooks'
import { api } from '../api/client'
import type { LogRecord, Score, SpanNode } from '../api/types'
import { ErrorBox } from '../components/State'
import { COST_NOTE, int, ms, time, tokenDetails, usd } from '../format'
import { useAsync } from '../hooks'
import { sessionHref, traceHref, userHref } from '../links'
import { StatusBadge } from '../pages/Traces'
import { Link } from '../router'
import { ContentView } from './Messages'
import { ScoreEditor } from './ScoreEditor'
import { scoreText } from './score-value'
import { byNanos, eventOffsetMs, msBetween } from './tree'

/** Scores of a trace or span, each editable, and a form to add one. */
export function Scores({ scores, traceId, spanId, names, onChanged }: { scores: Score[]; traceId: string; spanId?: string; names: string[]; onChanged: () => void }) {
  const [editing, setEditing] = useState<string | null>(null)
  const [adding, setAdding] = useState(false)
  const target = spanId ? 'span' : 'trace'
  return (
    <div class="scores-block" data-scores={spanId ?? 'trace'}>
      {scores.length === 0 ? (
        <p class="muted small">No scores on this {target}.</p>
      ) : (
        <div class="table-scroll">
          <table class="grid compact scores">
            <thead>
              <tr>
                <th>Score</th>
                <th>Value</th>
                <th>Source</th>
                <th>Comment</th>
                <th>
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {scores.map((s) =>
                editing === s.id ? (
                  <tr key={s.id}>
                    <td colSpan={5}>
                      <ScoreEditor traceId={traceId} {...(spanId ? { spanId } : {})} editing={s} names={names} onSaved={() => (setEditing(null), onChanged())} onCancel={() => setEditing(null)} />
                    </td>
                  </tr>
                ) : (
                  <tr key={s.id}>
                    <td>{s.name}</td>
                    <td class="mono">{scoreText(s)}</td>
                    <td>{s.source}</td>
                    <td>{s.comment}</td>
                    <td>
                      <button type="button" class="link-button small" onClick={() => setEditing(s.id)} aria-label={`Edit score ${s.name}`}>
                        Edit
                      </button>
                    </td>
                  </tr>
                ),
              )}
            </tbody>
          </table>
        </div>
      )}
      {adding ? (
        <ScoreEditor traceId={traceId} {...(spanId ? { spanId } : {})} names={names} onSaved={() => (setAdding(false), onChanged())} onCancel={() => setAdding(false)} />
      ) : (
        <button type="button" class="secondary small" onClick={() => setAdding(true)}>
          Add a score to this {target}
        </button>
      )}
    </div>
  )
}

function Field({ label, children }: { label: string; children: preact.ComponentChildren }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </>
  )
}

/** Attributes as a two-column table, sorted by key; nothing when there are none. */
function AttributeTable({ attributes }: { attributes: Record<string, string> }) {
  const rows = Object.entries(attributes).sort(([a], [b]) => a.localeCompare(b))
  if (rows.length === 0) return null
  return (
    <table class="grid compact">
      <tbody>
        {rows.map(([k, v]) => (
          <tr key={k}>
            <td class="mono small">{k}</td>
            <td class="mono small">{v}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

/** A collapsed section of attributes, titled with their count; nothing when there are none. */
function Attributes({ title, attributes, kind }: { title: string; attributes: Record<string, string>; kind: string }) {
  const n = Object.keys(attributes).length
  if (n === 0) return null
  return (
    <details class="attributes" data-attributes={kind}>
      <summary>
        {title} ({n})
      </summary>
      <AttributeTable attributes={attributes} />
    </details>
  )
}

/**
 * The span's events in time order. An exception (the event OpenTelemetry's recordException
 * writes) shows its type and message, and its stack trace as sent.
 */
function Events({ span }: { span: SpanNode }) {
  if (span.events.length === 0) return null
  const events = [...span.events].sort((a, b) => byNanos(a.timeUnixNano, b.timeUnixNano))
  return (
    <div class="span-events">
      <h4>Events ({events.length})</h4>
      <ol class="events">
        {events.map((e, i) => {
          const exception = e.name === 'exception'
          const stack = exception ? e.attributes['exception.stacktrace'] : undefined
          // The stack trace is shown as a block of its own, not again in the table.
          const rest = stack === undefined ? e.attributes : Object.fromEntries(Object.entries(e.attributes).filter(([k]) => k !== 'exception.stacktrace'))
          const headline = exception ? [e.attributes['exception.type'], e.attributes['exception.message']].filter(Boolean).join(': ') : ''
          return (
            <li key={i} class={exception ? 'event exception' : 'event'} data-event={e.name}>
              <span class="mono small muted" title={time(e.time)}>
                +{ms(eventOffsetMs(span, e))}
              </span>{' '}
              <strong>{e.name || '(no name)'}</strong>
              {headline && <div class="event-headline">{headline}</div>}
              {stack && <pre class="stacktrace">{stack}</pre>}
              <AttributeTable attributes={rest} />
            </li>
          )
        })}
      </ol>
    </div>
  )
}

/** The most log records a span's detail shows; the API gives up to 10,000 (docs/api.md#logs). */
const SHOWN_LOGS = 100

/** OTLP severity numbers by range (1–4 TRACE … 21–24 FATAL), for a record that sent no severity text. */
const SEVERITIES = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL']
const severityOf = (r: LogRecord): string => r.severityText || (r.severityNumber > 0 ? (SEVERITIES[Math.min(5, Math.floor((r.severityNumber - 1) / 4))] as string) : '')

/**
 * OTLP log records of a trace (a logger bridged to OpenTelemetry, GenAI events sent as logs),
 * oldest first, read when shown: one span's (`spanId`), or those that name no span; nothing when
 * there are none. Offsets are from `startNs` (the span's start, or the trace's).
 */
export function TraceLogs({ traceId, spanId, startNs, title, card = false }: { traceId: string; spanId?: string; startNs: string; title: string; card?: boolean }) {
  const logs = useAsync(
    () => api.get<{ items: LogRecord[]; truncated: boolean }>(`/traces/${encodeURIComponent(traceId)}/logs`, { ...(spanId ? { spanId } : { withoutSpan: 1 }), limit: SHOWN_LOGS }),
    [traceId, spanId],
  )
  if (logs.state === 'loading') return null
  if (logs.state === 'error') return <ErrorBox error={logs.error} />
  const { items, truncated } = logs.value
  if (items.length === 0) return null
  return (
    <div class={card ? 'span-logs card' : 'span-logs'} data-logs={spanId ?? 'trace'}>
      <h4>
        {title} ({items.length}
        {truncated ? '+' : ''})
      </h4>
      <ol class="events">
        {items.map((r, i) => {
          const severity = severityOf(r)
          return (
            <li key={i} class={r.severityNumber >= 17 ? 'event exception' : 'event'} data-log={i}>
              <span class="mono small muted" title={time(r.timestamp)}>
                +{ms(msBetween(startNs, r.timeUnixNano))}
              </span>{' '}
              {severity && <span class="kind">{severity}</span>} {r.eventName && <strong>{r.eventName}</strong>}
              {r.body && <pre class="mono log-body">{r.body}</pre>}
              <AttributeTable attributes={r.attributes} />
            </li>
          )
        })}
      </ol>
      {truncated && <p class="muted small">The first {SHOWN_LOGS} records are shown; the API gives the rest.</p>}
    </div>
  )
}

/** The spans this one links to (a batch's messages, a retried call), each opening its trace. */
function Links({ span }: { span: SpanNode }) {
  if (span.links.length === 0) return null
  return (
    <div class="span-links">
      <h4>Links ({span.links.length})</h4>
      <ul class="links">
        {span.links.map((l, i) => (
          <li key={i} data-link={l.spanId}>
            <Link href={traceHref(l.traceId, l.spanId)}>
              <span class="mono small">
                {l.traceId} / {l.spanId}
              </span>
            </Link>
            <AttributeTable attributes={l.attributes} />
          </li>
        ))}
      </ul>
    </div>
  )
}

export function SpanDetail({ span, resource, scoreNames, onScoresChanged }: { span: SpanNode; resource: Record<string, string>; scoreNames: string[]; onScoresChanged: () => void }) {
  const model = span.responseModel && span.responseModel !== span.requestModel ? `${span.requestModel || '?'} → ${span.responseModel}` : span.requestModel || span.responseModel
  const details = tokenDetails(span.tokens)
  const scope = [span.scope.name, span.scope.version].filter(Boolean).join(' ')
  return (
    <div class="span-detail card" data-span-detail={span.spanId}>
      <h3>
        {span.name} <StatusBadge status={span.status} />
      </h3>
      <dl class="fields">
        <Field label="Kind">{span.kind}</Field>
        <Field label="Service">{span.service}</Field>
        {model && <Field label="Model">{model}</Field>}
        {span.provider && <Field label="Provider">{span.provider}</Field>}
        {span.operation && <Field label="Operation">{span.operation}</Field>}
        <Field label="Duration">{ms(span.durationMs)}</Field>
        <Field label="TTFT">{ms(span.ttftMs)}</Field>
        <Field label="Tokens">
          {int(span.tokens.input)} in · {int(span.tokens.output)} out · {int(span.tokens.total)} total
          {details && ` · ${details}`}
        </Field>
        <Field label="Cost">{costOf(span)}</Field>
        {span.finishReason && <Field label="Finish reason">{span.finishReason}</Field>}
        {(span.statusMessage || span.errorType) && <Field label="Error">{[span.errorType, span.statusMessage].filter(Boolean).join(': ')}</Field>}
        <Field label="Start">{time(span.startTime)}</Field>
        {span.userId && (
          <Field label="User">
            <Link href={userHref(span.userId)}>{span.userId}</Link>
          </Field>
        )}
        {span.sessionId && (
          <Field label="Session">
            <Link href={sessionHref(span.sessionId)}>{span.sessionId}</Link>
          </Field>
        )}
        {span.environment && <Field label="Environment">{span.environment}</Field>}
        {span.release && <Field label="Release">{span.release}</Field>}
        {scope && (
          <Field label="Scope">
            <span class="mono">{scope}</span>
          </Field>
        )}
        <Field label="Span id">
          <span class="mono">{span.spanId}</span>
        </Field>
      </dl>
      <h4>Scores</h4>
      <Scores scores={span.scores} traceId={span.traceId} spanId={span.spanId} names={scoreNames} onChanged={onScoresChanged} />
      <div class="io">
        <ContentView title="Input" raw={span.input} />
        <ContentView title="Output" raw={span.output} />
      </div>
      <Events span={span} />
      <TraceLogs traceId={span.traceId} spanId={span.spanId} startNs={span.startTimeUnixNano} title="Logs" />
      <Links span={span} />
      <Attributes title="Attributes" attributes={span.attributes} kind="span" />
      <Attributes title="Resource" attributes={resource} kind="resource" />
      <Attributes title="Scope attributes" attributes={span.scope.attributes} kind="scope" />
    </div>
  )
}

/** A span's cost, or why it has none: a failed call reports no usage; a model may have no price. */
function costOf(span: SpanNode) {
  if (span.costUsd !== null) return usd(span.costUsd)
  if (span.kind !== 'llm' && span.kind !== 'embedding') return '–'
  const why = span.status === 'error' && span.tokens.total === 0 ? 'none: the call failed and reported no usage' : `unknown: no price for ${span.responseModel || span.requestModel || 'this model'}`
  return <span title={COST_NOTE}>{why}</span>
}
