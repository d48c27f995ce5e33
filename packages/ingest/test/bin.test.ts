import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { spanlens as run } from './helpers/cli.js'
import { API_KEYS } from './helpers/server.js'
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

  describe('serve, migrate and dead-letter check their arguments before doing anything', () => {
    // A temp cwd (the default data dir is ./.spanlens) and a data dir that does not exist yet:
    // either appearing, or the command still running at the timeout, means it ran.
    const inTempDir = async (args: string[], run: (r: { code: number; stdout: string; stderr: string }) => void) => {
      const dir = tempDir()
      try {
        const dataDir = join(dir.path, 'data')
        const env = { ...process.env, SPANLENS_DATA_DIR: dataDir, SPANLENS_PORT: '4484', SPANLENS_GRPC_PORT: 'off', SPANLENS_CLICKHOUSE_URL: '' }
        const result = await run_(args, env, dir.path)
        expect({ args, dataDir: existsSync(dataDir), cwdDefault: existsSync(join(dir.path, '.spanlens')) }).toEqual({ args, dataDir: false, cwdDefault: false })
        run(result)
      } finally {
        dir.cleanup()
      }
    }
    const run_ = (args: string[], env: NodeJS.ProcessEnv, cwd: string) => run(args, env, { cwd, timeoutMs: 20_000 })

    it('serve --help and migrate --help print the command\'s usage and exit 0, as help <command> does', async () => {
      for (const command of ['serve', 'migrate']) {
        let usage = ''
        for (const args of [[command, '--help'], [command, '-h'], ['help', command]]) {
          await inTempDir(args, (r) => {
            expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: '' })
            expect(r.stdout).toMatch(new RegExp(`^usage: spanlens ${command}\n`))
            usage ||= r.stdout
            expect(r.stdout).toBe(usage)
          })
        }
      }
    }, 90_000)

    it('serve and migrate refuse an unknown option or an argument with exit 1 and their usage', async () => {
      const why = { '--bogus': 'unknown option --bogus', now: 'unexpected argument "now"', up: 'unexpected argument "up"' }
      for (const args of [['serve', '--bogus'], ['serve', 'now'], ['migrate', '--bogus'], ['migrate', 'up']] as const) {
        await inTempDir([...args], (r) => {
          expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code: 1, stdout: '' })
          expect(r.stderr).toMatch(new RegExp(`^spanlens ${args[0]}: ${why[args[1]]}\nusage: spanlens ${args[0]}`))
        })
      }
    }, 90_000)

    it('dead-letter and clickhouse serve refuse an unknown option (--json, --bogus) or an extra name with exit 1, saying which', async () => {
      const refused: Array<[string[], string]> = [
        [['dead-letter', 'list', '--bogus'], 'unknown option --bogus'],
        [['dead-letter', 'list', '--json'], 'unknown option --json'],
        [['dead-letter', 'list', 'x'], 'unexpected argument "x"'],
        [['dead-letter', 'show', 'a', 'b'], 'unexpected argument "b"'],
        [['dead-letter', 'nope'], 'unknown subcommand "nope"'],
      ]
      for (const [args, why] of refused) {
        await inTempDir(args, (r) => {
          expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code: 1, stdout: '' })
          expect(r.stderr.startsWith(`spanlens dead-letter: ${why}\nusage: spanlens dead-letter`)).toBe(true)
        })
      }
      await inTempDir(['clickhouse', 'serve', '--bogus'], (r) => {
        expect([r.code, r.stdout]).toEqual([1, ''])
        expect(r.stderr).toMatch(/^spanlens clickhouse serve: unknown option --bogus\nusage: spanlens clickhouse serve/)
      })
      await inTempDir(['help', 'clickhouse'], (r) => expect([r.code, r.stdout]).toEqual([0, expect.stringMatching(/^usage: spanlens clickhouse serve/)]))
    }, 90_000)
  })

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

  describe('serve on an address it cannot listen on exits 2 with one line naming the code, before it opens the store', () => {
    /** `spanlens serve` in a data dir of its own with `env`: exit code, stderr, and whether the store was opened there. */
    async function serveWith(env: Record<string, string>) {
      const dir = tempDir()
      try {
        const r = await run(['serve'], { ...process.env, SPANLENS_DATA_DIR: dir.path, SPANLENS_GRPC_PORT: 'off', SPANLENS_API_KEYS: API_KEYS, ...env })
        return { ...r, storeOpened: existsSync(join(dir.path, 'clickhouse')) }
      } finally {
        dir.cleanup()
      }
    }

    it('the HTTP port in use: SPANLENS_HTTP_PORT_IN_USE', async () => {
      const holder = createServer()
      await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve))
      try {
        const { port } = holder.address() as { port: number }
        const r = await serveWith({ SPANLENS_PORT: String(port) })
        expect(r.code).toBe(2)
        expect(r.stderr).toMatch(new RegExp(`^spanlens: SPANLENS_HTTP_PORT_IN_USE: cannot serve HTTP on 127\\.0\\.0\\.1:${port}: .*\\(SPANLENS_PORT\\)\n$`))
        expect(r.storeOpened).toBe(false)
      } finally {
        holder.close()
      }
    }, 30_000)

    it('a host that is not an address of this machine: SPANLENS_HOST_UNAVAILABLE', async () => {
      // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never assigned to a real interface.
      const r = await serveWith({ SPANLENS_HOST: '192.0.2.1', SPANLENS_PORT: '0' })
      expect(r.code).toBe(2)
      expect(r.stderr).toMatch(/^spanlens: SPANLENS_HOST_UNAVAILABLE: cannot listen on 192\.0\.2\.1: .*SPANLENS_HOST .*\n$/)
      expect(r.storeOpened).toBe(false)
    }, 30_000)
  })

  it('serve with a missing SLO file exits 2 with one line naming the file, before it opens the store', async () => {
    const dir = tempDir()
    try {
      const r = await run(['serve'], { ...process.env, SPANLENS_DATA_DIR: dir.path, SPANLENS_PORT: '0', SPANLENS_GRPC_PORT: 'off', SPANLENS_SLO_FILE: '/nonexistent/slos.yaml' })
      expect(r.code).toBe(2)
      expect(r.stderr).toBe("spanlens: SPANLENS_SLO_FILE_INVALID: SLO file /nonexistent/slos.yaml is invalid: ENOENT: no such file or directory, stat '/nonexistent/slos.yaml'\n")
      expect(existsSync(join(dir.path, 'clickhouse'))).toBe(false)
    } finally {
      dir.cleanup()
    }
  }, 30_000)
})
