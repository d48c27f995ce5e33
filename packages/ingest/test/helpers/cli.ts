import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'

const bin = fileURLToPath(new URL('../../src/bin.ts', import.meta.url))
// By URL: `--import tsx` resolves from the child's cwd, which a test may set elsewhere.
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href

/**
 * `spanlens <args>` from source in its own process: its exit code and output.
 * With `timeoutMs`, a command still running then is killed (code null): a help or usage
 * error that started a server instead.
 */
export async function spanlens(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  options: { cwd?: string; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--conditions=@spanlens/source', '--import', tsx, bin, ...args], {
      env,
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
      ...(options.timeoutMs !== undefined ? { timeout: options.timeoutMs } : {}),
    })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}
