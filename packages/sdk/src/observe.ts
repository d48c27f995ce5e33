import { context, trace, type Attributes, type AttributeValue, type Span } from '@opentelemetry/api'
import { ATTR, OPERATION_FOR_KIND, type SpanKindName } from './attributes.js'
import { diag } from './diag.js'
import { readLimit } from './content.js'
import { recordError } from './instrument/llm-span.js'
import { getRuntime, type Runtime } from './runtime.js'
import { watchAwaited } from './awaited-watch.js'

export interface ObserveOptions {
  /** What the span represents. Default `chain`. */
  kind?: SpanKindName
  /** Record arguments / return value as `input.value` / `output.value` (when captureContent is on). Default true. */
  captureInput?: boolean
  captureOutput?: boolean
  /** Extra attributes set at start. */
  attributes?: Attributes
}

/** The live span inside `span()` / an observed function. Every method is safe to call, even before init(). */
export interface SpanHandle {
  readonly traceId: string
  readonly spanId: string
  setAttribute(key: string, value: AttributeValue): void
  setAttributes(attributes: Attributes): void
  setInput(value: unknown): void
  setOutput(value: unknown): void
  /** Marks the span failed without throwing. */
  setError(error: unknown): void
  /** The underlying OpenTelemetry span, for anything else. */
  readonly otelSpan: Span
}

const MAX_ITEMS = 100

/**
 * Runs `fn` now inside a new span and returns exactly what `fn` returns (the
 * same promise, the same value); the span ends when that settles. Spans started
 * inside — LLM calls, tools, nested `span()`s — become its children.
 */
export function span<T>(name: string, fn: (span: SpanHandle) => T, options: ObserveOptions = {}): T {
  if (typeof fn !== 'function') return notAFunction('span', fn) as T
  const rt = getRuntime()
  if (!rt) return fn(noopHandle())
  let s: Started
  try {
    s = start(rt, spanName(name, fn), optionsOf(options))
  } catch (err) {
    diag.instrumentationError('span start', err)
    return fn(noopHandle())
  }
  return s.run(() => fn(s.handle))
}

/**
 * Returns `fn` traced: each call is a span named `name` of `options.kind`, with
 * the arguments as input and the result (awaited, or the yielded items of an
 * async generator) as output. `this`, arguments and return value pass through.
 */
export function observe<F extends (...args: never[]) => unknown>(name: string, fn: F, options: ObserveOptions = {}): F {
  if (typeof fn !== 'function') return notAFunction('observe', fn) as F
  const named = spanName(name, fn)
  const given = optionsOf(options)
  let opts = given
  const wrapped = function (this: unknown, ...args: Parameters<F>) {
    const rt = getRuntime()
    if (!rt) return fn.apply(this, args)
    let s: Started
    try {
      s = start(rt, named, opts)
      if (opts.captureInput !== false) s.input(args.length === 1 ? args[0] : args)
    } catch (err) {
      diag.instrumentationError('observe start', err)
      return fn.apply(this, args)
    }
    return s.run(() => fn.apply(this, args))
  }
  Object.defineProperty(wrapped, 'name', { value: fn.name, configurable: true })
  // `await observe(name, fn)` (fn never runs, nothing is sent) reads the traced function's `then`, as
  // any await or promise resolution does. Reading it gives `undefined`, as on any function; the first
  // read starts watching for a call, through `opts`, which every traced call reads (its `kind`): the
  // call path of a function nobody probed is unchanged.
  Object.defineProperty(wrapped, 'then', {
    configurable: true,
    get() {
      if (opts === given) {
        const watch = watchAwaited(named)
        if (watch) {
          opts = Object.defineProperty({ ...given }, 'kind', {
            enumerable: true,
            get() {
              watch.called = true
              opts = given
              return given.kind
            },
          })
        }
      }
      return undefined
    },
  })
  return wrapped as unknown as F
}

/**
 * The span's name from what the app passed, which its types do not always hold to (plain
 * JavaScript, names read from data): any other value as its string, and a missing or empty
 * one as the function's own name, else `span`. A span whose name is not a string cannot be
 * encoded: it was dropped, and its children left without their parent.
 */
function spanName(name: unknown, fn: (...args: never[]) => unknown): string {
  if (typeof name === 'string' && name.length > 0) return name
  if (name !== undefined && name !== null && typeof name !== 'string') {
    try {
      const s = String(name)
      if (s.length > 0) return s
    } catch {
      // An object whose toString throws: the default below.
    }
  }
  return fn.name.length > 0 ? fn.name : 'span'
}

/** What span() and observe() do with a value that is not a function: give it back unchanged, as if the SDK were not there, and say so. */
function notAFunction(api: 'span' | 'observe', value: unknown): unknown {
  diag.warnOnce(`${api}() takes a function and was given ${value === null ? 'null' : typeof value}; it was returned unchanged, without a span`)
  return value
}

interface Started {
  handle: SpanHandle
  input(v: unknown): void
  run<T>(fn: () => T): T
}

/** `null` (plain JavaScript) is no options, as undefined is. */
function optionsOf(given: ObserveOptions | null): ObserveOptions {
  return typeof given === 'object' && given !== null ? given : {}
}

function start(rt: Runtime, name: string, options: ObserveOptions): Started {
  const kind = options.kind ?? 'chain'
  const attrs: Attributes = { ...options.attributes, [ATTR.kind]: kind }
  const op = OPERATION_FOR_KIND[kind]
  if (op && kind !== 'llm') attrs[ATTR.operation] = op
  if (kind === 'tool') attrs[ATTR.toolName] = name
  if (kind === 'agent') attrs[ATTR.agentName] = name
  const parent = context.active()
  const otelSpan = rt.tracer.startSpan(name, { attributes: attrs }, parent)
  const ctx = trace.setSpan(parent, otelSpan)
  const capture = rt.config.captureContent
  const captureOutput = options.captureOutput !== false
  let ended = false
  const setContent = (key: string, v: unknown, more?: boolean) => {
    if (capture && v !== undefined) otelSpan.setAttribute(key, rt.content(key, v, more))
  }
  const end = () => {
    if (!ended) {
      ended = true
      otelSpan.end()
    }
  }
  const fail = (err: unknown) => {
    guard(() => recordError(otelSpan, err))
    end()
  }
  /** `more`: `v` is the start of the output (a generator's items, some left out). */
  const output = (v: unknown, more?: boolean) => {
    if (!captureOutput) return
    guard(() => {
      setContent(ATTR.outputValue, v, more)
      if (kind === 'tool') setContent(ATTR.toolResult, v, more)
    })
  }
  const { traceId, spanId } = otelSpan.spanContext()
  const handle: SpanHandle = {
    traceId,
    spanId,
    otelSpan,
    setAttribute: (k, v) => guard(() => otelSpan.setAttribute(k, v)),
    setAttributes: (a) => guard(() => otelSpan.setAttributes(a)),
    setInput: (v) => guard(() => setContent(ATTR.inputValue, v)),
    setOutput: (v) => guard(() => setContent(ATTR.outputValue, v)),
    setError: (e) => guard(() => recordError(otelSpan, e)),
  }
  return {
    handle,
    input(v) {
      setContent(ATTR.inputValue, v)
      if (kind === 'tool') setContent(ATTR.toolArguments, v)
    },
    run<T>(fn: () => T): T {
      let result: T
      try {
        result = context.with(ctx, fn)
      } catch (err) {
        fail(err)
        throw err
      }
      try {
        if (isAsyncGenerator(result)) {
          const serialize = capture && captureOutput ? (v: unknown) => rt.content(ATTR.outputValue, v) : undefined
          return traceGenerator(result, ctx, serialize, readLimit(rt.config.maxContentLength), output, end, fail) as T
        }
        // A promise's then() has no effect of its own; another thenable's may: a Mongoose or Knex query
        // runs on each then(), so the SDK's would run it a second time beside the app's await (an update
        // applied twice). Its span ends as fn returns, without output.
        if (result instanceof Promise) {
          result.then(
            (v) => {
              output(v)
              end()
            },
            (e) => fail(e),
          )
          return result
        }
        if (isThenable(result)) {
          end()
          return result
        }
        output(result)
        end()
      } catch (err) {
        diag.instrumentationError('observe result', err)
        end()
      }
      return result
    },
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as PromiseLike<unknown>).then === 'function'
}

function isAsyncGenerator(v: unknown): v is AsyncGenerator<unknown> {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as AsyncGenerator)[Symbol.asyncIterator] === 'function' &&
    typeof (v as AsyncGenerator).next === 'function'
  )
}

/**
 * A generator body runs in the context of whoever calls next(); re-entering the
 * span's context on every next() is what keeps spans created between yields
 * under this span. The span ends when the generator finishes, throws, or is closed.
 */
function traceGenerator(
  gen: AsyncGenerator<unknown>,
  ctx: ReturnType<typeof context.active>,
  /** An item's JSON, taken as it is yielded; undefined when output is not captured. */
  serialize: ((v: unknown) => string) | undefined,
  /** Characters of items kept: past them the output is cut anyway, and an item is only counted. */
  budget: number,
  output: (v: unknown, more: boolean) => void,
  end: () => void,
  fail: (e: unknown) => void,
): AsyncGenerator<unknown> {
  // Strings as yielded, other items as their JSON at the time they were yielded: the
  // consumer may change an object it was given before the generator ends.
  const items: (string | { json: string })[] = []
  // Held until the generator ends: holding every item, 100 strings of 50 MB would be held and joined for an output cut to maxContentLength.
  let length = 0
  let more = false
  const settle = <R extends IteratorResult<unknown>>(p: Promise<R>): Promise<R> =>
    p.then(
      (r) => {
        if (r.done) {
          if (serialize) {
            output(
              items.every((i) => typeof i === 'string')
                ? items.join('')
                : `[${items.map((i) => (typeof i === 'string' ? JSON.stringify(i) : i.json)).join(',')}]`,
              more,
            )
          }
          end()
        } else if (serialize) {
          if (items.length >= MAX_ITEMS || length > budget) more = true
          else {
            const v = r.value
            const item = typeof v === 'string' ? v : { json: serialize(v) }
            items.push(item)
            length += typeof item === 'string' ? item.length : item.json.length
          }
        }
        return r
      },
      (e) => {
        fail(e)
        throw e
      },
    )
  const wrapped: AsyncGenerator<unknown> = {
    next: (...a: [] | [unknown]) => settle(context.with(ctx, () => gen.next(...a))),
    return: (v: unknown) => settle(context.with(ctx, () => gen.return(v))),
    throw: (e: unknown) => settle(context.with(ctx, () => gen.throw(e))),
    [Symbol.asyncIterator]() {
      return this
    },
  }
  return wrapped
}

function guard(fn: () => void): void {
  try {
    fn()
  } catch (err) {
    diag.instrumentationError('span handle', err)
  }
}

function noopHandle(): SpanHandle {
  const span = trace.getSpan(context.active()) ?? trace.wrapSpanContext({ traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: 0 })
  const { traceId, spanId } = span.spanContext()
  const noop = () => {}
  return { traceId, spanId, otelSpan: span, setAttribute: noop, setAttributes: noop, setInput: noop, setOutput: noop, setError: noop }
}
