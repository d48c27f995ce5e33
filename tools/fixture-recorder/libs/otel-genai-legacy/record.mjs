// Older generation of the same OTel GenAI instrumentation: @elastic/opentelemetry-instrumentation-openai
// 0.4.0 (Nov 2024, the code base later donated to opentelemetry-js-contrib), on the 2024 OTel JS SDK
// line (sdk 1.29 / exporters 0.56) and openai v4. Emits gen_ai.system and content as LOG events
// (gen_ai.user.message, gen_ai.choice, ...). No npm JS instrumentation was found that emits
// per-message SPAN events or gen_ai.usage.prompt_tokens under OTel names (see README).
import { createRequire } from 'node:module';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Resource } from '@opentelemetry/resources';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { LoggerProvider, BatchLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { OpenAIInstrumentation } from '@elastic/opentelemetry-instrumentation-openai';
import { COLLECTOR_URL, OPENAI_BASE_URL, FAKE_API_KEY, runScenarios } from '../../lib/scenario.mjs';
import { openaiScenarios } from '../../lib/openai-scenarios.mjs';

const resource = new Resource({ 'service.name': 'fixture-otel-genai-legacy' });
const tracerProvider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${COLLECTOR_URL}/v1/traces` }))] });
tracerProvider.register();
const loggerProvider = new LoggerProvider({ resource });
loggerProvider.addLogRecordProcessor(new BatchLogRecordProcessor(new OTLPLogExporter({ url: `${COLLECTOR_URL}/v1/logs` })));
registerInstrumentations({ tracerProvider, loggerProvider, instrumentations: [new OpenAIInstrumentation({ captureMessageContent: true })] });

const require = createRequire(import.meta.url);
const { OpenAI } = require('openai');
const client = new OpenAI({ apiKey: FAKE_API_KEY, baseURL: OPENAI_BASE_URL, maxRetries: 0 });

const failures = await runScenarios({
  convention: 'otel-genai-legacy',
  scenarios: openaiScenarios(client),
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
