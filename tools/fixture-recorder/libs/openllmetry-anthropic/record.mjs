// OpenLLMetry / Traceloop's Anthropic instrumentation (REAL @traceloop/node-server-sdk, which bundles
// @traceloop/instrumentation-anthropic) on a REAL @anthropic-ai/sdk that traces itself: since
// 0.134.0 the SDK starts its own CLIENT span (`anthropic.messages.create`, scope
// com.anthropic.sdk.typescript) with the global tracer provider, which Traceloop's initialize()
// registers. So each call is reported twice, Traceloop's span being the parent of the SDK's.
// The SDK's tracing is left at its defaults (on, content mode metadata_only), as an app that
// upgrades gets it.
process.env.TRACELOOP_TELEMETRY = 'false';
import { createRequire } from 'node:module';
import { PROVIDER_URL, COLLECTOR_URL, USER_ID, SESSION_ID, runScenarios } from '../../lib/scenario.mjs';
import { anthropicScenarios } from '../../lib/anthropic-scenarios.mjs';

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

const withUser = (fn) => traceloop.withAssociationProperties({ user_id: USER_ID, session_id: SESSION_ID }, fn);

const scenarios = anthropicScenarios(client, {
  chain: (fn) => traceloop.withWorkflow({ name: 'weather_workflow' }, fn),
  tool: (fn, input) => traceloop.withTool({ name: 'get_weather' }, () => fn(input)),
  chainLabel: 'withWorkflow("weather_workflow")',
  toolLabel: 'withTool("get_weather")',
}).map((s) => ({ ...s, description: `${s.description}; inside traceloop.withAssociationProperties({user_id:"${USER_ID}", session_id:"${SESSION_ID}"})`, run: () => withUser(s.run) }));

const failures = await runScenarios({ convention: 'openllmetry-anthropic', scenarios, flush: () => traceloop.forceFlush() });
process.exit(failures ? 1 : 0);
