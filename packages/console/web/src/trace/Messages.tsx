import { useState } from 'preact/hooks'
import { int } from '../format'
import { parseContent, tryJson, type Message, type Part } from './content'

const FOLD_CHARS = 700
const FOLD_LINES = 14

/** Long text shows its head and a button; everything is text nodes, never HTML. */
function Folded({ text, mono = false }: { text: string; mono?: boolean }) {
  const [open, setOpen] = useState(false)
  const lines = text.split('\n')
  const long = text.length > FOLD_CHARS || lines.length > FOLD_LINES
  const shown = !long || open ? text : lines.slice(0, FOLD_LINES).join('\n').slice(0, FOLD_CHARS)
  return (
    <div class="folded">
      <pre class={mono ? 'mono' : 'prose'}>
        {shown}
        {long && !open && '…'}
      </pre>
      {long && (
        <button type="button" class="link-button small" onClick={() => setOpen(!open)}>
          {open ? 'Show less' : `Show all (${int(text.length)} characters)`}
        </button>
      )}
    </div>
  )
}

function JsonView({ value }: { value: unknown }) {
  return <Folded text={JSON.stringify(value, null, 2) ?? String(value)} mono />
}

/** Text that is itself JSON is pretty-printed. */
function TextOrJson({ text }: { text: string }) {
  const json = tryJson(text)
  return json === undefined ? <Folded text={text} /> : <JsonView value={json} />
}

function PartView({ part }: { part: Part }) {
  switch (part.kind) {
    case 'text':
      return <TextOrJson text={part.text} />
    case 'tool_call':
      return (
        <div class="tool-call">
          <div class="tool-head">
            <span class="badge tool">tool call</span> <strong>{part.name || '(unnamed)'}</strong>
            {part.id && <span class="muted mono small"> {part.id}</span>}
          </div>
          {typeof part.args === 'string' ? <Folded text={part.args} mono /> : <JsonView value={part.args} />}
        </div>
      )
    case 'tool_result':
      return (
        <div class="tool-call">
          <div class="tool-head">
            <span class="badge tool">tool result</span>
            {part.id && <span class="muted mono small"> {part.id}</span>}
          </div>
          {typeof part.result === 'string' ? <TextOrJson text={part.result} /> : <JsonView value={part.result} />}
        </div>
      )
    case 'json':
      return <JsonView value={part.value} />
  }
}

export function MessageView({ message }: { message: Message }) {
  return (
    <div class={`message role-${message.role.replace(/[^a-z]/gi, '')}`}>
      <div class="role">
        {message.role}
        {message.finishReason && <span class="muted small"> · finish: {message.finishReason}</span>}
      </div>
      {message.parts.map((p, i) => (
        <PartView key={i} part={p} />
      ))}
    </div>
  )
}

export function ContentView({ title, raw }: { title: string; raw: string | undefined }) {
  const content = parseContent(raw)
  return (
    <div class="content-view" data-content={title.toLowerCase()}>
      <h4>{title}</h4>
      {content.kind === 'empty' && <p class="muted small">none recorded</p>}
      {content.kind === 'text' && <Folded text={content.text} />}
      {content.kind === 'json' && <JsonView value={content.value} />}
      {content.kind === 'messages' && content.messages.map((m, i) => <MessageView key={i} message={m} />)}
    </div>
  )
}
