// OpenInference (Arize): REAL @arizeai/openinference-instrumentation-openai + openinference-core
// helpers (traceChain / traceAgent / traceTool / traceRetriever) and context attributes
// (setSession / setUser / setMetadata), on the OTel JS 2.x SDK line (api 1.9.x).
import { createRequire } from 'node:module';
import { context } from '@opentelemetry/api';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OpenAIInstrumentation } from '@arizeai/openinference-instrumentation-openai';
import { traceChain, traceAgent, traceTool, traceRetriever, setSession, setUser, setMetadata, getRetrieverAttributes, getOutputAttributes } from '@arizeai/openinference-core';
import { COLLECTOR_URL, OPENAI_BASE_URL, FAKE_API_KEY, USER_ID, SESSION_ID, runScenarios } from '../../lib/scenario.mjs';
import { openaiScenarios } from '../../lib/openai-scenarios.mjs';

const provider = new NodeTracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'fixture-openinference', 'openinference.project.name': 'spanlens-fixtures' }),
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${COLLECTOR_URL}/v1/traces` }))],
});
provider.register();

const require = createRequire(import.meta.url);
const OpenAIModule = require('openai');
const instrumentation = new OpenAIInstrumentation({ tracerProvider: provider });
instrumentation.manuallyInstrument(OpenAIModule);
const client = new OpenAIModule.OpenAI({ apiKey: FAKE_API_KEY, baseURL: OPENAI_BASE_URL, maxRetries: 0 });

const wrap = (kind, name, fn) => {
  if (kind === 'workflow') return traceChain(() => traceAgent(fn, { name: 'weather_agent' })(), { name })();
  if (kind === 'tool') return traceTool(fn, { name })();
  return fn();
};
const withUser = (fn) => context.with(setMetadata(setUser(setSession(context.active(), { sessionId: SESSION_ID }), { userId: USER_ID }), { tenant: 'acme' }), fn);

const DOCS = [
  { id: 'doc-1', content: 'Paris is the capital of France.', score: 0.92, metadata: { source: 'wiki' } },
  { id: 'doc-2', content: 'France is in Western Europe.', score: 0.71, metadata: { source: 'atlas' } },
];
const retrieve = traceRetriever(async (query) => DOCS, {
  name: 'retrieve_docs',
  processOutput: (docs) => ({ ...getRetrieverAttributes({ documents: docs.map(({ id, content, score, metadata }) => ({ id, content, score, metadata })) }) }),
});
const rag = traceChain(
  async (question) => {
    const docs = await retrieve(question);
    const r = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: `Answer using the context:\n${docs.map((d) => d.content).join('\n')}` },
        { role: 'user', content: question },
      ],
    });
    return r.choices[0].message.content;
  },
  { name: 'rag_pipeline' },
);

const scenarios = openaiScenarios(client, { wrap }).map((s) => ({
  ...s,
  description: `${s.description}; inside context setSession({sessionId:"${SESSION_ID}"}) + setUser({userId:"${USER_ID}"}) + setMetadata({tenant:"acme"})`,
  run: () => withUser(s.run),
}));
scenarios.push({
  name: 'rag',
  description: 'traceChain("rag_pipeline") > traceRetriever("retrieve_docs") returning 2 documents + chat.completions (system context + user "What is the capital of France?"); CHAIN, RETRIEVER and LLM spans',
  run: () => withUser(() => rag('What is the capital of France?')),
});
scenarios.push({
  name: 'error-in-chain',
  description: 'traceChain("failing_chain") > chat.completions.create that gets HTTP 429; user "This request should fail with a rate limit error."',
  expectError: true,
  run: () =>
    withUser(() =>
      traceChain(() => client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'This request should fail with a rate limit error.' }] }), { name: 'failing_chain' })(),
    ),
});
void getOutputAttributes;

const failures = await runScenarios({ convention: 'openinference', scenarios, flush: () => provider.forceFlush(), shutdown: () => provider.shutdown() });
process.exit(failures ? 1 : 0);
