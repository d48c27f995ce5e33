import { useState } from 'preact/hooks'
import type { Score, SpanNode } from '../api/types'
import { COST_NOTE, int, ms, time, tokenDetails, usd } from '../format'
import { sessionHref, userHref } from '../links'
import { StatusBadge } from '../pages/Traces'
import { Link } from '../router'
import { ContentView } from './Messages'
import { ScoreEditor } from './ScoreEditor'
import { scoreText } from './score-value'

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

export function SpanDetail({ span, scoreNames, onScoresChanged }: { span: SpanNode; scoreNames: string[]; onScoresChanged: () => void }) {
  const model = span.responseModel && span.responseModel !== span.requestModel ? `${span.requestModel || '?'} → ${span.responseModel}` : span.requestModel || span.responseModel
  const details = tokenDetails(span.tokens)
  const attrs = Object.entries(span.attributes).sort(([a], [b]) => a.localeCompare(b))
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
      {attrs.length > 0 && (
        <details class="attributes">
          <summary>Attributes ({attrs.length})</summary>
          <table class="grid compact">
            <tbody>
              {attrs.map(([k, v]) => (
                <tr key={k}>
                  <td class="mono small">{k}</td>
                  <td class="mono small">{v}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      )}
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
