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
import { PROVIDER_URL, COLLECTOR_URL, PROMPTS, USER_ID, SESSION_ID, runScenarios } from '../../lib/scenario.mjs';
import { ANTHROPIC_REQUEST_MODEL as MODEL } from '../../lib/fake-provider.mjs';

const provider = new NodeTracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'fixture-openinference-anthropic' }),
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${COLLECTOR_URL}/v1/traces` }))],
});
provider.register();

const require = createRequire(import.meta.url);
const AnthropicModule = require('@anthropic-ai/sdk');
new AnthropicInstrumentation({ tracerProvider: provider }).manuallyInstrument(AnthropicModule);
const client = new AnthropicModule.Anthropic({ apiKey: 'sk-ant-fixture-not-a-real-key', baseURL: PROVIDER_URL, maxRetries: 0 });

const WEATHER_TOOL = {
  name: 'get_weather',
  description: 'Get the current weather for a city',
  input_schema: { type: 'object', properties: { city: { type: 'string', description: 'City name' } }, required: ['city'] },
};
const withUser = (fn) => context.with(setUser(setSession(context.active(), { sessionId: SESSION_ID }), { userId: USER_ID }), fn);

const scenarios = [
  {
    name: 'chat',
    description: `messages.create non-streaming, model ${MODEL}; system "${PROMPTS.system}" + user "${PROMPTS.chat}"; temperature 0.2, max_tokens 50; the provider reports cache reads and writes`,
    run: () => client.messages.create({ model: MODEL, max_tokens: 50, temperature: 0.2, system: PROMPTS.system, messages: [{ role: 'user', content: PROMPTS.chat }] }),
  },
  {
    name: 'stream',
    description: `messages.create stream:true (SSE message_start ... message_stop), read to the end; user "${PROMPTS.stream}"`,
    run: async () => {
      const stream = await client.messages.create({ model: MODEL, max_tokens: 50, messages: [{ role: 'user', content: PROMPTS.stream }], stream: true });
      let text = '';
      for await (const ev of stream) if (ev.type === 'content_block_delta' && ev.delta.type === 'text_delta') text += ev.delta.text;
      return text;
    },
  },
  {
    name: 'tool-call',
    description: `traceChain("weather_chain") > two messages.create calls: 1) tools=[get_weather] -> stop_reason tool_use get_weather({"city":"Paris"}); traceTool("get_weather"); 2) tool_result sent back -> "It is sunny and 22°C in Paris."; user "${PROMPTS.tool}"`,
    run: () =>
      traceChain(
        async () => {
          const messages = [{ role: 'user', content: PROMPTS.tool }];
          const first = await client.messages.create({ model: MODEL, max_tokens: 200, messages, tools: [WEATHER_TOOL] });
          const call = first.content.find((b) => b.type === 'tool_use');
          const result = await traceTool(async (args) => ({ city: args.city, forecast: 'sunny', temperature_c: 22 }), { name: 'get_weather' })(call.input);
          messages.push({ role: 'assistant', content: first.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: JSON.stringify(result) }] });
          return client.messages.create({ model: MODEL, max_tokens: 200, messages, tools: [WEATHER_TOOL] });
        },
        { name: 'weather_chain' },
      )(),
  },
  {
    name: 'error-429',
    description: `messages.create that gets HTTP 429 rate_limit_error (client maxRetries 0); user "${PROMPTS.error}"`,
    expectError: true,
    run: () => client.messages.create({ model: MODEL, max_tokens: 50, messages: [{ role: 'user', content: PROMPTS.error }] }),
  },
].map((s) => ({ ...s, description: `${s.description}; inside context setSession({sessionId:"${SESSION_ID}"}) + setUser({userId:"${USER_ID}"})`, run: () => withUser(s.run) }));

const failures = await runScenarios({ convention: 'openinference-anthropic', scenarios, flush: () => provider.forceFlush(), shutdown: () => provider.shutdown() });
process.exit(failures ? 1 : 0);
