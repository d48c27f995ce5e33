// The call path every provider shares; adding a provider is one file and one recipe: docs/architecture.md, "Add a provider".
import { context } from '@opentelemetry/api'
import { ATTR } from '../attributes.js'
import { isObj, type Obj } from '../content.js'
import { diag } from '../diag.js'
import { getRuntime } from '../runtime.js'
import { LlmCall, type Describer } from './llm-span.js'
import type { MethodHook } from './proxy.js'
import { isAsyncIterable, observeApiPromise, observeStream, type ResultHooks } from './stainless.js'

/** What tracing one client method means: who it calls and its request (Describer), its response, and its stream when it streams. */
export interface Operation extends Describer {
  /**
   * What `record` reads of a response, copied when the client returns it: the
   * recording may run after the app has the response (and could change it).
   */
  keep: (value: Obj) => Obj
  /** Records a kept response on the span. */
  record: (call: LlmCall, value: Obj) => void
  /** Accumulates a streamed response (`stream: true`) into what `record` would have seen. */
  stream?: (call: LlmCall) => StreamAccumulator
}

export interface StreamAccumulator {
  chunk(c: Obj): void
  finish(): void
}

/**
 * The method hook for `op`: note the call, run the real method (in its span's
 * context when attached), observe the result. Made once per wrapped method, not per call.
 */
export function traced(op: Operation): MethodHook {
  return (original, self, args) => {
    const rt = getRuntime()
    const params = args[0]
    if (!rt || !isObj(params)) return original.apply(self, args)
    let t: Traced
    try {
      const call = new LlmCall(rt, op, params)
      t = new Traced(call, op, op.stream && params.stream === true ? op.stream(call) : undefined)
    } catch (err) {
      diag.instrumentationError(`${op.provider} request`, err)
      return original.apply(self, args)
    }
    let result: unknown
    try {
      // Inside the provider call only other instrumentation starts spans (an HTTP
      // client's, the Anthropic SDK's own), and those report to the app's provider:
      // running our own, nothing would, so the call skips entering a context
      // (AsyncLocalStorage.run, plus one Context object: ~2 µs on the call path).
      result = rt.mode === 'attached' ? context.with(t.call.context(), () => original.apply(self, args)) : original.apply(self, args)
    } catch (err) {
      t.call.fail(err)
      throw err
    }
    return observeApiPromise(result, t)
  }
}

/** `chat gpt-4o`; `chat` without a model. */
export function spanName(operation: string, model: unknown): string {
  return typeof model === 'string' ? `${operation} ${model}`.trim() : operation
}

/** A started call: ends its span from the client's result (one object per call, no closures). */
class Traced implements ResultHooks {
  constructor(
    readonly call: LlmCall,
    private readonly op: Operation,
    /** Per-chunk accumulation when the request streams. */
    private readonly stream?: StreamAccumulator,
  ) {}

  get provider(): string {
    return this.op.provider
  }

  value(v: unknown): void {
    if (this.stream && isAsyncIterable(v)) observeStreamFor(this.call, this.op.provider, this.stream, v)
    else if (isObj(v)) this.call.succeed(this.op.record, this.op.keep(v))
    else this.call.succeed(undefined, undefined)
  }

  error(e: unknown): void {
    this.call.fail(e)
  }

  unparsed(props: unknown): void {
    const response = isObj(props) && isObj(props.response) ? props.response : undefined
    this.call.succeed(recordStatus, typeof response?.status === 'number' ? response.status : undefined)
  }
}

function recordStatus(call: LlmCall, status: number | undefined): void {
  call.setIf(ATTR.httpStatus, status)
}

function observeStreamFor(call: LlmCall, provider: string, acc: StreamAccumulator, stream: unknown): void {
  observeStream(stream, {
    provider,
    chunk: (c) => {
      if (isObj(c)) acc.chunk(c)
    },
    done: () => call.succeed(() => acc.finish(), undefined),
    error: (e) => call.fail(e),
    abort: (reason) => call.abort(() => acc.finish(), reason),
  })
}
