import type { TracerProvider } from '@opentelemetry/api'
import { cliEndpointMistake, envMistakes } from './env-mistakes.js'
import type { FinishedSpan } from './trace/types.js'
import { tracingSettings, type TracingSettings } from './trace/sampler.js'
import type { DiagLogger } from './diag.js'
import { errors } from './errors.js'
import { headerProblem } from './export/http1-client.js'
import type { RedactFn, RedactOption, BuiltinPattern } from './redact.js'

/** Everything `init()` accepts. Every field is optional; env variables fill the gaps. */
export interface InitOptions {
  /** Spanlens server base URL, e.g. `https://spanlens.example.com`. Traces go to `{endpoint}/v1/traces` (its query kept). */
  endpoint?: string
  /** Project API key, sent as `Authorization: Bearer <apiKey>`. */
  apiKey?: string
  /** Extra HTTP headers for every export (merged over OTEL_EXPORTER_OTLP_HEADERS). */
  headers?: Record<string, string>
  serviceName?: string
  /** Stamped as `deployment.environment.name`. */
  environment?: string
  /** Stamped as `service.version`. */
  release?: string
  /** Record prompts and completions. Default true. */
  captureContent?: boolean
  /** Redaction of captured content before it leaves the process. Default: built-in patterns. */
  redact?: RedactOption
  /** Fraction of traces kept, 0..1, decided per trace id. Default 1. */
  sampleRate?: number
  /** `false` turns the SDK into a pass-through. Default true. */
  enabled?: boolean
  /** Most spans held in memory while the endpoint is slow or down; the oldest is dropped beyond. Default 2048. */
  maxQueueSize?: number
  /** Most spans per export request. Default 512. */
  maxBatchSize?: number
  /** Export requests in flight at once; each may hold a batch while it retries. Default 4. */
  maxConcurrentExports?: number
  /** How often queued spans are sent. Default 1000 ms. */
  flushIntervalMs?: number
  /** Per-request timeout. Default 10000 ms. */
  exportTimeoutMs?: number
  /** Export request bodies: `gzip`, or `none`. Default `gzip`, `none` when the endpoint is on this host (loopback). */
  compression?: 'gzip' | 'none'
  /** Retries of a retryable export failure before its batch is dropped. Default 5. */
  maxRetries?: number
  /** Longest content attribute kept, in characters; longer ones are truncated. Default 100000. */
  maxContentLength?: number
  /** Attach to this provider instead of the global one (see README "Alongside OpenTelemetry"). */
  tracerProvider?: TracerProvider
  /** Attach to the globally registered provider when there is one. Default true. */
  useGlobalProvider?: boolean
  /** Which spans to export; default all spans the processor sees. */
  spanFilter?: (span: FinishedSpan) => boolean
  /** Flush on `beforeExit` and SIGTERM. Default true. */
  flushOnExit?: boolean
  /** Where SDK diagnostics go. Default: console, warnings and errors only. */
  logger?: DiagLogger
  /** Log debug lines too (also SPANLENS_DEBUG=true). */
  debug?: boolean
  /** Environment to read instead of `process.env` (tests, edge runtimes). */
  env?: Record<string, string | undefined>
}

export interface ResolvedConfig {
  enabled: boolean
  /** The server's base URL. */
  endpoint: string
  tracesUrl: string
  scoresUrl: string
  headers: Record<string, string>
  serviceName: string
  environment: string | undefined
  release: string | undefined
  captureContent: boolean
  redact: { builtins: BuiltinPattern[]; custom: RedactFn[] }
  sampleRate: number
  maxQueueSize: number
  maxBatchSize: number
  maxConcurrentExports: number
  flushIntervalMs: number
  exportTimeoutMs: number
  compression: 'gzip' | 'none'
  maxRetries: number
  maxContentLength: number
  tracerProvider: TracerProvider | undefined
  useGlobalProvider: boolean
  spanFilter: ((span: FinishedSpan) => boolean) | undefined
  flushOnExit: boolean
  logger: DiagLogger | undefined
  debug: boolean
  /** The own provider's sampler and span limits, from OpenTelemetry's environment variables. */
  tracing: TracingSettings
  /** SPANLENS_* variables set but not read, each a letter or two from one that is (env-mistakes.ts). */
  envWarnings: string[]
}

const BUILTINS = ['email', 'phone', 'card', 'apiKey'] as const

/**
 * One rule per option: the parsed value, or a `Bad` saying what was wrong.
 * A table of small functions, not a zod schema: zod is ~3.2 MiB of heap once
 * loaded, in every app that installs the SDK, for checks this size (the SDK's
 * whole fixed heap overhead target is 5 MiB, bench/sdk/RESULTS.md).
 */
class Bad {
  constructor(readonly message: string) {}
}
type Rule = (v: unknown) => unknown

const isFn = (v: unknown): v is (...args: never[]) => unknown => typeof v === 'function'
const optional = (rule: Rule): Rule => (v) => (v === undefined ? undefined : rule(v))
const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : new Bad(typeof v === 'string' ? 'must not be empty' : 'must be a string'))
const url: Rule = (v) => {
  if (typeof v !== 'string') return new Bad('must be an http(s) URL')
  try {
    const u = new URL(v)
    return u.protocol === 'http:' || u.protocol === 'https:' ? v : new Bad('must be an http(s) URL')
  } catch {
    return new Bad('must be an http(s) URL')
  }
}
const bool: Rule = (v) =>
  typeof v === 'boolean' ? v : v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : new Bad('must be true or false (or "true", "false", "1", "0")')
/** Numbers may come as strings (from the environment). */
const num = (min: number, max: number, int: boolean): Rule => (v) => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN
  if (!Number.isFinite(n) || (int && !Number.isInteger(n)) || n < min || n > max) return new Bad(`must be ${int ? 'an integer' : 'a number'} from ${min} to ${max}`)
  return n
}
const posInt = (max: number) => num(1, max, true)
const fn: Rule = (v) => (isFn(v) ? v : new Bad('must be a function'))
const redact: Rule = (v) => {
  if (typeof v === 'boolean' || isFn(v)) return v
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return new Bad('must be true, false, a function or { builtins, custom }')
  const o = v as Record<string, unknown>
  for (const k of Object.keys(o)) if (k !== 'builtins' && k !== 'custom') return new Bad(`unknown key ${k}`)
  const b = o.builtins
  if (!(b === undefined || typeof b === 'boolean' || (Array.isArray(b) && b.every((x) => (BUILTINS as readonly unknown[]).includes(x)))))
    return new Bad(`builtins must be a boolean or a list of ${BUILTINS.join(', ')}`)
  const c = o.custom
  if (!(c === undefined || isFn(c) || (Array.isArray(c) && c.every(isFn)))) return new Bad('custom must be a function or a list of functions')
  return v
}
const headers: Rule = (v) => {
  // A plain object only: a Map or a fetch Headers has no own entries, and its headers would be dropped without a word.
  const proto: unknown = typeof v === 'object' && v !== null ? Object.getPrototypeOf(v) : undefined
  if (proto !== Object.prototype && proto !== null) return new Bad('must be a plain object mapping header names to strings')
  for (const [name, value] of Object.entries(v as object)) {
    if (typeof value !== 'string') return new Bad('must map header names to strings')
    // Checked here, not on the first export: a key read from a file with its newline would fail every request.
    const problem = headerProblem(name, value)
    if (problem) return new Bad(problem)
  }
  return v
}
/** Sent as `Authorization: Bearer <key>`, so it must fit in a header value. */
const apiKey: Rule = (v) => {
  const s = str(v)
  return typeof s === 'string' && headerProblem('authorization', s) ? new Bad('must not contain a line break or a control character') : s
}

const RULES = {
  endpoint: url,
  apiKey: optional(apiKey),
  headers,
  serviceName: str,
  environment: optional(str),
  release: optional(str),
  captureContent: bool,
  redact,
  sampleRate: num(0, 1, false),
  enabled: bool,
  maxQueueSize: posInt(1_000_000),
  maxBatchSize: posInt(100_000),
  maxConcurrentExports: posInt(64),
  flushIntervalMs: posInt(3_600_000),
  exportTimeoutMs: posInt(600_000),
  compression: optional((v) => (v === 'gzip' || v === 'none' ? v : new Bad('must be "gzip" or "none"'))),
  maxRetries: num(0, 100, true),
  maxContentLength: posInt(50_000_000),
  tracerProvider: optional((v) =>
    typeof v === 'object' && v !== null && typeof (v as TracerProvider).getTracer === 'function' ? v : new Bad('must be an OpenTelemetry TracerProvider'),
  ),
  useGlobalProvider: bool,
  spanFilter: optional(fn),
  flushOnExit: bool,
  logger: optional((v) =>
    typeof v === 'object' && v !== null && ['debug', 'warn', 'error'].every((k) => typeof (v as Record<string, unknown>)[k] === 'function')
      ? v
      : new Bad('must have debug, warn and error functions'),
  ),
  debug: bool,
} satisfies Record<string, Rule>

type Parsed = {
  endpoint: string
  apiKey: string | undefined
  headers: Record<string, string>
  serviceName: string
  environment: string | undefined
  release: string | undefined
  captureContent: boolean
  redact: RedactOption
  sampleRate: number
  enabled: boolean
  maxQueueSize: number
  maxBatchSize: number
  maxConcurrentExports: number
  flushIntervalMs: number
  exportTimeoutMs: number
  compression: 'gzip' | 'none' | undefined
  maxRetries: number
  maxContentLength: number
  tracerProvider: TracerProvider | undefined
  useGlobalProvider: boolean
  spanFilter: ((span: FinishedSpan) => boolean) | undefined
  flushOnExit: boolean
  logger: DiagLogger | undefined
  debug: boolean
}

/** Each option through its rule; the first bad one (or an unknown option) is reported with its name. */
function parse(merged: Record<string, unknown>): { ok: true; data: Parsed } | { ok: false; key: string; message: string } {
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(merged)) if (!(key in RULES)) return { ok: false, key, message: 'unknown option' }
  for (const [key, rule] of Object.entries(RULES) as [string, Rule][]) {
    const v = rule(merged[key])
    if (v instanceof Bad) return { ok: false, key, message: v.message }
    out[key] = v
  }
  return { ok: true, data: out as Parsed }
}

/** OpenTelemetry's variable for the traces URL itself, not a base URL (exportUrls). */
const TRACES_ENDPOINT = 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'

/**
 * Where each option may come from in the environment, first match wins. The OTEL_* ones in the order
 * OpenTelemetry's exporters read them, a signal's own variable before the general one, after the SDK's.
 */
const ENV: Partial<Record<keyof Parsed, string[]>> = {
  endpoint: ['SPANLENS_ENDPOINT', TRACES_ENDPOINT, 'OTEL_EXPORTER_OTLP_ENDPOINT'],
  apiKey: ['SPANLENS_API_KEY'],
  serviceName: ['SPANLENS_SERVICE_NAME', 'OTEL_SERVICE_NAME'],
  environment: ['SPANLENS_ENVIRONMENT'],
  release: ['SPANLENS_RELEASE'],
  captureContent: ['SPANLENS_CAPTURE_CONTENT'],
  sampleRate: ['SPANLENS_SAMPLE_RATE'],
  enabled: ['SPANLENS_ENABLED'],
  debug: ['SPANLENS_DEBUG'],
}

/** The SDK's own variables (the OTEL_* ones it reads are OpenTelemetry's, spelt by its spec). */
const SPANLENS_VARIABLES = Object.values(ENV)
  .flat()
  .filter((n) => n.startsWith('SPANLENS_'))

const DEFAULTS = {
  endpoint: 'http://localhost:4318',
  serviceName: 'unknown_service:node',
  captureContent: true,
  redact: true,
  sampleRate: 1,
  enabled: true,
  maxQueueSize: 2048,
  maxBatchSize: 512,
  maxConcurrentExports: 4,
  flushIntervalMs: 1000,
  exportTimeoutMs: 10_000,
  maxRetries: 5,
  maxContentLength: 100_000,
  useGlobalProvider: true,
  flushOnExit: true,
  debug: false,
}

/**
 * Resolves options over env over defaults and validates once. A bad value
 * throws SPANLENS_SDK_CONFIG_INVALID naming the option (and the env variable it
 * came from), so misconfiguration shows up at start-up, not as silent data loss.
 */
export function resolveConfig(options: InitOptions = {}): ResolvedConfig {
  if (typeof options !== 'object' || options === null) throw errors.CONFIG_INVALID('init() takes an options object')
  const { env: envOption, ...given } = options
  const env = envOption ?? process.env
  const source: Record<string, string> = {}
  const merged: Record<string, unknown> = { ...DEFAULTS }
  for (const [key, names] of Object.entries(ENV)) {
    const name = names?.find((n) => env[n] !== undefined && env[n] !== '')
    if (name) {
      merged[key] = env[name]
      source[key] = name
    }
  }
  for (const [key, value] of Object.entries(given)) {
    if (value !== undefined) {
      merged[key] = value
      delete source[key]
    }
  }
  // Checked before the merge: spread into it, a string gave one header per character and null gave none.
  const optionHeaders = given.headers === undefined ? {} : RULES.headers(given.headers)
  if (optionHeaders instanceof Bad) throw errors.CONFIG_INVALID(`headers: ${optionHeaders.message}`)
  // Names are case-insensitive in HTTP and the environment's are lowercased: lowercased too, an option's entry replaces the
  // variables', and the traces' own variable's the general one's, as in OpenTelemetry's exporters.
  merged.headers = {
    ...parseOtlpHeaders(env.OTEL_EXPORTER_OTLP_HEADERS),
    ...parseOtlpHeaders(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS),
    ...lowercaseNames(optionHeaders as Record<string, string>),
  }
  const headerVariables = ['OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_EXPORTER_OTLP_TRACES_HEADERS'].filter((n) => env[n])
  if (headerVariables.length > 0 && given.headers === undefined) source.headers = headerVariables.join(' or ')

  const parsed = parse(merged)
  if (!parsed.ok) {
    const from = source[parsed.key] ? ` (from env ${source[parsed.key]})` : ''
    throw errors.CONFIG_INVALID(`${parsed.key}${from}: ${parsed.message}`)
  }
  const v = parsed.data
  const urls = exportUrls(v.endpoint, source.endpoint === TRACES_ENDPOINT)
  const headers: Record<string, string> = { ...v.headers }
  if (v.apiKey) headers.authorization = `Bearer ${v.apiKey}`
  const endpointChosen = given.endpoint !== undefined || source.endpoint !== undefined
  return {
    enabled: v.enabled,
    ...urls,
    headers,
    serviceName: v.serviceName,
    environment: v.environment,
    release: v.release,
    captureContent: v.captureContent,
    redact: normalizeRedact(v.redact),
    sampleRate: v.sampleRate,
    maxQueueSize: v.maxQueueSize,
    maxBatchSize: v.maxBatchSize,
    maxConcurrentExports: v.maxConcurrentExports,
    flushIntervalMs: v.flushIntervalMs,
    exportTimeoutMs: v.exportTimeoutMs,
    compression: v.compression ?? (isLoopback(urls.endpoint) ? 'none' : 'gzip'),
    maxRetries: v.maxRetries,
    maxContentLength: v.maxContentLength,
    tracerProvider: v.tracerProvider,
    useGlobalProvider: v.useGlobalProvider,
    spanFilter: v.spanFilter,
    flushOnExit: v.flushOnExit,
    logger: v.logger,
    debug: v.debug,
    tracing: tracingSettings(env),
    envWarnings: [...envMistakes(env, SPANLENS_VARIABLES), ...cliEndpointMistake(env, endpointChosen, urls.tracesUrl)],
  }
}

const TRACES_PATH = '/v1/traces'

/**
 * Where traces and scores go, built with the URL API: joined as strings, `http://host?x=1` gave
 * `http://host?x=1/v1/traces`, a path no server has. A base URL (the option, SPANLENS_ENDPOINT,
 * OTEL_EXPORTER_OTLP_ENDPOINT) gets `/v1/traces` and `/api/v1/scores` after its path, its query kept.
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is the traces URL itself, used as it is, as OpenTelemetry's
 * exporters do; the server's base under it is what precedes its `/v1/traces`, or else its origin.
 */
function exportUrls(given: string, isTracesUrl: boolean): { endpoint: string; tracesUrl: string; scoresUrl: string } {
  const url = new URL(given)
  // A fragment is never sent; it would only end up in the path's place in the strings joined here.
  url.hash = ''
  let base = url.pathname.replace(/\/+$/, '')
  let tracesUrl: string | undefined
  if (isTracesUrl) {
    tracesUrl = url.href
    base = base.endsWith(TRACES_PATH) ? base.slice(0, -TRACES_PATH.length) : ''
  }
  const at = (path: string): string => {
    const u = new URL(url.href)
    u.pathname = `${base}${path}`
    return u.href
  }
  return { endpoint: `${url.origin}${base}${url.search}`, tracesUrl: tracesUrl ?? at(TRACES_PATH), scoresUrl: at('/api/v1/scores') }
}

function normalizeRedact(option: RedactOption): ResolvedConfig['redact'] {
  if (option === false) return { builtins: [], custom: [] }
  if (option === true) return { builtins: [...BUILTINS], custom: [] }
  if (typeof option === 'function') return { builtins: [...BUILTINS], custom: [option] }
  const builtins = option.builtins === false ? [] : Array.isArray(option.builtins) ? option.builtins : [...BUILTINS]
  const custom = option.custom === undefined ? [] : Array.isArray(option.custom) ? option.custom : [option.custom]
  return { builtins, custom }
}

/**
 * An endpoint on this host: a collector or server next to the app, reached over
 * loopback, where compressing saves no bandwidth and both sides pay its CPU
 * (gzip was ~5 µs of CPU per span in the app's process, bench/sdk/RESULTS.md).
 */
function isLoopback(endpoint: string): boolean {
  const host = new URL(endpoint).hostname
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host)
}

function lowercaseNames(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value
  return out
}

/** OTEL_EXPORTER_OTLP_HEADERS is `k1=v1,k2=v2` with URL-encoded values (OTel spec). */
function parseOtlpHeaders(raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  if (!raw) return out
  for (const pair of raw.split(',')) {
    const i = pair.indexOf('=')
    if (i <= 0) continue
    try {
      out[decodeURIComponent(pair.slice(0, i).trim()).toLowerCase()] = decodeURIComponent(pair.slice(i + 1).trim())
    } catch {
      // A malformed escape is skipped rather than failing start-up over an optional header.
    }
  }
  return out
}
