import { api } from '../api/client'
import type { Session, SessionTurn } from '../api/types'
import { ScoreChips } from '../components/ScoreChips'
import { ErrorBox, Loading } from '../components/State'
import { COST_NOTE, int, ms, time, tokenDetails, usd } from '../format'
import { useAsync } from '../hooks'
import { traceHref, tracesHref, userHref } from '../links'
import { Link } from '../router'
import { parseContent, type Message } from '../trace/content'
import { ContentView, MessageView } from '../trace/Messages'
import { StatusBadge } from './Traces'
import { Stat } from './TracePage'

/**
 * What a turn said: of its input, the last user message (an LLM call's input repeats the
 * whole conversation so far); of its output, every message. Plain text stays as it is.
 */
function said(raw: string, side: 'input' | 'output'): Message[] | null {
  const c = parseContent(raw)
  if (c.kind !== 'messages') return null
  if (side === 'output') return c.messages
  const user = [...c.messages].reverse().find((m) => m.role === 'user')
  return user ? [user] : c.messages.slice(-1)
}

function Said({ raw, side }: { raw: string; side: 'input' | 'output' }) {
  const messages = said(raw, side)
  if (messages === null) return <ContentView title={side === 'input' ? 'Input' : 'Output'} raw={raw} />
  return (
    <div class="content-view" data-content={side}>
      {messages.map((m, i) => (
        <MessageView key={i} message={m} />
      ))}
    </div>
  )
}

function Turn({ t, n }: { t: SessionTurn; n: number }) {
  return (
    <li class="turn card" data-turn={t.traceId}>
      <div class="turn-head">
        <span class="muted small">#{n}</span> <Link href={traceHref(t.traceId)}>{t.name || '(unnamed)'}</Link> <StatusBadge status={t.status} />
        <span class="muted small">
          {' '}
          {time(t.startTime)} · {ms(t.durationMs)} · {int(t.llmCalls)} LLM {t.llmCalls === 1 ? 'call' : 'calls'} · {int(t.tokens.total)} tokens ·{' '}
          <span {...(t.costIncomplete ? { title: COST_NOTE } : {})}>{usd(t.costUsd, t.costIncomplete)}</span>
        </span>
        <ScoreChips scores={t.scores} />
      </div>
      <div class="io">
        <Said raw={t.input} side="input" />
        <Said raw={t.output} side="output" />
      </div>
    </li>
  )
}

/** A session as a conversation: its traces in order, what each was asked and answered, and its totals. */
export function SessionPage({ sessionId }: { sessionId: string }) {
  const session = useAsync(() => api.get<Session>(`/sessions/${encodeURIComponent(sessionId)}`), [sessionId])
  return (
    <section class="session-page">
      <p>
        <Link href={tracesHref({ from: '', sessionId })}>← Traces of this session</Link>
      </p>
      <h1>
        Session <span class="mono">{sessionId}</span>
      </h1>
      {session.state === 'loading' && <Loading what="Loading the session" />}
      {session.state === 'error' && <ErrorBox error={session.error} />}
      {session.state === 'done' && <SessionBody s={session.value} />}
    </section>
  )
}

function SessionBody({ s }: { s: Session }) {
  return (
    <>
      <div class="stats">
        <Stat label="Turns" value={int(s.totals.traces)} />
        <Stat label="Started" value={time(s.startTime)} />
        <Stat label="Lasted" value={ms(Date.parse(s.endTime) - Date.parse(s.startTime))} />
        <Stat label="LLM calls" value={int(s.totals.llmCalls)} />
        <Stat label="Errors" value={int(s.totals.errors)} />
        <Stat label="Tokens" value={int(s.totals.tokens.total)} detail={tokenDetails(s.totals.tokens)} />
        <Stat label="Cost" value={usd(s.totals.costUsd, s.totals.costIncomplete)} />
      </div>
      {s.userIds.length > 0 && (
        <p>
          {s.userIds.length === 1 ? 'User ' : 'Users '}
          {s.userIds.map((u, i) => (
            <span key={u}>
              {i > 0 && ', '}
              <Link href={userHref(u)}>{u}</Link>
            </span>
          ))}
        </p>
      )}
      {s.truncated && (
        <div class="notice">
          This session has {int(s.totals.traces)} traces: the first {int(s.turns.length)} are shown. The figures above count them all.
        </div>
      )}
      <ol class="conversation">
        {s.turns.map((t, i) => (
          <Turn key={t.traceId} t={t} n={i + 1} />
        ))}
      </ol>
    </>
  )
}
