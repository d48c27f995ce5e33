import { context, createContextKey, trace, ROOT_CONTEXT, type Tracer, type TracerProvider } from '@opentelemetry/api'
import { resolveConfig, type InitOptions, type ResolvedConfig } from './config.js'
import { AsyncLocalStorageContextManager } from './context-manager.js'
import { toJson } from './content.js'
import { consoleLogger, diag, emptyStats, shownUrl, type SdkStats } from './diag.js'
import { errors } from './errors.js'
import { OtlpExporter } from './export/exporter.js'
import { SCOPE_NAME, SpanlensSpanProcessor } from './processor.js'
import { createRedactor, isContentAttribute } from './redact.js'
import { cutMarked, MAX_MARK_LENGTH } from './redact-cut.js'
import { idGenerator } from './ids.js'
import { getRuntime, setRuntime } from './runtime.js'
import { SoonBatch } from './soon-batch.js'
import type { LlmCall } from './instrument/llm-span.js'
import { spanWriterFor, type SpanWriter } from './instrument/span-record.js'
import { SDK_VERSION } from './version.js'
import { SpanlensTracerProvider } from './trace/provider.js'
import { samplerFor } from './trace/sampler.js'
import type { SpanProcessor } from './trace/types.js'
import { installExitHooks } from './exit.js'
import { ScoreSender } from './score-sender.js'
import { reportAwaitedUncalled } from './awaited-watch.js'

/** How long ended LLM calls wait to be recorded together (standalone); spans leave every flushIntervalMs anyway. */
const ENDS_DELAY_MS = 20

/**
 * Starts the SDK. Throws SpanlensSdkError (SPANLENS_SDK_CONFIG_INVALID) on a bad
 * option; that is the last time the SDK throws. With an OpenTelemetry provider
 * already registered it attaches to it (LLM spans join the app's traces and go
 * to both backends); otherwise it runs its own provider without touching the
 * global one.
 */
export function init(options: InitOptions = {}): void {
  if (getRuntime()) throw errors.ALREADY_INITIALIZED()
  const config = resolveConfig(options)
  diag.logger = config.logger ?? consoleLogger(config.debug)
  diag.stats = emptyStats()
  for (const warning of config.envWarnings) diag.warnOnce(warning)
  if (!config.enabled) return

  const redactor = createRedactor(config.redact)
  // One step for everything that leaves: the values cut before export (content.ts, span limits), score
  // comments and labels, and, with a cut of its own below, the exporter's attributes and status message.
  const redact = redactor && ((key: string, value: string) => (isContentAttribute(key) ? redactor(value, key) : value))
  const maxContent = config.maxContentLength
  // What leaves of every string attribute: content and error text cut at maxContentLength, redacted over
  // what is kept. Cut here too, not only where the SDK records content: an app's own attribute, an
  // error's message and stack redacted whole at export cost ~2 s of the app's thread for a 50 MB
  // message, sent whole. A value the SDK cut already ends in its marker, and is not cut again.
  const exported = (key: string, value: string): string => {
    if (!isContentAttribute(key)) return value
    if (value.length <= maxContent + MAX_MARK_LENGTH) return redactor ? redactor(value, key) : value
    return cutMarked(value, maxContent, redactor && redactorFor(redactor, key))
  }
  const resourceDefaults = resourceAttributes(config)
  const exporter = new OtlpExporter({
    url: config.tracesUrl,
    headers: config.headers,
    maxQueueSize: config.maxQueueSize,
    maxBatchSize: config.maxBatchSize,
    maxConcurrentExports: config.maxConcurrentExports,
    flushIntervalMs: config.flushIntervalMs,
    timeoutMs: config.exportTimeoutMs,
    compression: config.compression,
    maxRetries: config.maxRetries,
    transform: exported,
    resourceDefaults,
  })
  const scores = new ScoreSender(config.scoresUrl, config.headers, config.exportTimeoutMs)
  const processor = new SpanlensSpanProcessor(exporter, config.sampleRate, config.spanFilter)

  // Only when the app has none: an app's own context manager already propagates ours.
  const contextManager = new AsyncLocalStorageContextManager()
  const ownsContext = context.setGlobalContextManager(contextManager)
  if (!ownsContext && !contextPropagates()) {
    diag.warnOnce(
      'no OpenTelemetry context manager works in this process: another @opentelemetry/api version registered the globals first, so the SDK could not register its own, and spans will not nest. Install one copy of @opentelemetry/api (a peer dependency of @spanlens/sdk) or register a context manager with the app\'s copy',
    )
  }

  const target = config.tracerProvider ?? (config.useGlobalProvider ? globalProvider() : undefined)
  let tracer: Tracer
  let spanWriter: SpanWriter | undefined
  let standalone = false
  let detach = (): void => {}
  if (target && attach(target, processor)) {
    tracer = target.getTracer(SCOPE_NAME, SDK_VERSION)
    detach = () => detachProcessor(target, processor)
  } else {
    if (config.tracerProvider) diag.warnOnce('the given tracerProvider cannot take a span processor; using a private one')
    // Only the SDK's own provider reads these variables: an app's provider has read them for itself.
    for (const warning of config.tracing.warnings) diag.warnOnce(warning)
    standalone = true
    const own = new SpanlensTracerProvider({
      resource: { attributes: resourceDefaults },
      sampler: samplerFor(config.tracing),
      limits: config.tracing.limits,
      ids: idGenerator,
      processor,
      redact,
    }).tracerFor(SCOPE_NAME, SDK_VERSION)
    tracer = own
    spanWriter = spanWriterFor(own)
  }

  // Describing a call's request, recording its response, writing its span and encoding it wait
  // ENDS_DELAY_MS and run once for the calls that ended meanwhile: per call they were ~half the SDK's
  // CPU, and run after every call they landed in the next call's time (bench/sdk/RESULTS.md).
  const ends = new SoonBatch<LlmCall>(
    (calls) => {
      for (const call of calls) call.finish()
      exporter.encodeNow()
    },
    256,
    ENDS_DELAY_MS,
  )
  const removeExitHooks = installExitHooks(
    {
      drain: () => ends.drain(),
      unsent: () => exporter.unsent,
      flush: (ms) => flush(ms),
      abandon: () => {
        reportAwaitedUncalled()
        ends.drain()
        exporter.abandon()
        const lost = scores.close()
        if (lost > 0) {
          diag.stats.scoreFailures += lost
          diag.warnOnce(`${lost} score() calls not awaited had no reply yet when the process exited and may be lost; await score(), or flush(), to wait for them`)
        }
      },
    },
    config.flushOnExit,
  )
  setRuntime({
    config,
    tracer,
    exporter,
    scores,
    mode: standalone ? 'standalone' : 'attached',
    ends,
    spanWriter,
    redact,
    content: (key, value, more) => toJson(value, maxContent, key, redact, more),
    payload: (key, value, more) => toJson(value, maxContent, key, redact, more, true),
    dispose: async () => {
      reportAwaitedUncalled()
      removeExitHooks()
      ends.drain()
      detach()
      const [spansSent, scoresSettled] = await Promise.all([exporter.shutdown(), scores.flush(config.exportTimeoutMs)])
      scores.close()
      if (ownsContext) context.disable()
      return spansSent && scoresSettled
    },
  })
  diag.debug(`initialized (${standalone ? 'standalone' : 'attached to the app provider'}), exporting to ${shownUrl(config.tracesUrl)}`)
}

/** `redactor` for `key`'s value, made only for a cut: a closure in `exported` would allocate its context on every attribute. */
function redactorFor(redactor: (value: string, key: string) => string, key: string): (value: string) => string {
  return (v) => redactor(v, key)
}

function resourceAttributes(config: ResolvedConfig): Record<string, string> {
  const attrs: Record<string, string> = {
    'service.name': config.serviceName,
    'telemetry.sdk.name': SCOPE_NAME,
    'telemetry.sdk.language': 'nodejs',
    'telemetry.sdk.version': SDK_VERSION,
  }
  if (config.environment) attrs['deployment.environment.name'] = config.environment
  if (config.release) attrs['service.version'] = config.release
  return attrs
}

/**
 * The app's provider, behind the API's global proxy. Found by its shape, not by
 * `instanceof ProxyTracerProvider`: the proxy is an instance of the class of whichever copy of
 * @opentelemetry/api registered it, and the API's globals are shared by every copy of a major
 * version, so an app on another version (a second copy in node_modules) has a proxy of another class.
 */
function globalProvider(): TracerProvider | undefined {
  const p = trace.getTracerProvider() as TracerProvider & { getDelegate?: () => TracerProvider }
  return typeof p.getDelegate === 'function' ? p.getDelegate() : p
}

const CONTEXT_PROBE = createContextKey('spanlens.context-probe')

/**
 * Whether the global context manager carries a value into a callback. Registration needs the
 * exact version of the copy that registered first (the API's rule), so with two copies the SDK's
 * can fail while none is registered, and every context is then the root one.
 */
function contextPropagates(): boolean {
  return context.with(ROOT_CONTEXT.setValue(CONTEXT_PROBE, true), () => context.active().getValue(CONTEXT_PROBE) === true)
}

interface ProcessorHost {
  addSpanProcessor?: (p: SpanProcessor) => void
  _activeSpanProcessor?: { _spanProcessors?: SpanProcessor[] }
}

/**
 * sdk-trace-base 1.x has addSpanProcessor; 2.x only takes processors in its
 * constructor, so we join its MultiSpanProcessor list (same effect, and the
 * tracers it already handed out see the new processor too).
 */
function attach(provider: TracerProvider, processor: SpanProcessor): boolean {
  const host = provider as TracerProvider & ProcessorHost
  try {
    if (Array.isArray(host._activeSpanProcessor?._spanProcessors)) {
      host._activeSpanProcessor._spanProcessors.push(processor)
      return true
    }
    if (typeof host.addSpanProcessor === 'function') {
      host.addSpanProcessor(processor)
      return true
    }
  } catch (err) {
    diag.instrumentationError('attach to tracer provider', err)
  }
  return false
}

function detachProcessor(provider: TracerProvider, processor: SpanProcessor): void {
  const list = (provider as ProcessorHost)._activeSpanProcessor?._spanProcessors
  if (Array.isArray(list)) {
    const i = list.indexOf(processor)
    if (i >= 0) list.splice(i, 1)
  }
}

/**
 * Sends every queued span now, and waits for the scores in flight. Resolves true when the server
 * accepted all the spans and every score settled in time; false when time ran out or any span was
 * dropped meanwhile (refused, retries spent); never rejects.
 */
export async function flush(timeoutMs?: number): Promise<boolean> {
  const rt = getRuntime()
  if (!rt) return stopping ?? true
  try {
    rt.ends.drain()
    const ms = waitMs(timeoutMs, rt.config.exportTimeoutMs)
    const [spans, scores] = await Promise.all([rt.exporter.flush(ms), rt.scores.flush(ms)])
    return spans && scores
  } catch (err) {
    diag.instrumentationError('flush', err)
    return false
  }
}

/** The longest delay setTimeout takes; a longer one (say Infinity) fires after 1 ms, with a process warning. */
const MAX_TIMER_MS = 2 ** 31 - 1

/** flush()'s timeout as a timer takes it: the default when it is not a number, at most MAX_TIMER_MS, a negative one as 0. */
function waitMs(given: unknown, fallback: number): number {
  if (typeof given !== 'number' || Number.isNaN(given)) return fallback
  return Math.min(Math.max(given, 0), MAX_TIMER_MS)
}

/**
 * The shutdown in progress: whether it sent everything. A second shutdown() or a flush() meanwhile
 * waits for it, as OpenTelemetry JS's shutdown() does, rather than resolving while spans are still
 * on their way: an app whose two exit paths each call shutdown() and then exit would lose them.
 */
let stopping: Promise<boolean> | undefined

/** Flushes, stops the exporter and detaches. `init()` may be called again afterwards. */
export async function shutdown(): Promise<void> {
  const rt = getRuntime()
  if (!rt) {
    await stopping
    return
  }
  setRuntime(undefined)
  const done = rt.dispose().catch((err: unknown) => {
    diag.instrumentationError('shutdown', err)
    return false
  })
  stopping = done
  await done
  if (stopping === done) stopping = undefined
}

/** Counters of what the SDK did and dropped; a snapshot, cheap to call. */
export function getStats(): SdkStats & { queued: number } {
  return { ...diag.stats, queued: getRuntime()?.exporter.pending ?? 0 }
}
