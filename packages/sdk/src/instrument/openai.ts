import type { Attributes } from '@opentelemetry/api'
import { ATTR, REQUEST_PARAMS } from '../attributes.js'
import { arr, copyData, isObj, num, openaiChatInput, openaiChatOutput, responsesInput, responsesOutput, str, type Obj } from '../content.js'
import { setIf, type LlmCall } from './llm-span.js'
import { throughWrappedClient, wrapClient } from './proxy.js'
import { spanName, traced, type Operation, type StreamAccumulator } from './traced.js'

const PROVIDER = 'openai'

const CHAT: Operation = { provider: PROVIDER, describe: describeChat, keep: keepChat, record: recordChat, stream: chatStream }
const RESPONSES: Operation = { provider: PROVIDER, describe: describeResponses, keep: keepResponse, record: recordResponse, stream: responsesStream }
const EMBEDDINGS: Operation = { provider: PROVIDER, describe: describeEmbeddings, keep: keepEmbeddings, record: recordEmbeddings }

/**
 * Returns the same client, traced: chat.completions.create (plain and
 * streaming) and its helpers, responses.create (plain and streaming) and its
 * helpers, and embeddings.create become `llm`/`embedding` spans. Results, streams and errors are the client's
 * own, unchanged. Before init() (or after shutdown()) calls pass straight through.
 */
export function wrapOpenAI<T extends object>(client: T): T {
  return wrapClient(
    client,
    {
      'chat.completions.create': traced(CHAT),
      'responses.create': traced(RESPONSES),
      'embeddings.create': traced(EMBEDDINGS),
      ...Object.fromEntries(HELPERS.map((path) => [path, throughWrappedClient])),
    },
    'wrapOpenAI',
  )
}

/**
 * The client's helpers, which send their requests through chat.completions.create or
 * responses.create: openai ≥ 5 has the chat ones under chat.completions, openai 4 under
 * beta.chat.completions (runFunctions too, later removed).
 */
const HELPERS = [
  ...['parse', 'stream', 'runTools'].map((m) => `chat.completions.${m}`),
  ...['parse', 'stream', 'runTools', 'runFunctions'].map((m) => `beta.chat.completions.${m}`),
  'responses.parse',
  'responses.stream',
]

// ------------------------------------------------------------------ chat

function requestAttributes(operation: string, params: Obj): Attributes {
  const attrs: Attributes = { [ATTR.operation]: operation }
  setIf(attrs, ATTR.requestModel, params.model)
  setIf(attrs, REQUEST_PARAMS.temperature, params.temperature)
  setIf(attrs, REQUEST_PARAMS.topP, params.top_p)
  setIf(attrs, REQUEST_PARAMS.maxTokens, params.max_completion_tokens ?? params.max_tokens ?? params.max_output_tokens)
  setIf(attrs, REQUEST_PARAMS.frequencyPenalty, params.frequency_penalty)
  setIf(attrs, REQUEST_PARAMS.presencePenalty, params.presence_penalty)
  setIf(attrs, REQUEST_PARAMS.seed, params.seed)
  setIf(attrs, REQUEST_PARAMS.stopSequences, typeof params.stop === 'string' ? [params.stop] : params.stop)
  if (typeof params.n === 'number' && params.n !== 1) attrs[REQUEST_PARAMS.choiceCount] = params.n
  if (params.stream === true) attrs[ATTR.streaming] = true
  const format = isObj(params.response_format) ? params.response_format.type : isObj(params.text) && isObj(params.text.format) ? params.text.format.type : undefined
  if (format === 'json_object' || format === 'json_schema') attrs[ATTR.outputType] = 'json'
  return attrs
}

function describeChat(call: LlmCall, params: Obj): void {
  call.begin(spanName('chat', params.model), 'llm', requestAttributes('chat', params))
  call.messages(ATTR.inputMessages, openaiChatInput(params.messages))
  if (Array.isArray(params.tools) && params.tools.length) call.content(ATTR.toolDefinitions, params.tools)
}

function keepChat(v: Obj): Obj {
  const choices = arr(v.choices)
  const kept = new Array<unknown>(choices.length)
  for (let i = 0; i < choices.length; i++) {
    const c = choices[i]
    // message → tool_calls → call → function; logprobs (large, unread) stay behind.
    kept[i] = isObj(c) ? { finish_reason: c.finish_reason, message: copyData(c.message, 4) } : c
  }
  return { id: v.id, model: v.model, usage: copyData(v.usage, 2), choices: kept }
}

/** `cut`: a streamed completion whose text was cut as it streamed. */
function recordChat(call: LlmCall, v: Obj, cut = false): void {
  call.setIf(ATTR.responseModel, v.model)
  call.setIf(ATTR.responseId, v.id)
  call.setIf(ATTR.finishReasons, finishReasons(v.choices))
  if (isObj(v.usage)) {
    const u = v.usage
    call.setIf(ATTR.inputTokens, num(u.prompt_tokens) ?? num(u.input_tokens))
    call.setIf(ATTR.outputTokens, num(u.completion_tokens) ?? num(u.output_tokens))
    const inDetails = isObj(u.prompt_tokens_details) ? u.prompt_tokens_details : isObj(u.input_tokens_details) ? u.input_tokens_details : undefined
    const outDetails = isObj(u.completion_tokens_details) ? u.completion_tokens_details : isObj(u.output_tokens_details) ? u.output_tokens_details : undefined
    call.setIf(ATTR.cacheRead, inDetails?.cached_tokens)
    call.setIf(ATTR.reasoning, outDetails?.reasoning_tokens)
  }
  call.messages(ATTR.outputMessages, openaiChatOutput(v.choices), cut)
}

/** Each choice's finish_reason that is a string, in order (a loop: a filter/map/filter chain made three arrays). */
function finishReasons(choices: unknown): string[] {
  const out: string[] = []
  if (!Array.isArray(choices)) return out
  for (const c of choices) if (isObj(c) && typeof c.finish_reason === 'string') out.push(c.finish_reason)
  return out
}

/** Rebuilds a ChatCompletion from chunks: text, tool-call fragments (as far as `text` keeps), and the include_usage final chunk. */
function chatStream(call: LlmCall): StreamAccumulator {
  const text = call.streamText()
  let id: unknown
  let model: unknown
  let usage: unknown
  const choices = new Map<number, { content: string; refusal: string; role: string; finish?: string; tools: Map<number, { id?: string; name?: string; args: string }> }>()
  return {
    chunk(c) {
      id ??= c.id
      model ??= c.model
      // Copied as it arrives, as keepChat does for a whole reply: recording runs after the stream, and the consumer has the chunk by then.
      if (isObj(c.usage)) usage = copyData(c.usage, 2)
      const list = c.choices
      if (!Array.isArray(list)) return
      for (let k = 0; k < list.length; k++) {
        const ch: unknown = list[k]
        if (!isObj(ch)) continue
        call.markFirstChunk()
        const index = num(ch.index) ?? 0
        let acc = choices.get(index)
        if (!acc) choices.set(index, (acc = { content: '', refusal: '', role: 'assistant', tools: new Map() }))
        if (typeof ch.finish_reason === 'string') acc.finish = ch.finish_reason
        const d = ch.delta
        if (!isObj(d)) continue
        if (typeof d.content === 'string') acc.content = text.append(acc.content, d.content)
        // Most chunks carry text only: the rest is looked at when present.
        if (d.role !== undefined && typeof d.role === 'string') acc.role = d.role
        if (typeof d.refusal === 'string') acc.refusal = text.append(acc.refusal, d.refusal)
        if (Array.isArray(d.tool_calls)) {
          for (const tc of d.tool_calls) {
            if (!isObj(tc)) continue
            const ti = num(tc.index) ?? 0
            let tool = acc.tools.get(ti)
            if (!tool) acc.tools.set(ti, (tool = { args: '' }))
            if (typeof tc.id === 'string') tool.id = tc.id
            const fn = isObj(tc.function) ? tc.function : {}
            if (typeof fn.name === 'string') tool.name = fn.name
            if (typeof fn.arguments === 'string') tool.args = text.append(tool.args, fn.arguments)
          }
        }
      }
    },
    finish() {
      const built = [...choices.entries()].sort((a, b) => a[0] - b[0]).map(([index, a]) => ({
        index,
        finish_reason: a.finish,
        message: {
          role: a.role,
          content: a.content || (a.tools.size ? null : a.content),
          refusal: a.refusal || undefined,
          tool_calls: a.tools.size
            ? [...a.tools.values()].map((t) => ({ id: t.id, type: 'function', function: { name: t.name, arguments: t.args } }))
            : undefined,
        },
      }))
      recordChat(call, { id, model, usage, choices: built }, text.cut > 0)
    },
  }
}

// ------------------------------------------------------------- responses

function describeResponses(call: LlmCall, params: Obj): void {
  call.begin(spanName('chat', params.model), 'llm', requestAttributes('chat', params))
  if (typeof params.instructions === 'string') call.messages(ATTR.systemInstructions, [{ type: 'text', content: params.instructions }])
  call.messages(ATTR.inputMessages, responsesInput(params.input))
  if (Array.isArray(params.tools) && params.tools.length) call.content(ATTR.toolDefinitions, params.tools)
}

function keepResponse(v: Obj): Obj {
  // output → item → content/summary → part → annotations
  return { id: v.id, model: v.model, status: v.status, incomplete_details: copyData(v.incomplete_details, 1), usage: copyData(v.usage, 2), output: copyData(v.output, 4) }
}

/** `cut`: a streamed response whose text was cut as it streamed. */
function recordResponse(call: LlmCall, v: Obj, cut = false): void {
  const attrs: Attributes = {}
  setIf(attrs, ATTR.responseModel, v.model)
  setIf(attrs, ATTR.responseId, v.id)
  const incomplete = isObj(v.incomplete_details) ? str(v.incomplete_details.reason) : undefined
  const hasToolCall = arr(v.output).some((o) => isObj(o) && o.type === 'function_call')
  const reason = incomplete ?? (hasToolCall ? 'tool_calls' : str(v.status) === 'completed' ? 'stop' : str(v.status))
  if (reason) attrs[ATTR.finishReasons] = [reason]
  if (isObj(v.usage)) {
    const u = v.usage
    setIf(attrs, ATTR.inputTokens, u.input_tokens)
    setIf(attrs, ATTR.outputTokens, u.output_tokens)
    if (isObj(u.input_tokens_details)) setIf(attrs, ATTR.cacheRead, u.input_tokens_details.cached_tokens)
    if (isObj(u.output_tokens_details)) setIf(attrs, ATTR.reasoning, u.output_tokens_details.reasoning_tokens)
  }
  call.set(attrs)
  call.messages(ATTR.outputMessages, responsesOutput(v.output, reason), cut)
}

/** Response streams end with response.completed carrying the full Response; deltas only time the first token. */
function responsesStream(call: LlmCall): StreamAccumulator {
  let final: Obj | undefined
  const kept = call.streamText()
  let text = ''
  return {
    chunk(e) {
      const type = str(e.type) ?? ''
      if (type.endsWith('.delta')) call.markFirstChunk()
      if (type === 'response.output_text.delta' && typeof e.delta === 'string') text = kept.append(text, e.delta)
      // What recording reads of the Response, copied now (keepResponse): the consumer has the event before recording runs.
      if ((type === 'response.completed' || type === 'response.incomplete' || type === 'response.failed') && isObj(e.response)) final = keepResponse(e.response)
      else if (type === 'response.created' && isObj(e.response) && !final) final = keepResponse(e.response)
    },
    finish() {
      if (final && arr(final.output).length) recordResponse(call, final)
      else recordResponse(call, { ...(final ?? {}), output: [{ type: 'message', content: [{ type: 'output_text', text }] }] }, kept.cut > 0)
    },
  }
}

// ------------------------------------------------------------ embeddings

function describeEmbeddings(call: LlmCall, params: Obj): void {
  const attrs: Attributes = { [ATTR.operation]: 'embeddings' }
  setIf(attrs, ATTR.requestModel, params.model)
  setIf(attrs, REQUEST_PARAMS.encodingFormats, typeof params.encoding_format === 'string' ? [params.encoding_format] : undefined)
  setIf(attrs, 'gen_ai.request.dimensions', params.dimensions)
  call.begin(spanName('embeddings', params.model), 'embedding', attrs)
  call.content(ATTR.inputValue, params.input)
}

/** The vectors are not recorded, only their dimension. */
function keepEmbeddings(v: Obj): Obj {
  const first = arr(v.data).find(isObj)
  return { model: v.model, usage: copyData(v.usage, 1), dimension: first && Array.isArray(first.embedding) ? first.embedding.length : undefined }
}

function recordEmbeddings(call: LlmCall, v: Obj): void {
  const out: Attributes = {}
  setIf(out, ATTR.responseModel, v.model)
  if (isObj(v.usage)) setIf(out, ATTR.inputTokens, v.usage.prompt_tokens)
  setIf(out, ATTR.embeddingsDimension, v.dimension)
  call.set(out)
}
