import { afterAll } from 'vitest'

/**
 * setupFile of every project whose files share a process (vitest.config.ts, isolate: false).
 * It runs before each file is imported: the file starts with no OpenTelemetry API registered
 * (the SDK's tests and the examples register a tracer provider, a context manager and a
 * propagator globally, and the API refuses a second registration while one is in place), and
 * after the file the process environment is what it was before it, so a variable a file set
 * does not configure the next file's servers and SDK.
 */
const OTEL_API = Symbol.for('opentelemetry.js.api.1')
const globals = globalThis as Record<symbol, unknown>
delete globals[OTEL_API]

const env = { ...process.env }
afterAll(() => {
  for (const key of Object.keys(process.env)) if (!(key in env)) delete process.env[key]
  Object.assign(process.env, env)
  delete globals[OTEL_API]
})
