import type { Attributes } from '@opentelemetry/api'
import { ATTR, REQUEST_PARAMS } from '../attributes.js'
import { anthropicMessages, anthropicParts, anthropicSystem, arr, copyData, isObj, num, parseArgs, str, type Message, type Obj } from '../content.js'
import { setIf, type LlmCall } from './llm-span.js'
import { throughWrappedClient, wrapClient, type MethodHook } from './proxy.js'
import { spanName, traced, type Operation, type StreamAccumulator } from './traced.js'

const MESSAGES: Operation = { provider: 'anthropic', describe: describeMessages, keep: keepMessage, record: recordMessage, stream: messageStream }

/**
 * Returns the same client, traced: messages.create (plain and `stream: true`)
 * and its helpers messages.stream() (the MessageStream helper) and messages.parse(),
 * which go through our create, and the same under `beta.messages`, become `llm` spans;
 * so does each turn of beta.messages.toolRunner() and of a beta.messages.thread().
 */
export function wrapAnthropic<T extends object>(client: T): T {
  return wrapClient(
    client,
    {
      'messages.create': traced(MESSAGES),
      'messages.stream': onProxy,
      'messages.parse': onProxy,
      // Same request and response shapes under the beta namespace.
      'beta.messages.create': traced(MESSAGES),
      'beta.messages.stream': onProxy,
      'beta.messages.parse': onProxy,
      // The tool runner's and message threads' turns, each sent with `client.beta.messages.create`
      // (BetaMessageThread); the runner gets its thread from `_toolRunnerThread`, on the client it was given.
      'beta.messages.toolRunner': throughWrappedClient,
      'beta.messages.thread': throughWrappedClient,
      'beta.messages._toolRunnerThread': throughWrappedClient,
    },
    'wrapAnthropic',
  )
}

/** Called on the proxy so the helper's internal `this.create` is the traced one (stream() and parse() send through it). */
const onProxy: MethodHook = (original, _self, args, receiver) => original.apply(receiver, args)

function describeMessages(call: LlmCall, params: Obj): void {
  const attrs: Attributes = { [ATTR.operation]: 'chat' }
  setIf(attrs, ATTR.requestModel, params.model)
  setIf(attrs, REQUEST_PARAMS.maxTokens, params.max_tokens)
  setIf(attrs, REQUEST_PARAMS.temperature, params.temperature)
  setIf(attrs, REQUEST_PARAMS.topP, params.top_p)
  setIf(attrs, REQUEST_PARAMS.topK, params.top_k)
  setIf(attrs, REQUEST_PARAMS.stopSequences, params.stop_sequences)
  if (params.stream === true) attrs[ATTR.streaming] = true
  call.begin(spanName('chat', params.model), 'llm', attrs)
  call.messages(ATTR.systemInstructions, anthropicSystem(params.system))
  call.messages(ATTR.inputMessages, anthropicMessages(params.messages))
  if (Array.isArray(params.tools) && params.tools.length) call.content(ATTR.toolDefinitions, params.tools)
}

function keepMessage(v: Obj): Obj {
  // content → block → tool input → its fields
  return { id: v.id, model: v.model, role: v.role, stop_reason: v.stop_reason, usage: copyData(v.usage, 1), content: copyData(v.content, 4) }
}

/** `cut`: a streamed message whose text was cut as it streamed. */
function recordMessage(call: LlmCall, v: Obj, cut = false): void {
  const attrs: Attributes = {}
  setIf(attrs, ATTR.responseModel, v.model)
  setIf(attrs, ATTR.responseId, v.id)
  if (typeof v.stop_reason === 'string') attrs[ATTR.finishReasons] = [v.stop_reason]
  if (isObj(v.usage)) {
    const u = v.usage
    const cacheRead = num(u.cache_read_input_tokens) ?? 0
    const cacheWrite = num(u.cache_creation_input_tokens) ?? 0
    // GenAI semconv: input_tokens counts every input token, Anthropic reports cached ones apart.
    const input = num(u.input_tokens)
    if (input !== undefined) attrs[ATTR.inputTokens] = input + cacheRead + cacheWrite
    setIf(attrs, ATTR.outputTokens, u.output_tokens)
    if (cacheRead) attrs[ATTR.cacheRead] = cacheRead
    if (cacheWrite) attrs[ATTR.cacheCreation] = cacheWrite
  }
  call.set(attrs)
  const message: Message = { role: str(v.role) ?? 'assistant', parts: anthropicParts(v.content) }
  if (typeof v.stop_reason === 'string') message.finish_reason = v.stop_reason
  call.messages(ATTR.outputMessages, [message], cut)
}

/** Rebuilds the Message from SSE events: message_start, content_block_*, message_delta; text and tool input as far as `text` keeps. */
function messageStream(call: LlmCall): StreamAccumulator {
  const text = call.streamText()
  let message: Obj = {}
  let usage: Obj = {}
  const blocks: Obj[] = []
  const json = new Map<number, string>()
  return {
    chunk(e) {
      switch (e.type) {
        case 'message_start':
          if (isObj(e.message)) {
            message = { ...e.message }
            // Copied as it arrives: recording runs after the stream, when the consumer may have changed it.
            if (isObj(e.message.usage)) usage = copyData(e.message.usage, 2) as Obj
          }
          break
        case 'content_block_start':
          call.markFirstChunk()
          if (isObj(e.content_block)) blocks[num(e.index) ?? blocks.length] = copyData(e.content_block, 3) as Obj
          break
        case 'content_block_delta': {
          call.markFirstChunk()
          const i = num(e.index) ?? 0
          const d = isObj(e.delta) ? e.delta : {}
          const b = (blocks[i] ??= { type: 'text', text: '' })
          if (d.type === 'text_delta') b.text = text.append(str(b.text) ?? '', str(d.text) ?? '')
          else if (d.type === 'thinking_delta') b.thinking = text.append(str(b.thinking) ?? '', str(d.thinking) ?? '')
          else if (d.type === 'input_json_delta') json.set(i, text.append(json.get(i) ?? '', str(d.partial_json) ?? ''))
          break
        }
        case 'message_delta':
          if (isObj(e.delta) && typeof e.delta.stop_reason === 'string') message.stop_reason = e.delta.stop_reason
          if (isObj(e.usage)) {
            for (const [k, val] of Object.entries(e.usage)) if (typeof val === 'number') usage[k] = val
          }
          break
      }
    },
    finish() {
      for (const [i, raw] of json) {
        const b = blocks[i]
        if (b && raw) b.input = parseArgs(raw)
      }
      recordMessage(call, { ...message, usage, content: arr(blocks).filter(isObj) }, text.cut > 0)
    },
  }
}
