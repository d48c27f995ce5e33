// Helper imported by every libs/<convention>/record.mjs script.
// The orchestrator (record.mjs) passes the fake provider + capture server addresses in env.
export const PROVIDER_URL = process.env.SPANLENS_PROVIDER_URL; // e.g. http://127.0.0.1:1234
export const OPENAI_BASE_URL = `${PROVIDER_URL}/v1`;
export const COLLECTOR_URL = process.env.SPANLENS_COLLECTOR_URL; // e.g. http://127.0.0.1:5678
export const FAKE_API_KEY = 'sk-fixture-not-a-real-key';

// Deterministic prompts shared by all conventions.
export const PROMPTS = {
  system: 'You are a terse assistant.',
  chat: 'What is the capital of France?',
  pii: 'Email the meeting summary to jane.doe@example.com please.',
  stream: 'Count from one to five.',
  tool: 'What is the weather in Paris?',
  embed: 'Spanlens fixture sentence.',
  error: 'This request should fail with a rate limit error.',
  object: 'Invent a person with a name and an age.',
};
export const USER_ID = 'user-fixture-42';
export const SESSION_ID = 'session-fixture-7';

if (!PROVIDER_URL || !COLLECTOR_URL) {
  console.error('Run through `npm run record` (SPANLENS_PROVIDER_URL / SPANLENS_COLLECTOR_URL missing).');
  process.exit(2);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function control(what, body) {
  await fetch(`${COLLECTOR_URL}/_control/${what}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body ?? {}),
  });
}

/**
 * @param {{convention:string, flush:()=>Promise<unknown>, shutdown?:()=>Promise<unknown>,
 *          scenarios:{name:string, description:string, run:()=>Promise<unknown>, expectError?:boolean}[]}} opts
 */
export async function runScenarios({ convention, flush, shutdown, scenarios }) {
  const only = process.env.SPANLENS_ONLY_SCENARIO;
  let failures = 0;
  for (const s of scenarios) {
    if (only && only !== s.name) continue;
    const key = `${convention}/${s.name}`;
    await control('begin', { key, convention, scenario: s.name, description: s.description, expectError: !!s.expectError, library: s.library });
    let error = null;
    try {
      await s.run();
    } catch (e) {
      error = e;
    }
    if (error && !s.expectError) {
      failures++;
      console.error(`[${key}] unexpected error:`, error);
    } else if (!error && s.expectError) {
      console.error(`[${key}] expected an error but the call succeeded`);
    } else if (error) {
      console.log(`[${key}] expected error: ${error.message?.split('\n')[0]}`);
    }
    await sleep(100); // let async span ends (stream teardown) happen
    await flush();
    await sleep(200);
    await control('end', { key });
    console.log(`[${key}] done`);
  }
  if (shutdown) await shutdown();
  return failures;
}
