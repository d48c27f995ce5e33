// Langfuse JS SDK (OpenTelemetry based, v4+ generation; current major on npm is 5.x):
// @langfuse/otel LangfuseSpanProcessor -> OTLP/HTTP JSON to {baseUrl}/api/public/otel/v1/traces with
// Basic auth base64(publicKey:secretKey); @langfuse/tracing startActiveObservation / observe /
// propagateAttributes. Langfuse has no auto-instrumentation here: the app calls the (fake) provider
// itself (plain fetch) and reports model/usage/input/output on a `generation` observation, which is
// exactly how Langfuse users instrument custom clients. The `openai-*` scenarios use Langfuse's own
// OpenAI integration instead (@langfuse/openai observeOpenAI around a REAL openai client), which
// decides the model name and the usage_details keys itself.
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LangfuseSpanProcessor } from '@langfuse/otel';
import { startActiveObservation, startObservation, observe, propagateAttributes } from '@langfuse/tracing';
import { observeOpenAI } from '@langfuse/openai';
import OpenAI from 'openai';
import { COLLECTOR_URL, OPENAI_BASE_URL, FAKE_API_KEY, PROMPTS, USER_ID, SESSION_ID, runScenarios } from '../../lib/scenario.mjs';

const processor = new LangfuseSpanProcessor({
  publicKey: 'pk-lf-fixture-public',
  secretKey: 'sk-lf-fixture-secret',
  baseUrl: COLLECTOR_URL,
  environment: 'test',
  release: 'fixture-1.0.0',
});
const provider = new NodeTracerProvider({ resource: resourceFromAttributes({ 'service.name': 'fixture-langfuse' }), spanProcessors: [processor] });
provider.register();

async function callChat(body) {
  const res = await fetch(`${OPENAI_BASE_URL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${FAKE_API_KEY}` },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) {
    const e = new Error(`${res.status} ${json.error?.message}`);
    e.status = res.status;
    throw e;
  }
  return json;
}
const usageDetails = (u) => ({
  input: u.prompt_tokens,
  output: u.completion_tokens,
  total: u.total_tokens,
  input_cached_tokens: u.prompt_tokens_details?.cached_tokens ?? 0,
  output_reasoning_tokens: u.completion_tokens_details?.reasoning_tokens ?? 0,
});
const withTraceAttrs = (fn) => propagateAttributes({ userId: USER_ID, sessionId: SESSION_ID, tags: ['fixture'], metadata: { tenant: 'acme' }, traceName: 'fixture-trace' }, fn);

async function generation(name, messages, extra = {}) {
  return startActiveObservation(
    name,
    async (gen) => {
      gen.update({ model: 'gpt-4o-mini', modelParameters: { temperature: 0.2, max_tokens: 50 }, input: messages, ...extra });
      try {
        const r = await callChat({ model: 'gpt-4o-mini', messages, temperature: 0.2, max_tokens: 50, ...(extra.tools ? { tools: extra.tools } : {}) });
        gen.update({
          model: r.model,
          output: r.choices[0].message,
          usageDetails: usageDetails(r.usage),
          costDetails: { input: 0.0000035, output: 0.0000054, total: 0.0000089 },
          metadata: { finish_reason: r.choices[0].finish_reason, response_id: r.id },
        });
        return r;
      } catch (e) {
        gen.update({ level: 'ERROR', statusMessage: e.message });
        throw e;
      }
    },
    { asType: 'generation' },
  );
}

const WEATHER_TOOL = { type: 'function', function: { name: 'get_weather', description: 'Get the current weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } };
const getWeather = observe(async ({ city }) => ({ city, forecast: 'sunny', temperature_c: 22 }), { name: 'get_weather', asType: 'tool' });

const openai = observeOpenAI(new OpenAI({ apiKey: FAKE_API_KEY, baseURL: OPENAI_BASE_URL, maxRetries: 0 }), { generationName: 'openai-chat' });

const scenarios = [
  {
    name: 'openai-chat',
    description: `@langfuse/openai observeOpenAI(openai client).chat.completions.create non-streaming, model gpt-4o-mini; system "${PROMPTS.system}" + user "${PROMPTS.chat}"; temperature 0.2, max_tokens 50; inside propagateAttributes (user, session, tags, metadata, traceName)`,
    run: () =>
      withTraceAttrs(() =>
        openai.chat.completions.create({
          model: 'gpt-4o-mini',
          messages: [
            { role: 'system', content: PROMPTS.system },
            { role: 'user', content: PROMPTS.chat },
          ],
          temperature: 0.2,
          max_tokens: 50,
        }),
      ),
  },
  {
    name: 'openai-stream',
    description: `@langfuse/openai observeOpenAI(openai client).chat.completions.create stream:true with include_usage, read to the end; user "${PROMPTS.stream}"`,
    run: () =>
      withTraceAttrs(async () => {
        const stream = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: PROMPTS.stream }], stream: true, stream_options: { include_usage: true } });
        let text = '';
        for await (const chunk of stream) text += chunk.choices?.[0]?.delta?.content ?? '';
        return text;
      }),
  },
  {
    name: 'generation',
    description: `propagateAttributes({userId:"${USER_ID}", sessionId:"${SESSION_ID}", tags:["fixture"], metadata:{tenant:"acme"}, traceName}) > startActiveObservation(asType "generation") with model, modelParameters, input messages (system "${PROMPTS.system}" + user "${PROMPTS.chat}"), output message, usageDetails {input,output,total,input_cached_tokens,output_reasoning_tokens}, costDetails`,
    run: () => withTraceAttrs(() => generation('chat-completion', [{ role: 'system', content: PROMPTS.system }, { role: 'user', content: PROMPTS.chat }])),
  },
  {
    name: 'generation-pii',
    description: `generation observation whose input/output contain jane.doe@example.com; user "${PROMPTS.pii}"`,
    run: () => withTraceAttrs(() => generation('chat-completion-pii', [{ role: 'user', content: PROMPTS.pii }])),
  },
  {
    name: 'stream-generation',
    description: `generation for a streamed call (stream:true, include_usage) with completionStartTime set at the first SSE chunk (Langfuse's TTFT field); user "${PROMPTS.stream}"`,
    run: () =>
      withTraceAttrs(() =>
        startActiveObservation(
          'chat-stream',
          async (gen) => {
            const messages = [{ role: 'user', content: PROMPTS.stream }];
            gen.update({ model: 'gpt-4o-mini', input: messages, modelParameters: { stream: true } });
            const res = await fetch(`${OPENAI_BASE_URL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o-mini', messages, stream: true, stream_options: { include_usage: true } }) });
            let text = '';
            let usage;
            let model;
            let first = true;
            const dec = new TextDecoder();
            let buf = '';
            for await (const chunk of res.body) {
              if (first) {
                gen.update({ completionStartTime: new Date() });
                first = false;
              }
              buf += dec.decode(chunk, { stream: true });
              let i;
              while ((i = buf.indexOf('\n\n')) >= 0) {
                const line = buf.slice(0, i).replace(/^data: /, '');
                buf = buf.slice(i + 2);
                if (line === '[DONE]') continue;
                const j = JSON.parse(line);
                model = j.model;
                text += j.choices?.[0]?.delta?.content ?? '';
                if (j.usage) usage = j.usage;
              }
            }
            gen.update({ model, output: { role: 'assistant', content: text }, usageDetails: usageDetails(usage) });
          },
          { asType: 'generation' },
        ),
      ),
  },
  {
    name: 'agent-tool',
    description: `agent observation "weather-agent" > generation (tool call get_weather) > tool observation "get_weather" (via observe(..., {asType:"tool"})) > generation (final answer); chain observation around it; user "${PROMPTS.tool}"`,
    run: () =>
      withTraceAttrs(() =>
        startActiveObservation(
          'weather-chain',
          (chain) =>
            startActiveObservation(
              'weather-agent',
              async (agent) => {
                agent.update({ input: PROMPTS.tool });
                const messages = [{ role: 'user', content: PROMPTS.tool }];
                const first = await generation('llm-plan', messages, { tools: [WEATHER_TOOL] });
                const call = first.choices[0].message.tool_calls[0];
                const result = await getWeather(JSON.parse(call.function.arguments));
                messages.push(first.choices[0].message, { role: 'tool', tool_call_id: call.id, content: JSON.stringify(result) });
                const second = await generation('llm-answer', messages, { tools: [WEATHER_TOOL] });
                agent.update({ output: second.choices[0].message.content });
                chain.update({ input: PROMPTS.tool, output: second.choices[0].message.content });
                return second;
              },
              { asType: 'agent' },
            ),
          { asType: 'chain' },
        ),
      ),
  },
  {
    name: 'embedding',
    description: `embedding observation (asType "embedding") around POST /v1/embeddings, input "${PROMPTS.embed}", usageDetails {input: 6}`,
    run: () =>
      withTraceAttrs(() =>
        startActiveObservation(
          'embed',
          async (emb) => {
            emb.update({ model: 'text-embedding-3-small', input: PROMPTS.embed });
            const res = await fetch(`${OPENAI_BASE_URL}/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'text-embedding-3-small', input: PROMPTS.embed }) });
            const j = await res.json();
            emb.update({ model: j.model, output: { dimensions: j.data[0].embedding.length }, usageDetails: { input: j.usage.prompt_tokens, total: j.usage.total_tokens } });
          },
          { asType: 'embedding' },
        ),
      ),
  },
  {
    name: 'error',
    description: `generation whose provider call gets HTTP 429; observation updated with level "ERROR" + statusMessage; span inside a plain "span" observation started with startObservation; user "${PROMPTS.error}"`,
    expectError: true,
    run: () =>
      withTraceAttrs(async () => {
        const outer = startObservation('request-handler', { input: { path: '/chat' } });
        try {
          await generation('chat-completion-error', [{ role: 'user', content: PROMPTS.error }]);
        } finally {
          outer.update({ output: { status: 'failed' }, level: 'WARNING' }).end();
        }
      }),
  },
];

const failures = await runScenarios({ convention: 'langfuse', scenarios, flush: () => provider.forceFlush(), shutdown: () => provider.shutdown() });
process.exit(failures ? 1 : 0);
