import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { spanlens as run } from './helpers/cli.js'
import { tempDir } from './helpers/tmp.js'

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

  it('serve starts, and stops on SIGTERM, without a warning on stderr', async () => {
    const dir = tempDir()
    try {
      const child = spawn(process.execPath, ['--conditions=@spanlens/source', '--import', 'tsx', fileURLToPath(new URL('../src/bin.ts', import.meta.url)), 'serve'], {
        env: { ...process.env, SPANLENS_DATA_DIR: dir.path, SPANLENS_PORT: '0', SPANLENS_GRPC_PORT: 'off' },
      })
      let stdout = ''
      let stderr = ''
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          stdout += d.toString()
          if (stdout.includes('spanlens is listening')) resolve()
        })
        child.on('exit', () => reject(new Error(`serve exited early: ${stderr}`)))
      })
      child.kill('SIGTERM')
      expect(await exited).toBe(0)
      expect(stdout).toContain('shutting down: no new requests, flushing the spool')
      expect(stderr).toBe('')
    } finally {
      dir.cleanup()
    }
  }, 60_000)
})
