import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildServer, loadConfig } from '@spanlens/ingest'
import { startLlmServer, type LlmServer } from '@spanlens/fake-llm'

// The SDK snippets a reader copies first, run as written in a process of their own, as an
// app would run them: only the endpoint is pointed at this server (the key, the provider's
// URL and key come from the environment, which the snippets leave to it). A snippet that
// type-checks but sends nothing (an observed function never called) fails here.
const SDK = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const ROOT = resolve(SDK, '../..')
const run = promisify(execFile)

/** The ```ts blocks of a Markdown file that call init(), dedented (the quickstart's sit in a list). */
function snippets(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8')
  return [...text.matchAll(/^( *)```ts\n([\s\S]*?)^ *```$/gm)]
    .map(([, indent, body]) => body!.replace(new RegExp(`^${indent}`, 'gm'), ''))
    .filter((body) => body.includes('init('))
}

let app: Awaited<ReturnType<typeof buildServer>>
let llm: LlmServer
let dir: string
const KEYS = { quickstart: 'quickstart-key-0123', sdkmd: 'sdkmd-key-0123456', readme: 'readme-key-0123456' }

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'spanlens-sdk-snippets-'))
  const keys = Object.entries(KEYS).map(([project, key]) => `${project}:${key}`).join(',')
  app = await buildServer(loadConfig({ env: { SPANLENS_DATA_DIR: join(dir, 'data'), SPANLENS_PORT: '0', SPANLENS_API_KEYS: keys, SPANLENS_LOG_LEVEL: 'silent' } }))
  await app.listen({ host: '127.0.0.1', port: 0 })
  llm = await startLlmServer()
  // What `npm install @spanlens/sdk openai` gives an app, linked to this workspace.
  const modules = join(dir, 'app', 'node_modules')
  mkdirSync(join(modules, '@spanlens'), { recursive: true })
  symlinkSync(SDK, join(modules, '@spanlens', 'sdk'))
  symlinkSync(join(SDK, 'node_modules', 'openai'), join(modules, 'openai'))
  symlinkSync(join(ROOT, 'node_modules', 'tsx'), join(modules, 'tsx'))
})

afterAll(async () => {
  await llm?.close()
  await app?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

async function runSnippet(project: keyof typeof KEYS, code: string): Promise<Array<Record<string, string>>> {
  const { port } = app.server.address() as { port: number }
  const file = join(dir, 'app', `${project}.mts`)
  writeFileSync(file, code.replace(/endpoint: '[^']*'/, `endpoint: 'http://127.0.0.1:${port}'`))
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, SPANLENS_API_KEY: KEYS[project], OPENAI_BASE_URL: `${llm.url}/v1`, OPENAI_API_KEY: 'sk-fake' }
  await run(process.execPath, ['--conditions=@spanlens/source', '--import', 'tsx', file], { cwd: join(dir, 'app'), env, timeout: 20_000 })
  await app.spanlens.flush()
  const rs = await app.spanlens.store.client.query({
    query: `SELECT name, kind, service_name, user_id, span_id, parent_span_id FROM spans FINAL WHERE project_id = {p:String} ORDER BY name`,
    query_params: { p: project },
    format: 'JSONEachRow',
  })
  return rs.json()
}

/** Each span as `name < parent name` (`name` alone for a root). */
function tree(rows: Array<Record<string, string>>): string[] {
  const byId = new Map(rows.map((r) => [r.span_id, r.name]))
  return rows.map((r) => (r.parent_span_id ? `${r.name} < ${byId.get(r.parent_span_id)}` : r.name!))
}

describe('the documented SDK snippets, run as written', () => {
  it('quickstart.md step 2 sends one answer trace with its chat call under it', async () => {
    const [code, ...more] = snippets('docs/quickstart.md')
    expect(more).toEqual([])
    const rows = await runSnippet('quickstart', code!)
    expect(tree(rows)).toEqual(['answer', 'chat gpt-4o-mini < answer'])
    expect(rows.every((r) => r.service_name === 'chat-api')).toBe(true)
  })

  it("sdk.md's first example sends an answer trace with its tool and chat spans, for user u-42", async () => {
    const code = snippets('docs/sdk.md')[0]!
    const rows = await runSnippet('sdkmd', code)
    expect(tree(rows)).toEqual(['answer', 'chat gpt-4o-mini < answer', 'lookup_order < answer'])
    expect(rows.map((r) => [r.kind, r.user_id])).toEqual([['chain', 'u-42'], ['llm', 'u-42'], ['tool', 'u-42']])
  })

  it("the SDK package README's example sends an answer trace with its chat call under it", async () => {
    const [code, ...more] = snippets('packages/sdk/README.md')
    expect(more).toEqual([])
    const rows = await runSnippet('readme', code!)
    expect(tree(rows)).toEqual(['answer', 'chat gpt-4o-mini < answer'])
    expect(rows.every((r) => r.service_name === 'support-bot' && r.user_id === 'u-42')).toBe(true)
  })
})
