// Scenarios shared by every library that instruments the official `@anthropic-ai/sdk`
// (OpenLLMetry's and OpenInference's Anthropic instrumentations). `client` is a REAL
// Anthropic instance pointed at the fake provider. `chain(name, fn)` and
// `tool(name, fn, input)` let the library add its own workflow and tool spans around the
// tool-call scenario, `chainLabel`/`toolLabel` say how in the manifest.
import { PROMPTS } from './scenario.mjs';
import { ANTHROPIC_REQUEST_MODEL as MODEL } from './fake-provider.mjs';

const WEATHER_TOOL = {
  name: 'get_weather',
  description: 'Get the current weather for a city',
  input_schema: { type: 'object', properties: { city: { type: 'string', description: 'City name' } }, required: ['city'] },
};

export function anthropicScenarios(client, { chain, tool, chainLabel, toolLabel }) {
  return [
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
      description: `${chainLabel} > two messages.create calls: 1) tools=[get_weather] -> stop_reason tool_use get_weather({"city":"Paris"}); ${toolLabel}; 2) tool_result sent back -> "It is sunny and 22°C in Paris."; user "${PROMPTS.tool}"`,
      run: () =>
        chain(async () => {
          const messages = [{ role: 'user', content: PROMPTS.tool }];
          const first = await client.messages.create({ model: MODEL, max_tokens: 200, messages, tools: [WEATHER_TOOL] });
          const call = first.content.find((b) => b.type === 'tool_use');
          const result = await tool(async (args) => ({ city: args.city, forecast: 'sunny', temperature_c: 22 }), call.input);
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
  ];
}
