import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const bin = fileURLToPath(new URL('../src/bin.ts', import.meta.url))
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }

/** `spanlens <args>` in its own process: its exit code and output. */
async function spanlens(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--conditions=@spanlens/source', '--import', 'tsx', bin, ...args])
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

describe('the spanlens command', () => {
  it('prints its version', async () => {
    for (const flag of ['--version', '-v', 'version']) expect(await spanlens(flag)).toEqual({ code: 0, stdout: `spanlens ${version}\n`, stderr: '' })
  })

  it("help <command> prints that command's help, as <command> --help does", async () => {
    const help = await spanlens('help', 'traces')
    expect(help.code).toBe(0)
    expect(help.stdout).toBe((await spanlens('traces', '--help')).stdout)
    expect(help.stdout).toContain('spanlens traces [--from T]')
    expect((await spanlens('help', 'dead-letter')).stdout).toBe((await spanlens('dead-letter', '--help')).stdout)
    expect((await spanlens('help')).stdout).toContain('usage: spanlens <command>')
  }, 30_000)

  it('exits 1 naming an unknown command, and with no command', async () => {
    const unknown = await spanlens('nope')
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(/^unknown command "nope"\nusage: spanlens <command>/)
    expect((await spanlens()).code).toBe(1)
  })
})
