import { afterEach, describe, expect, it } from 'vitest'
import { init, isSpanlensSdkError, shutdown, SpanlensSdkError } from '../src/index.js'
import { resolveConfig } from '../src/config.js'

afterEach(() => shutdown())

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return isSpanlensSdkError(err) ? err.code : `not typed: ${String(err)}`
  }
  return undefined
}

describe('init options', () => {
  it('rejects bad options with SPANLENS_SDK_CONFIG_INVALID naming the option', () => {
    const bad: Record<string, unknown>[] = [
      { endpoint: 'not a url' },
      { endpoint: 'ftp://x' },
      { sampleRate: 2 },
      { maxQueueSize: 0 },
      { captureContent: 'yes' },
      { redact: 42 },
      { endpiont: 'http://typo' },
      { logger: { warn: 1 } },
      { redact: { builtins: ['email', 'nope'] } },
      { redact: { custom: [() => 'x', 1] } },
      { redact: { extra: true } },
      { maxRetries: 1.5 },
      { maxConcurrentExports: 65 },
      { headers: { a: 1 } },
      { serviceName: '' },
      { tracerProvider: {} },
      { spanFilter: 'all' },
    ]
    for (const opts of bad) expect(codeOf(() => init({ env: {}, ...opts }))).toBe('SPANLENS_SDK_CONFIG_INVALID')
    try {
      init({ env: { SPANLENS_SAMPLE_RATE: 'lots' } })
    } catch (err) {
      expect(err).toBeInstanceOf(SpanlensSdkError)
      expect((err as Error).message).toContain('sampleRate (from env SPANLENS_SAMPLE_RATE)')
    }
  })

  it('rejects, at init, an API key or header that cannot be sent, naming where it came from', () => {
    // A key read from a file keeps its newline: every export would fail, each dropping its batch.
    expect(() => resolveConfig({ env: {}, apiKey: 'sl_key\n' })).toThrow(/apiKey: must not contain a line break/)
    expect(() => resolveConfig({ env: { SPANLENS_API_KEY: 'sl_\rkey' } })).toThrow(/apiKey \(from env SPANLENS_API_KEY\)/)
    expect(() => resolveConfig({ env: {}, headers: { 'x-team': 'a\r\nx-injected: 1' } })).toThrow(/headers: header "x-team" has a line break/)
    expect(() => resolveConfig({ env: {}, headers: { 'x team': 'a' } })).toThrow(/headers: header name "x team" is not an HTTP token/)
    expect(() => resolveConfig({ env: { OTEL_EXPORTER_OTLP_HEADERS: 'x-a=ok%0Abad' } })).toThrow(/headers \(from env OTEL_EXPORTER_OTLP_HEADERS\)/)
    // Latin-1 and tabs are fine in a value, as HTTP allows.
    expect(resolveConfig({ env: {}, apiKey: 'sl_k', headers: { 'x-team': 'équipe\tml' } }).headers).toEqual({ 'x-team': 'équipe\tml', authorization: 'Bearer sl_k' })
  })

  it('takes headers as a plain object only, naming the option for a string, null, a list or a Map', () => {
    for (const bad of ['abc', null, ['x'], new Map([['x-a', 'b']]), 5]) {
      expect(() => resolveConfig({ env: {}, headers: bad as never })).toThrow(/^invalid Spanlens SDK option: headers: must be a plain object/)
    }
    expect(resolveConfig({ env: {}, headers: Object.assign(Object.create(null), { 'x-a': 'b' }) as Record<string, string> }).headers).toEqual({ 'x-a': 'b' })
  })

  it('lets an option header replace the OTEL_EXPORTER_OTLP_HEADERS entry of the same name, whatever its case', () => {
    const c = resolveConfig({ env: { OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=env,x-region=eu' }, headers: { 'X-Tenant': 'opt' } })
    expect(c.headers).toEqual({ 'x-tenant': 'opt', 'x-region': 'eu' })
    expect(resolveConfig({ env: {}, apiKey: 'sl_k', headers: { Authorization: 'Basic x', 'X-A': '1', 'x-a': '2' } }).headers).toEqual({ authorization: 'Bearer sl_k', 'x-a': '2' })
  })

  it('names an unknown option, and takes every valid form of each', () => {
    expect(() => resolveConfig({ env: {}, endpiont: 'http://typo' } as never)).toThrow(/endpiont/)
    const c = resolveConfig({
      env: { SPANLENS_ENABLED: '0', SPANLENS_DEBUG: '1', SPANLENS_SAMPLE_RATE: ' 0.5 ' },
      redact: { builtins: ['email'], custom: [(v) => v] },
      maxRetries: 0,
      maxQueueSize: 10,
      headers: { 'x-a': 'b' },
      logger: { debug() {}, warn() {}, error() {} },
    })
    expect(c).toMatchObject({ enabled: false, debug: true, sampleRate: 0.5, maxRetries: 0, maxQueueSize: 10, headers: { 'x-a': 'b' } })
    expect(c.redact.builtins).toEqual(['email'])
    expect(c.redact.custom).toHaveLength(1)
    expect(resolveConfig({ env: {}, redact: false }).redact).toEqual({ builtins: [], custom: [] })
    expect(resolveConfig({ env: {}, redact: { builtins: false } }).redact).toEqual({ builtins: [], custom: [] })
    expect(resolveConfig({ env: { SPANLENS_CAPTURE_CONTENT: 'true' } }).captureContent).toBe(true)
  })

  it('throws SPANLENS_SDK_ALREADY_INITIALIZED on a second init', () => {
    init({ env: {}, flushOnExit: false })
    expect(codeOf(() => init({ env: {} }))).toBe('SPANLENS_SDK_ALREADY_INITIALIZED')
  })

  it('falls back to env: SPANLENS_*, then the standard OTEL_* variables', () => {
    const c = resolveConfig({
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318/',
        OTEL_EXPORTER_OTLP_HEADERS: 'x-team=ml%20ops,Authorization=Bearer%20abc',
        OTEL_SERVICE_NAME: 'checkout',
        SPANLENS_CAPTURE_CONTENT: 'false',
        SPANLENS_SAMPLE_RATE: '0.25',
      },
    })
    expect(c).toMatchObject({
      tracesUrl: 'http://otel:4318/v1/traces',
      scoresUrl: 'http://otel:4318/api/v1/scores',
      serviceName: 'checkout',
      captureContent: false,
      sampleRate: 0.25,
      headers: { 'x-team': 'ml ops', authorization: 'Bearer abc' },
    })
    const d = resolveConfig({
      env: { SPANLENS_ENDPOINT: 'https://spanlens.example.com', SPANLENS_API_KEY: 'sl_k', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://ignored' },
      serviceName: 'explicit',
    })
    expect(d).toMatchObject({ endpoint: 'https://spanlens.example.com', serviceName: 'explicit', headers: { authorization: 'Bearer sl_k' } })
    expect(resolveConfig({ env: {} }).endpoint).toBe('http://localhost:4318')
  })

  it("takes OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as the traces URL itself, over OTEL_EXPORTER_OTLP_ENDPOINT and under the SDK's own, as OpenTelemetry's exporters do", () => {
    const urls = (env: Record<string, string>, endpoint?: string) => {
      const c = resolveConfig({ env, endpoint })
      return { tracesUrl: c.tracesUrl, scoresUrl: c.scoresUrl }
    }
    const traces = { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://collector.example.com:4318/v1/traces', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://general:4318' }
    expect(urls(traces)).toEqual({ tracesUrl: 'https://collector.example.com:4318/v1/traces', scoresUrl: 'https://collector.example.com:4318/api/v1/scores' })
    expect(urls({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://gw:8080/spanlens/v1/traces?tenant=a' })).toEqual({
      tracesUrl: 'http://gw:8080/spanlens/v1/traces?tenant=a',
      scoresUrl: 'http://gw:8080/spanlens/api/v1/scores?tenant=a',
    })
    // A traces URL of another shape is used as it is; the server's base is then its origin.
    expect(urls({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://gw:8080/ingest' })).toEqual({ tracesUrl: 'http://gw:8080/ingest', scoresUrl: 'http://gw:8080/api/v1/scores' })
    expect(urls({ ...traces, SPANLENS_ENDPOINT: 'http://own:4318' }).tracesUrl).toBe('http://own:4318/v1/traces')
    expect(urls(traces, 'http://option:4318').tracesUrl).toBe('http://option:4318/v1/traces')
    expect(codeOf(() => resolveConfig({ env: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'collector:4318' } }))).toBe('SPANLENS_SDK_CONFIG_INVALID')
    expect(() => resolveConfig({ env: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'collector:4318' } })).toThrow(/OTEL_EXPORTER_OTLP_TRACES_ENDPOINT/)
  })

  it('takes OTEL_EXPORTER_OTLP_TRACES_HEADERS over OTEL_EXPORTER_OTLP_HEADERS, and the headers option over both', () => {
    const c = resolveConfig({
      env: { OTEL_EXPORTER_OTLP_HEADERS: 'x-team=a,x-general=g', OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-team=b,x-traces=t' },
      headers: { 'X-Traces': 'option' },
    })
    expect(c.headers).toEqual({ 'x-team': 'b', 'x-general': 'g', 'x-traces': 'option' })
  })

  it("puts the traces and scores paths after an endpoint's path, keeping its query, as URLs, not joined strings", () => {
    const urls = (endpoint: string) => {
      const c = resolveConfig({ env: {}, endpoint })
      return [c.tracesUrl, c.scoresUrl]
    }
    expect(urls('http://127.0.0.1:4531?x=1')).toEqual(['http://127.0.0.1:4531/v1/traces?x=1', 'http://127.0.0.1:4531/api/v1/scores?x=1'])
    expect(urls('https://gw.example.com/spanlens/?x=1&y=2')).toEqual([
      'https://gw.example.com/spanlens/v1/traces?x=1&y=2',
      'https://gw.example.com/spanlens/api/v1/scores?x=1&y=2',
    ])
    expect(urls('http://u:p@h:4318//#frag')).toEqual(['http://u:p@h:4318/v1/traces', 'http://u:p@h:4318/api/v1/scores'])
    expect(resolveConfig({ env: { SPANLENS_ENDPOINT: 'http://h:4318/base?x=1' } }).endpoint).toBe('http://h:4318/base?x=1')
  })

  it('compresses exports with gzip unless the endpoint is on this host (loopback), or as told', () => {
    const compression = (endpoint: string, given?: 'gzip' | 'none') => resolveConfig({ env: {}, endpoint, compression: given }).compression
    expect(compression('https://spanlens.example.com')).toBe('gzip')
    expect(compression('http://10.0.0.7:4318')).toBe('gzip')
    expect(compression('http://localhost:4318')).toBe('none')
    expect(compression('http://127.0.0.1:4318')).toBe('none')
    expect(compression('http://127.1.2.3')).toBe('none')
    expect(compression('http://[::1]:4318')).toBe('none')
    expect(compression('http://127.0.0.1:4318', 'gzip')).toBe('gzip')
    expect(compression('https://spanlens.example.com', 'none')).toBe('none')
    expect(() => resolveConfig({ env: {}, compression: 'br' as never })).toThrow(/compression/)
  })
})

describe('environment variables the SDK does not read', () => {
  it('are named with the variable meant when one or two letters from an unset one (spans would go to the default endpoint unsaid)', () => {
    expect(resolveConfig({ env: { SPANLENS_ENDPONT: 'http://collector:4318' } }).envWarnings).toEqual([
      'SPANLENS_ENDPONT is not read by the SDK and is ignored; did you mean SPANLENS_ENDPOINT?',
    ])
    expect(resolveConfig({ env: { SPANLENS_APIKEY: 'k', SPANLENS_SERVICENAME: 'svc' } }).envWarnings).toEqual([
      'SPANLENS_APIKEY is not read by the SDK and is ignored; did you mean SPANLENS_API_KEY?',
      'SPANLENS_SERVICENAME is not read by the SDK and is ignored; did you mean SPANLENS_SERVICE_NAME?',
    ])
  })

  it("name the CLI's SPANLENS_URL set where the SDK has no endpoint, whose spans would go to the default one unsaid", () => {
    expect(resolveConfig({ env: { SPANLENS_URL: 'http://spanlens.internal:4318' } }).envWarnings).toEqual([
      "SPANLENS_URL is the CLI's variable and is not read by the SDK; spans go to http://localhost:4318/v1/traces: set SPANLENS_ENDPOINT, or init({ endpoint }), for the SDK",
    ])
    expect(resolveConfig({ env: { SPANLENS_URL: 'http://a:4318', SPANLENS_ENDPOINT: 'http://a:4318' } }).envWarnings).toEqual([])
    expect(resolveConfig({ env: { SPANLENS_URL: 'http://a:4318', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318' } }).envWarnings).toEqual([])
    expect(resolveConfig({ env: { SPANLENS_URL: 'http://a:4318' }, endpoint: 'http://a:4318' }).envWarnings).toEqual([])
  })

  it("leave alone another program's variable beside the SDK's own, names far from any, and empty values", () => {
    // The server's key list in a .env the app shares with it, the SDK's key set too.
    expect(resolveConfig({ env: { SPANLENS_API_KEYS: 'p1:k1', SPANLENS_API_KEY: 'k1' } }).envWarnings).toEqual([])
    expect(resolveConfig({ env: { SPANLENS_PORT: '4318', SPANLENS_DATA_DIR: '/data', SPANLENS_RETENTION_DAYS: '30' } }).envWarnings).toEqual([])
    expect(resolveConfig({ env: { SPANLENS_ENDPONT: '' } }).envWarnings).toEqual([])
    expect(resolveConfig({ env: { SPANLENS_ENDPOINT: 'http://a:4318', SPANLENS_ENDPONT: 'http://b:4318' } }).envWarnings).toEqual([])
  })
})
