// OpenInference's Anthropic instrumentation (REAL @arizeai/openinference-instrumentation-anthropic)
// on a REAL @anthropic-ai/sdk that traces itself (since 0.134.0: `anthropic.messages.create`,
// scope com.anthropic.sdk.typescript, with the global tracer provider registered here). Each call
// is reported twice, OpenInference's LLM span being the parent of the SDK's. The SDK's tracing is
// left at its defaults (on, content mode metadata_only). 0.137.0 is the SDK the openllmetry-anthropic
// recordings use (Traceloop 0.27 cannot patch 1.x), so the two pairs differ only in the outer library.
import { createRequire } from 'node:module';
import { context } from '@opentelemetry/api';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { AnthropicInstrumentation } from '@arizeai/openinference-instrumentation-anthropic';
import { traceChain, traceTool, setSession, setUser } from '@arizeai/openinference-core';
import { PROVIDER_URL, COLLECTOR_URL, USER_ID, SESSION_ID, runScenarios } from '../../lib/scenario.mjs';
import { anthropicScenarios } from '../../lib/anthropic-scenarios.mjs';

const provider = new NodeTracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'fixture-openinference-anthropic' }),
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${COLLECTOR_URL}/v1/traces` }))],
});
provider.register();

const require = createRequire(import.meta.url);
const AnthropicModule = require('@anthropic-ai/sdk');
new AnthropicInstrumentation({ tracerProvider: provider }).manuallyInstrument(AnthropicModule);
const client = new AnthropicModule.Anthropic({ apiKey: 'sk-ant-fixture-not-a-real-key', baseURL: PROVIDER_URL, maxRetries: 0 });

const withUser = (fn) => context.with(setUser(setSession(context.active(), { sessionId: SESSION_ID }), { userId: USER_ID }), fn);

const scenarios = anthropicScenarios(client, {
  chain: (fn) => traceChain(fn, { name: 'weather_chain' })(),
  tool: (fn, input) => traceTool(fn, { name: 'get_weather' })(input),
  chainLabel: 'traceChain("weather_chain")',
  toolLabel: 'traceTool("get_weather")',
}).map((s) => ({ ...s, description: `${s.description}; inside context setSession({sessionId:"${SESSION_ID}"}) + setUser({userId:"${USER_ID}"})`, run: () => withUser(s.run) }));

const failures = await runScenarios({ convention: 'openinference-anthropic', scenarios, flush: () => provider.forceFlush(), shutdown: () => provider.shutdown() });
process.exit(failures ? 1 : 0);
