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
  model?: ModelCall
  tools: Map<string, { span: Span; ctx: Context }>
  embeds: Span[]
}

/** The model call in flight: its span, and when it started and its first output arrived (performance.now()). */
interface ModelCall {
  span: Span
  ctx: Context
  startedAt: number
  firstOutputAt?: number
}

/**
 * Vercel AI SDK integration: pass it to `registerTelemetry()` from `ai` (all
 * calls) or to one call's `telemetry: { integrations: [...] }`. generateText /
 * streamText / generateObject / embed become a `chain` span with an `llm` span
 * per model call and a `tool` span per tool execution, children of whatever
 * span is active where the call was made.
 */
export function spanlensAITelemetry(): SpanlensAITelemetry {
  const ops = new Map<string, AiCall>()
  const get = (e: unknown): AiCall | undefined => (isObj(e) && typeof e.callId === 'string' ? ops.get(e.callId) : undefined)
  const guard = (where: string, fn: () => void) => {
    try {
      fn()
    } catch (err) {
      diag.instrumentationError(`ai telemetry ${where}`, err)
    }
  }
  const closeAll = (op: AiCall, err: unknown, aborted: boolean) => {
    const close = (s: Span) => {
      if (aborted) {
        s.setAttribute(ATTR.errorType, 'aborted')
        s.setStatus({ code: SpanStatusCode.ERROR, message: 'aborted' })
      } else recordError(s, err)
      s.end()
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
          tools: new Map(),
          embeds: [],
        }
        ops.set(e.callId, op)
        if (op.inputs) {
          const input = e.prompt ?? e.messages ?? e.value ?? e.values
          if (input !== undefined) root.setAttribute(ATTR.inputValue, rt.content(ATTR.inputValue, input))
        }
      }),

    onLanguageModelCallStart: (e) =>
      guard('model start', () => {
        const op = get(e)
        if (!op || !isObj(e)) return
        const attrs: Attributes = { [ATTR.kind]: 'llm', [ATTR.operation]: 'chat' }
        setIf(attrs, ATTR.provider, providerName(e.provider))
        setIf(attrs, ATTR.requestModel, e.modelId)
        setIf(attrs, REQUEST_PARAMS.temperature, e.temperature)
        setIf(attrs, REQUEST_PARAMS.topP, e.topP)
        setIf(attrs, REQUEST_PARAMS.topK, e.topK)
        setIf(attrs, REQUEST_PARAMS.maxTokens, e.maxOutputTokens)
        setIf(attrs, REQUEST_PARAMS.frequencyPenalty, e.frequencyPenalty)
        setIf(attrs, REQUEST_PARAMS.presencePenalty, e.presencePenalty)
        setIf(attrs, REQUEST_PARAMS.stopSequences, e.stopSequences)
        setIf(attrs, REQUEST_PARAMS.seed, e.seed)
        const span = op.rt.tracer.startSpan(spanName('chat', e.modelId), { kind: SpanKind.CLIENT, attributes: attrs }, op.ctx)
        op.model = { span, ctx: trace.setSpan(op.ctx, span), startedAt: performance.now() }
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
        const { span } = op.model
        op.model = undefined
        const attrs: Attributes = {}
        setIf(attrs, ATTR.responseModel, e.modelId)
        setIf(attrs, ATTR.responseId, e.responseId)
        const finish = typeof e.finishReason === 'string' ? e.finishReason : isObj(e.finishReason) ? str(e.finishReason.unified) : undefined
        if (finish) attrs[ATTR.finishReasons] = [finish]
        usageAttributes(attrs, e.usage)
        if (isObj(e.performance)) {
          const ms = num(e.performance.timeToFirstOutputMs)
          if (ms !== undefined && e.performance.outputTokensPerSecond !== undefined) attrs[ATTR.ttft] = ms / 1000
        }
        span.setAttributes(attrs)
        if (op.outputs) {
          const msg: Obj = { role: 'assistant', parts: aiParts(e.content) }
          if (finish) msg.finish_reason = finish
          span.setAttribute(ATTR.outputMessages, op.rt.content(ATTR.outputMessages, [msg]))
        }
        span.end()
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
        closeAll(op, undefined, true)
      }),

    onError: (e) =>
      guard('error', () => {
        const op = get(e)
        if (!op) return
        ops.delete((e as Obj).callId as string)
        closeAll(op, (e as Obj).error, false)
      }),

    executeLanguageModelCall(options) {
      const op = ops.get(options.callId)
      const model = op?.model
      const ctx = model?.ctx ?? op?.ctx
      const result = ctx ? context.with(ctx, options.execute) : options.execute()
      return model ? Promise.resolve(result).then((r) => timeFirstOutput(r, model)) : result
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

/** The stream part types the AI SDK counts as output when it times the first one (its isOutputChunk). */
const OUTPUT_PARTS = new Set(['text-delta', 'reasoning-delta', 'tool-input-delta', 'tool-call', 'file', 'reasoning-file'])

/**
 * A streamed model call's result with its stream observed for the first output part, for a call
 * that ends without onLanguageModelCallEnd (aborted, failed): the time to first chunk is known
 * there only if the SDK saw it. One stage more in the AI SDK's own chain of transform streams.
 */
function timeFirstOutput<T>(result: T, model: ModelCall): T {
  if (!isObj(result) || !(result.stream instanceof ReadableStream)) return result
  const observed = result.stream.pipeThrough(
    new TransformStream<unknown, unknown>({
      transform(part, controller) {
        if (model.firstOutputAt === undefined && isObj(part) && typeof part.type === 'string' && OUTPUT_PARTS.has(part.type) && part.delta !== '') {
          model.firstOutputAt = performance.now()
        }
        controller.enqueue(part)
      },
    }),
  )
  return { ...result, stream: observed }
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
      default:
        if (typeof p.type === 'string') parts.push({ type: p.type })
    }
  }
  return parts
}
