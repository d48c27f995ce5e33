import { afterAll } from 'vitest'

/**
 * setupFile of the projects whose files share a process in the test script's first run
 * (vitest.config.ts, SPANLENS_TEST_SHARED_PROCESSES). It runs before each file is imported: the
 * file starts with no OpenTelemetry API registered (a tracer provider, context manager or
 * propagator registered globally stays, and the API refuses a second registration while one is
 * in place), and after the file the process environment is what it was before it, so a variable
 * a file set does not configure the next file's servers.
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
