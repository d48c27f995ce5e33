import { context, trace, SpanKind, SpanStatusCode, type Attributes, type Context, type Span } from '@opentelemetry/api'
import { ATTR, REQUEST_PARAMS } from '../attributes.js'
import { arr, isObj, num, str, type Obj, type Part } from '../content.js'
import { diag } from '../diag.js'
import { getRuntime, type Runtime } from '../runtime.js'
import { recordError, setIf } from './llm-span.js'
import { spanName } from './traced.js'

/**
 * The subset of the `ai` (v6+/v7) `Telemetry` integration interface we
 * implement. Declared here, loosely typed, so `ai` stays an optional peer:
 * the object is assignable to `ai`'s `Telemetry`.
 */
export interface SpanlensAITelemetry {
  onStart(event: unknown): void
  onLanguageModelCallStart(event: unknown): void
  onLanguageModelCallEnd(event: unknown): void
  onObjectStepStart(event: unknown): void
  onObjectStepEnd(event: unknown): void
  onStepError(event: unknown): void
  onToolExecutionStart(event: unknown): void
  onToolExecutionEnd(event: unknown): void
  onEmbedStart(event: unknown): void
  onEmbedEnd(event: unknown): void
  onEnd(event: unknown): void
  onAbort(event: unknown): void
  onError(event: unknown): void
  executeLanguageModelCall<T>(options: { callId: string; execute: () => PromiseLike<T> }): PromiseLike<T>
  executeTool<T>(options: { callId: string; toolCallId: string; execute: () => PromiseLike<T> }): PromiseLike<T>
}

/** One generateText/streamText/embed… call, by the callId the AI SDK gives its events. */
interface AiCall {
  root: Span
  ctx: Context
  rt: Runtime
  inputs: boolean
  outputs: boolean
  /** streamText: ai ends it only once the app has read its stream to the end. */
  streamText: boolean
  /** streamObject: the same, and its stream is never handed to the integration. */
  streamObject: boolean
  /** generateObject/streamObject: the request parameters, which ai reports with the call, not with its model call. */
  request?: Attributes
  model?: ModelCall
  /** A model call has started: before it, ai is still preparing the call (downloads, tools). */
  modelSeen: boolean
  /** When the call last moved (performance.now()): an event, a part asked for or handed over. */
  lastSeen: number
  tools: Map<string, { span: Span; ctx: Context }>
  embeds: Span[]
}

/** The model call in flight: its span, and when it started and its first output arrived (performance.now()). */
interface ModelCall {
  span: Span
  ctx: Context
  startedAt: number
  firstOutputAt?: number
  /** The model's stream as ai reads it (streamText): its reads are observed. */
  observed?: boolean
  /** A part was asked for and the model has not given it yet: the call waits on the model, not on its reader. */
  reading?: boolean
  /** The model streamed an error part, recorded on the span. */
  failed?: boolean
}

/**
 * When the SDK ends a streamed call that ai will never end (see docs/sdk.md, spanlensAITelemetry).
 * ai ends streamText and streamObject only once the app has read their stream to the end: one that
 * the app stops reading (`break`, a client gone) or never reads gets no end, abort or error event.
 */
export interface AiCallLimits {
  /** A streamText whose reader has asked for nothing (the model not being waited on, no tool running) for this long is ended, aborted. */
  unreadMs: number
  /** At most this many streamText calls may wait on their reader for longer than `crowdedAfterMs`; past that, those waiting longest are ended. */
  maxUnread: number
  crowdedAfterMs: number
  /** A streamObject whose model call has not ended this long after it started is ended, aborted (ai hands the integration no stream of it to watch). */
  streamObjectMs: number
}

const LIMITS: AiCallLimits = { unreadMs: 60_000, maxUnread: 256, crowdedAfterMs: 1_000, streamObjectMs: 600_000 }

/**
 * Vercel AI SDK integration: pass it to `registerTelemetry()` from `ai` (all
 * calls) or to one call's `telemetry: { integrations: [...] }`. generateText /
 * streamText / generateObject / streamObject / embed become a `chain` span with an
 * `llm` span per model call and a `tool` span per tool execution, children of
 * whatever span is active where the call was made.
 */
export function spanlensAITelemetry(): SpanlensAITelemetry {
  return aiTelemetry()
}

/** spanlensAITelemetry() with its limits and its table of open calls given (tests). */
export function aiTelemetry(limits: AiCallLimits = LIMITS, table: Map<string, unknown> = new Map()): SpanlensAITelemetry {
  const ops = table as Map<string, AiCall>
  const get = (e: unknown): AiCall | undefined => {
    const op = isObj(e) && typeof e.callId === 'string' ? ops.get(e.callId) : undefined
    if (op) op.lastSeen = performance.now()
    return op
  }
  const guard = (where: string, fn: () => void) => {
    try {
      fn()
    } catch (err) {
      diag.instrumentationError(`ai telemetry ${where}`, err)
    }
  }

  // Streamed calls the app may stop reading are looked at while any is open, on a timer that does not hold the process.
  let timer: NodeJS.Timeout | undefined
  const sweepMs = Math.max(10, Math.min(1000, limits.unreadMs / 4, limits.crowdedAfterMs))
  const watch = () => {
    timer ??= setInterval(() => guard('sweep', sweep), sweepMs).unref()
  }
  const sweep = () => {
    const now = performance.now()
    const waiting: { id: string; op: AiCall; since: number }[] = []
    let streamed = 0
    for (const [id, op] of ops) {
      if (op.streamObject) {
        streamed++
        if (op.model && now - op.model.startedAt >= limits.streamObjectMs) {
          abandon(id, op, `model call not ended within ${seconds(limits.streamObjectMs)} (its stream may be unread)`, now)
        }
        continue
      }
      if (!op.streamText) continue
      streamed++
      const since = unreadSince(op)
      if (since === undefined) continue
      if (now - since >= limits.unreadMs) abandon(id, op, `stream not read to its end: nothing read for ${seconds(limits.unreadMs)}`, since)
      else if (now - since >= limits.crowdedAfterMs) waiting.push({ id, op, since })
    }
    if (waiting.length > limits.maxUnread) {
      waiting.sort((a, b) => a.since - b.since)
      for (const w of waiting.slice(0, waiting.length - limits.maxUnread)) {
        abandon(w.id, w.op, `stream not read to its end: more than ${limits.maxUnread} calls waited on their reader`, w.since)
      }
    }
    if (streamed === 0) {
      clearInterval(timer)
      timer = undefined
    }
  }
  /** Ends a call ai will not end, at `at` (performance.now()), and lets it go. */
  const abandon = (id: string, op: AiCall, why: string, at: number) => {
    ops.delete(id)
    closeAll(op, { aborted: why, at })
  }
  const closeAll = (op: AiCall, how: { error: unknown } | { aborted: string; at?: number }) => {
    const at = 'at' in how ? how.at : undefined
    const close = (s: Span) => {
      if ('aborted' in how) {
        s.setAttribute(ATTR.errorType, 'aborted')
        s.setStatus({ code: SpanStatusCode.ERROR, message: how.aborted })
      } else recordError(s, how.error)
      s.end(at)
    }
    if (op.model) {
      // The AI SDK reports its time to first output only when the model call ends.
      setFirstOutput(op.model)
      close(op.model.span)
    }
    for (const t of op.tools.values()) close(t.span)
    for (const s of op.embeds) close(s)
    close(op.root)
  }
  /**
   * ai stopped reading a model call's stream: to call the model again after an error part
   * (streamRetries), or as the call ends (an abort, an error: those end its span first). One
   * still open ends here, with the reason ai gave.
   */
  const cancelModel = (op: AiCall, model: ModelCall, id: string, reason: unknown) => {
    if (op.model !== model || ops.get(id) !== op) return
    op.model = undefined
    setFirstOutput(model)
    // A failure the model streamed was recorded as it passed.
    if (!model.failed && reason === undefined) {
      model.span.setAttribute(ATTR.errorType, 'aborted')
      model.span.setStatus({ code: SpanStatusCode.ERROR, message: 'model stream cancelled' })
    } else if (!model.failed) recordError(model.span, reason)
    model.span.end()
  }
  /** Starts the llm span of a model call (a text step or an object's). */
  const startModel = (op: AiCall, e: Obj, attrs: Attributes) => {
    if (op.model) {
      // The model call before it reported no end: one ai retried after its stream failed.
      setFirstOutput(op.model)
      op.model.span.end()
    }
    setIf(attrs, ATTR.provider, providerName(e.provider))
    setIf(attrs, ATTR.requestModel, e.modelId)
    const span = op.rt.tracer.startSpan(spanName('chat', e.modelId), { kind: SpanKind.CLIENT, attributes: attrs }, op.ctx)
    op.model = { span, ctx: trace.setSpan(op.ctx, span), startedAt: performance.now() }
    op.modelSeen = true
    return span
  }
  /** Ends the llm span of a model call with what ai reports of its response. */
  const endModel = (op: AiCall, attrs: Attributes, finish: string | undefined, parts: () => Part[]) => {
    const { span } = op.model!
    op.model = undefined
    if (finish) attrs[ATTR.finishReasons] = [finish]
    span.setAttributes(attrs)
    if (op.outputs) {
      const msg: Obj = { role: 'assistant', parts: parts() }
      if (finish) msg.finish_reason = finish
      span.setAttribute(ATTR.outputMessages, op.rt.content(ATTR.outputMessages, [msg]))
    }
    span.end()
  }

  return {
    onStart: (e) =>
      guard('start', () => {
        const rt = getRuntime()
        if (!rt || !isObj(e)) return
        if (typeof e.callId !== 'string') {
          // ai 6 calls an integration's onStart too, with an event of its own shape and no other hook of ours.
          diag.warnOnce('spanlensAITelemetry() needs ai 7 or later: this ai calls it with events of another shape (no callId), and nothing is recorded')
          return
        }
        const operationId = str(e.operationId) ?? 'ai.operation'
        const embedding = operationId.startsWith('ai.embed')
        const attrs: Attributes = {
          [ATTR.kind]: embedding ? 'embedding' : 'chain',
          'ai.operationId': operationId,
        }
        if (!embedding) attrs[ATTR.operation] = 'invoke_workflow'
        setIf(attrs, 'ai.telemetry.functionId', e.functionId)
        setIf(attrs, ATTR.requestModel, e.modelId)
        setIf(attrs, ATTR.provider, providerName(e.provider))
        const parent = context.active()
        const name = str(e.functionId) ?? operationId
        const root = rt.tracer.startSpan(name, { attributes: attrs }, parent)
        const op: AiCall = {
          root,
          ctx: trace.setSpan(parent, root),
          rt,
          inputs: rt.config.captureContent && e.recordInputs !== false,
          outputs: rt.config.captureContent && e.recordOutputs !== false,
          streamText: operationId === 'ai.streamText',
          streamObject: operationId === 'ai.streamObject',
          modelSeen: false,
          lastSeen: performance.now(),
          tools: new Map(),
          embeds: [],
        }
        if (operationId === 'ai.generateObject' || op.streamObject) op.request = requestAttributes(e)
        ops.set(e.callId, op)
        if (op.streamText || op.streamObject) watch()
        if (op.inputs) {
          const input = e.prompt ?? e.messages ?? e.value ?? e.values
          if (input !== undefined) root.setAttribute(ATTR.inputValue, rt.content(ATTR.inputValue, input))
        }
      }),

    onLanguageModelCallStart: (e) =>
      guard('model start', () => {
        const op = get(e)
        if (!op || !isObj(e)) return
        const span = startModel(op, e, { [ATTR.kind]: 'llm', [ATTR.operation]: 'chat', ...requestAttributes(e) })
        if (op.inputs) {
          const system = instructions(e.instructions ?? e.system)
          if (system) span.setAttribute(ATTR.systemInstructions, op.rt.content(ATTR.systemInstructions, system))
          span.setAttribute(ATTR.inputMessages, op.rt.content(ATTR.inputMessages, aiMessages(e.messages ?? e.prompt)))
        }
      }),

    onLanguageModelCallEnd: (e) =>
      guard('model end', () => {
        const op = get(e)
        if (!op?.model || !isObj(e)) return
        const attrs: Attributes = {}
        setIf(attrs, ATTR.responseModel, e.modelId)
        setIf(attrs, ATTR.responseId, e.responseId)
        const finish = typeof e.finishReason === 'string' ? e.finishReason : isObj(e.finishReason) ? str(e.finishReason.unified) : undefined
        usageAttributes(attrs, e.usage)
        if (isObj(e.performance)) {
          const ms = num(e.performance.timeToFirstOutputMs)
          if (ms !== undefined && e.performance.outputTokensPerSecond !== undefined) attrs[ATTR.ttft] = ms / 1000
        }
        endModel(op, attrs, finish, () => aiParts(e.content))
      }),

    // generateObject and streamObject report their one model call as an object step, not as a language model call.
    onObjectStepStart: (e) =>
      guard('object start', () => {
        const op = get(e)
        if (!op || !isObj(e)) return
        const span = startModel(op, e, { [ATTR.kind]: 'llm', [ATTR.operation]: 'chat', [ATTR.outputType]: 'json', ...op.request })
        if (op.inputs) {
          // The prompt as sent to the provider: its system messages are the instructions.
          const prompt = arr(e.promptMessages).filter(isObj)
          const system = instructions(prompt.filter((m) => m.role === 'system'))
          if (system) span.setAttribute(ATTR.systemInstructions, op.rt.content(ATTR.systemInstructions, system))
          span.setAttribute(ATTR.inputMessages, op.rt.content(ATTR.inputMessages, aiMessages(prompt.filter((m) => m.role !== 'system'))))
        }
      }),

    onObjectStepEnd: (e) =>
      guard('object end', () => {
        const op = get(e)
        if (!op?.model || !isObj(e)) return
        const attrs: Attributes = {}
        const response = isObj(e.response) ? e.response : {}
        setIf(attrs, ATTR.responseModel, response.modelId ?? e.modelId)
        setIf(attrs, ATTR.responseId, response.id)
        usageAttributes(attrs, e.usage)
        const ms = num(e.msToFirstChunk)
        if (ms !== undefined) attrs[ATTR.ttft] = ms / 1000
        endModel(op, attrs, str(e.finishReason), () => {
          const parts: Part[] = []
          if (typeof e.reasoning === 'string' && e.reasoning) parts.push({ type: 'reasoning', content: e.reasoning })
          if (typeof e.objectText === 'string') parts.push({ type: 'text', content: e.objectText })
          return parts
        })
      }),

    onStepError: (e) =>
      guard('step error', () => {
        const op = get(e)
        if (!op?.model || !isObj(e)) return
        recordError(op.model.span, e.error)
        setFirstOutput(op.model)
        op.model.span.end()
        op.model = undefined
      }),

    onToolExecutionStart: (e) =>
      guard('tool start', () => {
        const op = get(e)
        if (!op || !isObj(e) || !isObj(e.toolCall)) return
        toolSpan(op, e.toolCall)
      }),

    onToolExecutionEnd: (e) =>
      guard('tool end', () => {
        const op = get(e)
        if (!op || !isObj(e) || !isObj(e.toolCall)) return
        const id = str(e.toolCall.toolCallId) ?? ''
        const tool = op.tools.get(id)
        if (!tool) return
        op.tools.delete(id)
        const out = isObj(e.toolOutput) ? e.toolOutput : {}
        if (out.type === 'tool-error') recordError(tool.span, out.error)
        else if (op.outputs) {
          const v = op.rt.content(ATTR.toolResult, out.output)
          tool.span.setAttribute(ATTR.toolResult, v)
          tool.span.setAttribute(ATTR.outputValue, v)
        }
        tool.span.end()
      }),

    onEmbedStart: (e) =>
      guard('embed start', () => {
        const op = get(e)
        if (!op || !isObj(e)) return
        const attrs: Attributes = { [ATTR.kind]: 'embedding', [ATTR.operation]: 'embeddings' }
        setIf(attrs, ATTR.provider, providerName(e.provider))
        setIf(attrs, ATTR.requestModel, e.modelId)
        op.embeds.push(op.rt.tracer.startSpan(spanName('embeddings', e.modelId), { kind: SpanKind.CLIENT, attributes: attrs }, op.ctx))
      }),

    onEmbedEnd: (e) =>
      guard('embed end', () => {
        const op = get(e)
        const span = op?.embeds.shift()
        if (!span || !isObj(e)) return
        const attrs: Attributes = {}
        if (isObj(e.usage)) setIf(attrs, ATTR.inputTokens, e.usage.tokens)
        const first = arr(e.embeddings)[0]
        if (Array.isArray(first)) attrs[ATTR.embeddingsDimension] = first.length
        span.setAttributes(attrs)
        span.end()
      }),

    onEnd: (e) =>
      guard('end', () => {
        const op = get(e)
        if (!op || !isObj(e)) return
        ops.delete(e.callId as string)
        if (op.outputs) {
          const output = e.object ?? e.text ?? e.embedding ?? e.embeddings
          if (output !== undefined) op.root.setAttribute(ATTR.outputValue, op.rt.content(ATTR.outputValue, output))
        }
        if (e.error !== undefined && e.error !== null) recordError(op.root, e.error)
        if (op.model) {
          setFirstOutput(op.model)
          op.model.span.end()
        }
        for (const t of op.tools.values()) t.span.end()
        op.root.end()
      }),

    onAbort: (e) =>
      guard('abort', () => {
        const op = get(e)
        if (!op) return
        ops.delete((e as Obj).callId as string)
        closeAll(op, { aborted: 'aborted' })
      }),

    onError: (e) =>
      guard('error', () => {
        const op = get(e)
        if (!op) return
        ops.delete((e as Obj).callId as string)
        closeAll(op, { error: (e as Obj).error })
      }),

    executeLanguageModelCall(options) {
      const op = ops.get(options.callId)
      const model = op?.model
      const ctx = model?.ctx ?? op?.ctx
      const result = ctx ? context.with(ctx, options.execute) : options.execute()
      if (!op || !model) return result
      const cancelled = (reason: unknown) => guard('model cancel', () => cancelModel(op, model, options.callId, reason))
      return Promise.resolve(result).then((r) => observeModelStream(r, op, model, cancelled))
    },

    executeTool(options) {
      const op = ops.get(options.callId)
      if (!op) return options.execute()
      const o = options as unknown as Obj
      const tool = op.tools.get(options.toolCallId) ?? (isObj(o.toolCall) ? toolSpan(op, o.toolCall) : undefined)
      return context.with(tool?.ctx ?? op.ctx, options.execute)
    },
  }
}

/**
 * Since when a streamText has waited on its reader (performance.now()), or undefined while it
 * waits on something else: ai preparing the call, the model (a request or a part asked for and
 * not given yet), a tool. Its reader is the app: until the app asks for the next part, ai asks
 * the model for none.
 */
function unreadSince(op: AiCall): number | undefined {
  if (!op.modelSeen || op.tools.size > 0) return undefined
  if (op.model && (!op.model.observed || op.model.reading)) return undefined
  return op.lastSeen
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`
}

/** The stream part types the AI SDK counts as output when it times the first one (its isOutputChunk). */
const OUTPUT_PARTS = new Set(['text-delta', 'reasoning-delta', 'tool-input-delta', 'tool-call', 'file', 'reasoning-file'])

/**
 * A streamed model call's result with its stream observed: the first output part (for a call
 * that ends without onLanguageModelCallEnd, aborted or failed: the time to first chunk is known
 * there only if the SDK saw it), and whether ai is waiting for a part (unreadSince). One stage
 * more in ai's chain of streams, which reads the model only when ai asks for a part.
 */
function observeModelStream<T>(result: T, op: AiCall, model: ModelCall, cancelled: (reason: unknown) => void): T {
  if (!isObj(result) || !(result.stream instanceof ReadableStream)) return result
  const reader = (result.stream as ReadableStream<unknown>).getReader()
  model.observed = true
  const settled = () => {
    model.reading = false
    op.lastSeen = performance.now()
  }
  const observed = new ReadableStream<unknown>(
    {
      pull(controller) {
        model.reading = true
        op.lastSeen = performance.now()
        return reader.read().then(
          ({ done, value: part }) => {
            settled()
            if (done) return controller.close()
            if (isObj(part) && typeof part.type === 'string') {
              if (model.firstOutputAt === undefined && OUTPUT_PARTS.has(part.type) && part.delta !== '') model.firstOutputAt = performance.now()
              // A failure the model streams: ai passes it on to the app, or calls the model again (streamRetries), and
              // reports neither to the integration; the call's span ends with it, at the next model call or the end.
              else if (part.type === 'error' && !model.failed) {
                model.failed = true
                guardedRecordError(model.span, part.error)
              }
            }
            controller.enqueue(part)
          },
          (err: unknown) => {
            settled()
            controller.error(err)
          },
        )
      },
      cancel(reason) {
        settled()
        cancelled(reason)
        return reader.cancel(reason)
      },
    },
    { highWaterMark: 0 },
  )
  return { ...result, stream: observed }
}

function guardedRecordError(span: Span, err: unknown): void {
  try {
    recordError(span, err)
  } catch (e) {
    diag.instrumentationError('ai telemetry model stream', e)
  }
}

function setFirstOutput(model: ModelCall): void {
  if (model.firstOutputAt !== undefined) model.span.setAttribute(ATTR.ttft, (model.firstOutputAt - model.startedAt) / 1000)
}

function toolSpan(op: AiCall, call: Obj): { span: Span; ctx: Context } {
  const id = str(call.toolCallId) ?? ''
  const existing = op.tools.get(id)
  if (existing) return existing
  const name = str(call.toolName) ?? 'tool'
  const attrs: Attributes = { [ATTR.kind]: 'tool', [ATTR.operation]: 'execute_tool', [ATTR.toolName]: name }
  setIf(attrs, ATTR.toolCallId, id)
  const span = op.rt.tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes: attrs }, op.ctx)
  if (op.inputs) {
    const v = op.rt.content(ATTR.toolArguments, call.input)
    span.setAttribute(ATTR.toolArguments, v)
    span.setAttribute(ATTR.inputValue, v)
  }
  const entry = { span, ctx: trace.setSpan(op.ctx, span) }
  op.tools.set(id, entry)
  return entry
}

/** 'openai.chat' / 'openai.responses' → 'openai'; 'anthropic.messages' → 'anthropic'. */
function providerName(p: unknown): string | undefined {
  const s = str(p)
  if (!s) return undefined
  const head = s.split('.')[0] ?? s
  return head === 'google' ? 'gcp.gemini' : head
}

/** The request parameters of a model call (a language model call's event, or an object call's start). */
function requestAttributes(e: Obj): Attributes {
  const attrs: Attributes = {}
  setIf(attrs, REQUEST_PARAMS.temperature, e.temperature)
  setIf(attrs, REQUEST_PARAMS.topP, e.topP)
  setIf(attrs, REQUEST_PARAMS.topK, e.topK)
  setIf(attrs, REQUEST_PARAMS.maxTokens, e.maxOutputTokens)
  setIf(attrs, REQUEST_PARAMS.frequencyPenalty, e.frequencyPenalty)
  setIf(attrs, REQUEST_PARAMS.presencePenalty, e.presencePenalty)
  setIf(attrs, REQUEST_PARAMS.stopSequences, e.stopSequences)
  setIf(attrs, REQUEST_PARAMS.seed, e.seed)
  return attrs
}

function usageAttributes(attrs: Attributes, usage: unknown): void {
  if (!isObj(usage)) return
  setIf(attrs, ATTR.inputTokens, usage.inputTokens)
  setIf(attrs, ATTR.outputTokens, usage.outputTokens)
  if (isObj(usage.inputTokenDetails)) {
    setIf(attrs, ATTR.cacheRead, usage.inputTokenDetails.cacheReadTokens)
    setIf(attrs, ATTR.cacheCreation, usage.inputTokenDetails.cacheWriteTokens)
  }
  if (isObj(usage.outputTokenDetails)) setIf(attrs, ATTR.reasoning, usage.outputTokenDetails.reasoningTokens)
}

function instructions(v: unknown): Part[] | undefined {
  if (typeof v === 'string') return [{ type: 'text', content: v }]
  const texts = arr(v).map((m) => (typeof m === 'string' ? m : isObj(m) ? (str(m.content) ?? str(m.text)) : undefined)).filter((t): t is string => !!t)
  return texts.length ? texts.map((content) => ({ type: 'text', content })) : undefined
}

function aiMessages(messages: unknown): Obj[] {
  if (typeof messages === 'string') return [{ role: 'user', parts: [{ type: 'text', content: messages }] }]
  return arr(messages).filter(isObj).map((m) => ({ role: str(m.role) ?? 'user', parts: aiParts(m.content) }))
}

/**
 * ai's content parts as GenAI parts. A part of another type is kept with its text when it has one
 * and left out when it carries nothing a reader can use: @ai-sdk/anthropic's `custom` part of kind
 * `anthropic.message_start`, in every streamed Anthropic answer, holds only the response's metadata.
 */
function aiParts(content: unknown): Part[] {
  if (typeof content === 'string') return [{ type: 'text', content }]
  const parts: Part[] = []
  for (const p of arr(content).filter(isObj)) {
    switch (p.type) {
      case 'text':
        parts.push({ type: 'text', content: p.text })
        break
      case 'reasoning':
        parts.push({ type: 'reasoning', content: p.text })
        break
      case 'tool-call':
        parts.push({ type: 'tool_call', id: p.toolCallId, name: p.toolName, arguments: p.input })
        break
      case 'tool-result': {
        const out = isObj(p.output) && 'value' in p.output ? p.output.value : p.output
        parts.push({ type: 'tool_call_response', id: p.toolCallId, response: out })
        break
      }
      case 'tool-error':
        parts.push({ type: 'tool_call_response', id: p.toolCallId, response: p.error instanceof Error ? p.error.message : p.error })
        break
      case 'image':
      case 'file':
      case 'reasoning-file':
        parts.push(filePart(p))
        break
      default:
        if (typeof p.type === 'string' && typeof p.text === 'string' && p.text) parts.push({ type: p.type, content: p.text })
    }
  }
  return parts
}

/** An image or file: where it is when it is a URL, else its media type (the bytes are not recorded). */
function filePart(p: Obj): Part {
  // A file the model generated carries it in `file`; one in a prompt, in `image` or `data`.
  const file = isObj(p.file) ? p.file : p
  const mime = str(file.mediaType)
  const data = p.image ?? p.data
  const uri = data instanceof URL ? data.href : typeof data === 'string' && /^https?:\/\//i.test(data) ? data : undefined
  const top = mime?.split('/')[0]
  const modality = p.type === 'image' ? 'image' : top === 'image' || top === 'audio' || top === 'video' ? top : undefined
  return uri ? { type: 'uri', modality, mime_type: mime, uri } : { type: 'blob', modality, mime_type: mime }
}
