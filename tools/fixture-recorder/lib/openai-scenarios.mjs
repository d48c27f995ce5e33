// Scenarios shared by every library that instruments the official `openai` client
// (OTel contrib, Elastic, OpenLLMetry, OpenInference). `client` is a REAL openai.OpenAI
// instance pointed at the fake provider. `wrap(kind, name, fn)` lets a framework add its
// own workflow/agent/tool span around a scenario (identity by default).
import { PROMPTS } from './scenario.mjs';

export const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Get the current weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string', description: 'City name' } }, required: ['city'], additionalProperties: false },
  },
};

export function openaiScenarios(client, { wrap = (_k, _n, fn) => fn(), responses = false, toolExec = async (args) => ({ city: args.city, forecast: 'sunny', temperature_c: 22 }) } = {}) {
  const list = [
    {
      name: 'chat',
      description: `chat.completions.create non-streaming; system "${PROMPTS.system}" + user "${PROMPTS.chat}"; temperature 0.2, max_tokens 50`,
      run: () =>
        client.chat.completions.create({
          model: 'gpt-4o-mini',
          messages: [
            { role: 'system', content: PROMPTS.system },
            { role: 'user', content: PROMPTS.chat },
          ],
          temperature: 0.2,
          max_tokens: 50,
        }),
    },
    {
      name: 'chat-pii',
      description: `chat.completions.create non-streaming with an email address in prompt and answer; user "${PROMPTS.pii}"`,
      run: () => client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: PROMPTS.pii }] }),
    },
    {
      name: 'stream',
      description: `chat.completions.create stream:true with stream_options.include_usage; user "${PROMPTS.stream}"`,
      run: async () => {
        const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: PROMPTS.stream }], stream: true, stream_options: { include_usage: true } });
        let text = '';
        for await (const chunk of stream) text += chunk.choices?.[0]?.delta?.content ?? '';
        return text;
      },
    },
    {
      name: 'stream-no-usage',
      description: `chat.completions.create stream:true WITHOUT include_usage (provider sends no usage); user "${PROMPTS.stream}"`,
      run: async () => {
        const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: PROMPTS.stream }], stream: true });
        for await (const _ of stream);
      },
    },
    {
      name: 'tool-call',
      description: `two chat.completions calls: 1) tools=[get_weather] -> finish tool_calls get_weather({"city":"Paris"}); 2) tool result sent back -> "It is sunny and 22°C in Paris." (wrapped in a framework workflow/agent/tool span when the library offers one); user "${PROMPTS.tool}"`,
      run: () =>
        wrap('workflow', 'weather_workflow', async () => {
          const messages = [{ role: 'user', content: PROMPTS.tool }];
          const first = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, tools: [WEATHER_TOOL] });
          const call = first.choices[0].message.tool_calls[0];
          const args = JSON.parse(call.function.arguments);
          const result = await wrap('tool', 'get_weather', () => toolExec(args));
          messages.push(first.choices[0].message);
          messages.push({ role: 'tool', tool_call_id: call.id, content: JSON.stringify(result) });
          return client.chat.completions.create({ model: 'gpt-4o-mini', messages, tools: [WEATHER_TOOL] });
        }),
    },
    {
      name: 'embeddings',
      description: `embeddings.create model text-embedding-3-small, input "${PROMPTS.embed}"`,
      run: () => client.embeddings.create({ model: 'text-embedding-3-small', input: PROMPTS.embed }),
    },
    {
      name: 'error-429',
      description: `chat.completions.create that gets HTTP 429 rate_limit_exceeded (client maxRetries 0); user "${PROMPTS.error}"`,
      expectError: true,
      run: () => client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: PROMPTS.error }] }),
    },
  ];
  if (responses)
    list.push({
      name: 'responses',
      description: `responses.create (OpenAI Responses API) non-streaming; instructions "${PROMPTS.system}", input "${PROMPTS.chat}"`,
      run: () => client.responses.create({ model: 'gpt-4o-mini', instructions: PROMPTS.system, input: PROMPTS.chat, max_output_tokens: 50 }),
    });
  return list;
}
