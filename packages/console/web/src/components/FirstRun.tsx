import { useState } from 'preact/hooks'
import { api } from '../api/client'
import type { Summary } from '../api/types'
import { useAsync } from '../hooks'
import { Empty, Loading } from './State'

/** Copies text with the Clipboard API; says so, or says why not (it needs a secure context). */
function CopyButton({ text, label }: { text: string; label: string }) {
  const [done, setDone] = useState<string>()
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text)
      setDone('Copied')
    } catch {
      setDone('Select the text and copy it (the browser refused clipboard access)')
    }
  }
  return (
    <span class="copy">
      <button type="button" class="secondary small" onClick={copy} aria-label={`Copy ${label}`}>
        Copy
      </button>
      {done && (
        <span class="muted small" role="status">
          {' '}
          {done}
        </span>
      )}
    </span>
  )
}

function Snippet({ title, text }: { title: string; text: string }) {
  return (
    <div class="snippet">
      <div class="snippet-head">
        <h3>{title}</h3>
        <CopyButton text={text} label={title} />
      </div>
      {/* focusable: a long line scrolls sideways, and keyboards must reach it */}
      <pre class="mono" tabIndex={0} aria-label={title}>
        {text}
      </pre>
    </div>
  )
}

/** What a project with no spans at all shows: where to send them and how. */
function FirstRun() {
  const origin = location.origin
  const sdk = [
    'npm install @spanlens/sdk',
    '',
    "import OpenAI from 'openai'",
    "import { init, wrapOpenAI } from '@spanlens/sdk'",
    '',
    `init({ endpoint: '${origin}', apiKey: process.env.SPANLENS_API_KEY, serviceName: 'my-app' })`,
    'const openai = wrapOpenAI(new OpenAI())',
  ].join('\n')
  const otlp = [
    '# any OpenTelemetry SDK or Collector (OTLP/HTTP, protobuf or JSON)',
    `OTEL_EXPORTER_OTLP_ENDPOINT=${origin}`,
    'OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer $SPANLENS_API_KEY"',
  ].join('\n')
  const curl = [
    `curl -X POST ${origin}/v1/traces \\`,
    '  -H "Authorization: Bearer $SPANLENS_API_KEY" -H "content-type: application/json" \\',
    `  -d '{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"hello"}}]},"scopeSpans":[{"spans":[{"traceId":"${'0'.repeat(31)}1","spanId":"${'0'.repeat(15)}1","name":"first span","startTimeUnixNano":"'$(date +%s)000000000'","endTimeUnixNano":"'$(date +%s)500000000'","attributes":[{"key":"gen_ai.request.model","value":{"stringValue":"gpt-4o-mini"}}]}]}]}]}'`,
  ].join('\n')
  return (
    <div class="first-run card" data-first-run>
      <h2>This project has no spans yet</h2>
      <p>
        Send OpenTelemetry spans to <code class="endpoint">{origin}/v1/traces</code> (OTLP/HTTP; OTLP/gRPC on the server's gRPC port, 4317 by default) with your
        project's API key as a bearer token. They show up here within a second or two.
      </p>
      <Snippet title="Node.js SDK" text={sdk} />
      <Snippet title="OpenTelemetry environment" text={otlp} />
      <Snippet title="One span with curl" text={curl} />
      <p class="muted small">
        Set <code>SPANLENS_API_KEY</code> to the key you signed in with. The SDK's options and the OTLP details are in docs/sdk.md and docs/ingest.md.
      </p>
    </div>
  )
}

/**
 * An empty answer: the first-run guide when the project has never sent a span,
 * otherwise `what` (the filters or range exclude everything).
 */
export function NoData({ what }: { what: string }) {
  const any = useAsync(() => api.get<Summary>('/summary'), [])
  if (any.state === 'loading') return <Loading what="Checking the project" />
  if (any.state === 'done' && any.value.rows.length === 0) return <FirstRun />
  return <Empty>{what}</Empty>
}
