// OpenLLMetry / Traceloop's Anthropic instrumentation (REAL @traceloop/node-server-sdk, which bundles
// @traceloop/instrumentation-anthropic) on a REAL @anthropic-ai/sdk that traces itself: since
// 0.134.0 the SDK starts its own CLIENT span (`anthropic.messages.create`, scope
// com.anthropic.sdk.typescript) with the global tracer provider, which Traceloop's initialize()
// registers. So each call is reported twice, Traceloop's span being the parent of the SDK's.
// The SDK's tracing is left at its defaults (on, content mode metadata_only), as an app that
// upgrades gets it.
process.env.TRACELOOP_TELEMETRY = 'false';
import { createRequire } from 'node:module';
import { PROVIDER_URL, COLLECTOR_URL, PROMPTS, USER_ID, SESSION_ID, runScenarios } from '../../lib/scenario.mjs';
import { ANTHROPIC_REQUEST_MODEL as MODEL } from '../../lib/fake-provider.mjs';

const require = createRequire(import.meta.url);
const traceloop = require('@traceloop/node-server-sdk');
const AnthropicModule = require('@anthropic-ai/sdk');

traceloop.initialize({
  appName: 'fixture-openllmetry-anthropic',
  apiKey: 'tl-fixture-api-key', // sent as "Authorization: Bearer tl-fixture-api-key"
  baseUrl: COLLECTOR_URL,
  disableBatch: false,
  traceContent: true,
  silenceInitializationMessage: true,
  instrumentModules: { anthropic: AnthropicModule },
});
await traceloop.waitForInitialization?.();
const client = new AnthropicModule.Anthropic({ apiKey: 'sk-ant-fixture-not-a-real-key', baseURL: PROVIDER_URL, maxRetries: 0 });

const WEATHER_TOOL = {
  name: 'get_weather',
  description: 'Get the current weather for a city',
  input_schema: { type: 'object', properties: { city: { type: 'string', description: 'City name' } }, required: ['city'] },
};
const withUser = (fn) => traceloop.withAssociationProperties({ user_id: USER_ID, session_id: SESSION_ID }, fn);

const scenarios = [
  {
    name: 'chat',
    description: `messages.create non-streaming, model ${MODEL}; system "${PROMPTS.system}" + user "${PROMPTS.chat}"; temperature 0.2, max_tokens 50; the provider reports cache reads and writes`,
    run: () =>
      client.messages.create({ model: MODEL, max_tokens: 50, temperature: 0.2, system: PROMPTS.system, messages: [{ role: 'user', content: PROMPTS.chat }] }),
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
    description: `withWorkflow("weather_workflow") > two messages.create calls: 1) tools=[get_weather] -> stop_reason tool_use get_weather({"city":"Paris"}); withTool("get_weather"); 2) tool_result sent back -> "It is sunny and 22°C in Paris."; user "${PROMPTS.tool}"`,
    run: () =>
      traceloop.withWorkflow({ name: 'weather_workflow' }, async () => {
        const messages = [{ role: 'user', content: PROMPTS.tool }];
        const first = await client.messages.create({ model: MODEL, max_tokens: 200, messages, tools: [WEATHER_TOOL] });
        const call = first.content.find((b) => b.type === 'tool_use');
        const result = await traceloop.withTool({ name: 'get_weather' }, async () => ({ city: call.input.city, forecast: 'sunny', temperature_c: 22 }));
        messages.push({ role: 'assistant', content: first.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: JSON.stringify(result) }] });
        return client.messages.create({ model: MODEL, max_tokens: 200, messages, tools: [WEATHER_TOOL] });
      }),
  },
  {
    name: 'error-429',
    description: `messages.create that gets HTTP 429 rate_limit_error (client maxRetries 0); user "${PROMPTS.error}"`,
    expectError: true,
    run: () => client.messages.create({ model: MODEL, max_tokens: 50, messages: [{ role: 'user', content: PROMPTS.error }] }),
  },
].map((s) => ({ ...s, description: `${s.description}; inside traceloop.withAssociationProperties({user_id:"${USER_ID}", session_id:"${SESSION_ID}"})`, run: () => withUser(s.run) }));

const failures = await runScenarios({ convention: 'openllmetry-anthropic', scenarios, flush: () => traceloop.forceFlush() });
process.exit(failures ? 1 : 0);
