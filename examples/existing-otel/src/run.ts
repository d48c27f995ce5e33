import type { SpanExporter } from '@opentelemetry/sdk-trace-node'
import { withFakeProviderByDefault } from '@spanlens/fake-llm'
import { main } from './main.js'

// Stands in for the app's existing backend: one line per span it receives.
const appExporter: SpanExporter = {
  export(spans, done) {
    for (const s of spans) console.log(`[app exporter] ${s.name}  trace=${s.spanContext().traceId} span=${s.spanContext().spanId} parent=${s.parentSpanContext?.spanId ?? '-'}`)
    done({ code: 0 })
  },
  shutdown: async () => undefined,
}

const answers = await withFakeProviderByDefault(() => main({ appExporter }))
console.log(answers.join('\n'))
console.error(`spans sent to ${process.env.SPANLENS_ENDPOINT ?? 'http://localhost:4318'}`)
