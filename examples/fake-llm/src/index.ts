/**
 * @spanlens/fake-llm — a local stand-in for the OpenAI and Anthropic APIs, so
 * examples and tests run the real client libraries offline. This file is the
 * whole public API.
 */
export { startFakeLlm, type FakeLlm, type FakeLlmOptions, type RecordedRequest } from './server.js'
export { REPLY } from './model.js'
export { withFakeProviderByDefault } from './default-provider.js'
// The names of the SDK's original test helper, so its tests can switch by changing the import.
export { startFakeLlm as startLlmServer, type FakeLlm as LlmServer } from './server.js'
