// Shared by libs/openllmetry (current @traceloop/node-server-sdk) and libs/openllmetry-legacy
// (0.22.x, indexed gen_ai.prompt.{i}.* attributes). Must be imported from the lib folder's own
// record.mjs, which passes its own `traceloop` + `OpenAI` modules (different versions).
import { COLLECTOR_URL, OPENAI_BASE_URL, FAKE_API_KEY, USER_ID, SESSION_ID, runScenarios } from './scenario.mjs';
import { openaiScenarios } from './openai-scenarios.mjs';

export async function recordTraceloop({ convention, traceloop, OpenAI }) {
  traceloop.initialize({
    appName: `fixture-${convention}`,
    apiKey: 'tl-fixture-api-key', // sent as "Authorization: Bearer tl-fixture-api-key"
    baseUrl: COLLECTOR_URL, // Traceloop exports OTLP/proto to {baseUrl}/v1/traces
    disableBatch: false,
    traceContent: true,
    silenceInitializationMessage: true,
    instrumentModules: { openAI: OpenAI },
  });
  await traceloop.waitForInitialization?.();
  const client = new OpenAI({ apiKey: FAKE_API_KEY, baseURL: OPENAI_BASE_URL, maxRetries: 0 });

  const wrap = (kind, name, fn) => {
    if (kind === 'workflow')
      return traceloop.withWorkflow({ name, associationProperties: { feature: 'weather' } }, () => traceloop.withAgent({ name: 'weather_agent' }, fn));
    if (kind === 'tool') return traceloop.withTool({ name }, fn);
    return fn();
  };
  const scenarios = openaiScenarios(client, { wrap }).map((s) => ({
    ...s,
    description: `${s.description}; inside traceloop.withAssociationProperties({user_id:"${USER_ID}", session_id:"${SESSION_ID}"})`,
    run: () => traceloop.withAssociationProperties({ user_id: USER_ID, session_id: SESSION_ID }, s.run),
  }));
  scenarios.push({
    name: 'task',
    description: 'withWorkflow("summarize_workflow") > withTask("summarize_task") > chat.completions.create; tests entity input/output (traceloop.entity.*) on non-LLM spans',
    run: () =>
      traceloop.withWorkflow({ name: 'summarize_workflow', associationProperties: { user_id: USER_ID, session_id: SESSION_ID } }, () =>
        traceloop.withTask({ name: 'summarize_task' }, async (text) => {
          const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `Summarize: ${text}` }] });
          return r.choices[0].message.content;
        }, 'Paris is the capital of France.'),
      ),
  });
  scenarios.push({
    name: 'error-in-workflow',
    description: `withWorkflow("failing_workflow") > chat.completions.create that gets HTTP 429 (observed: neither the OpenAI span nor the withWorkflow span is ended when the promise rejects, so nothing is exported); user "${'This request should fail with a rate limit error.'}"`,
    expectError: true,
    run: () =>
      traceloop.withWorkflow({ name: 'failing_workflow', associationProperties: { user_id: USER_ID, session_id: SESSION_ID } }, () =>
        client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'This request should fail with a rate limit error.' }] }),
      ),
  });
  return runScenarios({ convention, scenarios, flush: () => traceloop.forceFlush() });
}
