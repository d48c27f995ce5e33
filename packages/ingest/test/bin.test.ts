import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { spanlens as run } from './helpers/cli.js'

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
const spanlens = (...args: string[]) => run(args)

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
