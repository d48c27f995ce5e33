// Plain OpenTelemetry JS exporters (no GenAI): OTLP/HTTP protobuf and OTLP/HTTP JSON, each also
// with gzip compression. Spans: an HTTP server root span with a child DB client span (events,
// a link, an exception, ERROR status, array/bool/double/int attributes).
import { context, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { COLLECTOR_URL, runScenarios } from '../../lib/scenario.mjs';

const url = `${COLLECTOR_URL}/v1/traces`;
const variants = [
  { name: 'proto', library: '@opentelemetry/exporter-trace-otlp-proto', make: () => new ProtoExporter({ url }) },
  { name: 'proto-gzip', library: '@opentelemetry/exporter-trace-otlp-proto', make: () => new ProtoExporter({ url, compression: 'gzip' }) },
  { name: 'json', library: '@opentelemetry/exporter-trace-otlp-http', make: () => new JsonExporter({ url, headers: { Authorization: 'Bearer sl-fixture-ingest-key' } }) },
  { name: 'json-gzip', library: '@opentelemetry/exporter-trace-otlp-http', make: () => new JsonExporter({ url, compression: 'gzip' }) },
];

let current;
const scenarios = variants.map((v) => ({
  name: v.name,
  library: v.library,
  description: `${v.library}${v.name.endsWith('gzip') ? ' with compression "gzip"' : ''}${v.name === 'json' ? ' with headers {Authorization: "Bearer sl-fixture-ingest-key"}' : ''}: root SERVER span "GET /users/:id" (http.* attrs, 200) with child CLIENT span "SELECT users" (db.* attrs, event "cache.miss", a link, recordException + ERROR status)`,
  run: async () => {
    current = new NodeTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'fixture-otel-plain', 'service.version': '1.2.3', 'deployment.environment.name': 'test' }),
      spanProcessors: [new BatchSpanProcessor(v.make())],
    });
    const tracer = current.getTracer('fixture-plain', '0.1.0');
    const root = tracer.startSpan('GET /users/:id', {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': 'GET', 'url.path': '/users/42', 'http.route': '/users/:id', 'http.response.status_code': 200, 'server.port': 8080, 'user_agent.original': 'curl/8.0' },
    });
    const ctx = trace.setSpan(context.active(), root);
    const linked = tracer.startSpan('background-job', { kind: SpanKind.CONSUMER }, ctx);
    linked.end();
    const db = tracer.startSpan(
      'SELECT users',
      {
        kind: SpanKind.CLIENT,
        attributes: { 'db.system.name': 'postgresql', 'db.query.text': 'SELECT * FROM users WHERE id = $1', 'db.response.returned_rows': 1, 'cache.hit_ratio': 0.25, 'feature.flags': ['a', 'b'], retry: false },
        links: [{ context: linked.spanContext(), attributes: { 'link.reason': 'fanout' } }],
      },
      ctx,
    );
    db.addEvent('cache.miss', { 'cache.key': 'user:42' });
    db.recordException(new Error('connection reset'));
    db.setStatus({ code: SpanStatusCode.ERROR, message: 'connection reset' });
    db.end();
    root.end();
  },
}));

const failures = await runScenarios({
  convention: 'otel-plain',
  scenarios,
  flush: async () => {
    await current.forceFlush();
    await current.shutdown();
  },
});
process.exit(failures ? 1 : 0);
