// @opentelemetry/instrumentation-openai (opentelemetry-js-contrib), current version, on the
// OTel JS 3.x SDK line (@opentelemetry/api 1.10). Message content is only emitted through the
// Logs API (log records named gen_ai.*.message / gen_ai.choice), so the OTLP logs export is
// captured as well (<scenario>.logs.pb).
import { createRequire } from 'node:module';
import { context } from '@opentelemetry/api';
import { TracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { LoggerProvider, BatchLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { OpenAIInstrumentation } from '@opentelemetry/instrumentation-openai';
import { COLLECTOR_URL, OPENAI_BASE_URL, FAKE_API_KEY, runScenarios } from '../../lib/scenario.mjs';
import { openaiScenarios } from '../../lib/openai-scenarios.mjs';

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const resource = resourceFromAttributes({ 'service.name': 'fixture-otel-genai', 'deployment.environment.name': 'test' });
const tracerProvider = new TracerProvider({ resource, spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${COLLECTOR_URL}/v1/traces` }) })] });
const loggerProvider = new LoggerProvider({ resource, processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `${COLLECTOR_URL}/v1/logs` }) })] });
registerInstrumentations({ tracerProvider, loggerProvider, instrumentations: [new OpenAIInstrumentation({ captureMessageContent: true })] });

const require = createRequire(import.meta.url);
const { OpenAI } = require('openai'); // CJS require so require-in-the-middle patches it
const client = new OpenAI({ apiKey: FAKE_API_KEY, baseURL: OPENAI_BASE_URL, maxRetries: 0 });

const failures = await runScenarios({
  convention: 'otel-genai',
  scenarios: openaiScenarios(client, { responses: true }),
  flush: async () => {
    await tracerProvider.forceFlush();
    await loggerProvider.forceFlush();
  },
  shutdown: async () => {
    await tracerProvider.shutdown();
    await loggerProvider.shutdown();
  },
});
process.exit(failures ? 1 : 0);
