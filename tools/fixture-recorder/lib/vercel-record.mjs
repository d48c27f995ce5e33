// Shared by libs/vercel-ai (ai v6: legacy `ai.*` spans via experimental_telemetry) and
// libs/vercel-ai-v7 (ai v7 + @ai-sdk/otel OpenTelemetry integration: `gen_ai.*` spans).
// The lib folder passes its own modules (different versions).
import { PROMPTS, USER_ID, SESSION_ID, OPENAI_BASE_URL, FAKE_API_KEY, runScenarios } from './scenario.mjs';

export async function recordVercel({ convention, ai, createOpenAI, z, v7, flush, shutdown }) {
  const { generateText, streamText, generateObject, embed, tool, stepCountIs } = ai;
  const openai = createOpenAI({ baseURL: OPENAI_BASE_URL, apiKey: FAKE_API_KEY });
  const chatModel = openai.chat('gpt-4o-mini'); // Chat Completions API (the fake provider speaks it)
  const embeddingModel = (openai.embedding ?? openai.textEmbeddingModel)('text-embedding-3-small');

  // v6: experimental_telemetry with metadata; v7: telemetry + runtimeContext filtered by includeRuntimeContext
  const tel = (functionId) =>
    v7
      ? {
          telemetry: { functionId, includeRuntimeContext: { userId: true, sessionId: true } },
          runtimeContext: { userId: USER_ID, sessionId: SESSION_ID, secret: 'not-exported' },
        }
      : { experimental_telemetry: { isEnabled: true, functionId, metadata: { userId: USER_ID, sessionId: SESSION_ID } } };
  const telDesc = v7
    ? `telemetry {functionId, includeRuntimeContext:{userId,sessionId}} + runtimeContext {userId:"${USER_ID}", sessionId:"${SESSION_ID}"}`
    : `experimental_telemetry {isEnabled:true, functionId, metadata:{userId:"${USER_ID}", sessionId:"${SESSION_ID}"}}`;

  const weather = tool({
    description: 'Get the current weather for a city',
    inputSchema: z.object({ city: z.string().describe('City name') }),
    execute: async ({ city }) => ({ city, forecast: 'sunny', temperature_c: 22 }),
  });

  const scenarios = [
    {
      name: 'generate-text',
      description: `generateText(openai.chat("gpt-4o-mini"), system "${PROMPTS.system}", prompt "${PROMPTS.chat}", temperature 0.2, maxOutputTokens 50); ${telDesc}`,
      run: () => generateText({ model: chatModel, system: PROMPTS.system, prompt: PROMPTS.chat, temperature: 0.2, maxOutputTokens: 50, ...tel('fixture-generate-text') }),
    },
    {
      name: 'generate-text-pii',
      description: `generateText with an email address in prompt and answer, prompt "${PROMPTS.pii}"; ${telDesc}`,
      run: () => generateText({ model: chatModel, prompt: PROMPTS.pii, ...tel('fixture-generate-text-pii') }),
    },
    {
      name: 'stream-text',
      description: `streamText prompt "${PROMPTS.stream}" (the @ai-sdk/openai provider sends stream_options.include_usage=true); ${telDesc}`,
      run: async () => {
        const r = streamText({ model: chatModel, prompt: PROMPTS.stream, ...tel('fixture-stream-text') });
        let t = '';
        for await (const d of r.textStream) t += d;
        await r.usage;
        return t;
      },
    },
    {
      name: 'stream-text-tools',
      description: `streamText with tools {get_weather} and stopWhen stepCountIs(3): step 1 streams a get_weather({"city":"Paris"}) tool call (finish tool_calls), the SDK executes the tool, step 2 streams "It is sunny and 22°C in Paris."; prompt "${PROMPTS.tool}"; ${telDesc}`,
      run: async () => {
        const r = streamText({ model: chatModel, prompt: PROMPTS.tool, tools: { get_weather: weather }, stopWhen: stepCountIs(3), ...tel('fixture-stream-text-tools') });
        for await (const _ of r.fullStream);
        await r.usage;
      },
    },
    {
      name: 'generate-object',
      description: `${v7 ? 'generateText({output: Output.object(...)})' : 'generateObject'} with zod schema {name:string, age:number}, prompt "${PROMPTS.object}" (response_format json_schema; fake provider answers {"name":"Ada Lovelace","age":4.5}); ${telDesc}`,
      // v7 deprecates generateObject: use its replacement generateText({ output: Output.object(...) })
      run: () =>
        v7
          ? generateText({ model: chatModel, output: ai.Output.object({ schema: z.object({ name: z.string(), age: z.number() }) }), prompt: PROMPTS.object, ...tel('fixture-generate-object') })
          : generateObject({ model: chatModel, schema: z.object({ name: z.string(), age: z.number() }), prompt: PROMPTS.object, ...tel('fixture-generate-object') }),
    },
    {
      name: 'embed',
      description: `embed(openai embedding "text-embedding-3-small", value "${PROMPTS.embed}"); ${telDesc}`,
      run: () => embed({ model: embeddingModel, value: PROMPTS.embed, ...tel('fixture-embed') }),
    },
    {
      name: 'error-429',
      description: `generateText that gets HTTP 429 rate_limit_exceeded (maxRetries 0); prompt "${PROMPTS.error}"; ${telDesc}`,
      expectError: true,
      run: () => generateText({ model: chatModel, prompt: PROMPTS.error, maxRetries: 0, ...tel('fixture-error') }),
    },
  ];
  return runScenarios({ convention, scenarios, flush, shutdown });
}
