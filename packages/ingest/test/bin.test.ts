import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it, vi } from 'vitest'
import { main } from '../src/cli/main.js'
import { spanlens as run } from './helpers/cli.js'
import { freePorts, startClickHouseServer, type TestClickHouse } from './helpers/clickhouse-server.js'
import { API_KEYS } from './helpers/server.js'
import { tempDir } from './helpers/tmp.js'

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
const spanlens = (...args: string[]) => run(args)

/**
 * `spanlens <args>` in this process (cli/main.ts): its exit code and output. The spawned tests
 * below check that the process exits with that code (bin.ts); each spawn costs ~1 s of CPU.
 */
async function inProcess(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true))
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true))
  try {
    return { code: await main(args), stdout, stderr }
  } finally {
    out.mockRestore()
    err.mockRestore()
  }
}

/** `spanlens serve` in its own process with `env` (port 0, no gRPC), once it says it listens. */
async function serveListening(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--conditions=@spanlens/source', '--import', 'tsx', fileURLToPath(new URL('../src/bin.ts', import.meta.url)), 'serve'], {
    env: { ...process.env, SPANLENS_PORT: '0', SPANLENS_GRPC_PORT: 'off', ...env },
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
  return { child, exited, stdout: () => stdout, stderr: () => stderr }
}

describe('the spanlens command', () => {
  it('prints its version', async () => {
    expect(await spanlens('--version')).toEqual({ code: 0, stdout: `spanlens ${version}\n`, stderr: '' })
    for (const flag of ['-v', 'version']) expect(await inProcess([flag])).toEqual({ code: 0, stdout: `spanlens ${version}\n`, stderr: '' })
  })

  it("help <command> prints that command's help, as <command> --help does", async () => {
    const help = await inProcess(['help', 'traces'])
    expect(help.code).toBe(0)
    expect(help.stdout).toBe((await inProcess(['traces', '--help'])).stdout)
    expect(help.stdout).toContain('spanlens traces [--from T]')
    expect((await inProcess(['help', 'dead-letter'])).stdout).toBe((await inProcess(['dead-letter', '--help'])).stdout)
    expect((await inProcess(['help'])).stdout).toContain('usage: spanlens <command>')
  })

  describe('serve, migrate and dead-letter check their arguments before doing anything', () => {
    // A data dir that does not exist yet: its appearing means the command ran.
    const inTempDir = async (args: string[], check: (r: { code: number; stdout: string; stderr: string }) => void) => {
      const dir = tempDir()
      try {
        const dataDir = join(dir.path, 'data')
        vi.stubEnv('SPANLENS_DATA_DIR', dataDir)
        vi.stubEnv('SPANLENS_PORT', '4484')
        vi.stubEnv('SPANLENS_GRPC_PORT', 'off')
        vi.stubEnv('SPANLENS_CLICKHOUSE_URL', '')
        const result = await inProcess(args)
        expect({ args, dataDir: existsSync(dataDir) }).toEqual({ args, dataDir: false })
        check(result)
      } finally {
        vi.unstubAllEnvs()
        dir.cleanup()
      }
    }

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
    })

    it('serve and migrate refuse an unknown option or an argument with exit 1 and their usage', async () => {
      const why = { '--bogus': 'unknown option --bogus', now: 'unexpected argument "now"', up: 'unexpected argument "up"' }
      for (const args of [['serve', '--bogus'], ['serve', 'now'], ['migrate', '--bogus'], ['migrate', 'up']] as const) {
        await inTempDir([...args], (r) => {
          expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code: 1, stdout: '' })
          expect(r.stderr).toMatch(new RegExp(`^spanlens ${args[0]}: ${why[args[1]]}\nusage: spanlens ${args[0]}`))
        })
      }
    })

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
    })

    it('a usage error exits the process with 1, before any config is read', async () => {
      const dir = tempDir()
      try {
        const dataDir = join(dir.path, 'data')
        const r = await run(['serve', '--bogus'], { ...process.env, SPANLENS_DATA_DIR: dataDir, SPANLENS_CLICKHOUSE_URL: '' }, { timeoutMs: 20_000 })
        expect([r.code, r.stdout, existsSync(dataDir)]).toEqual([1, '', false])
        expect(r.stderr).toMatch(/^spanlens serve: unknown option --bogus\nusage: spanlens serve/)
      } finally {
        dir.cleanup()
      }
    })
  })

  it('exits 1 naming an unknown command, and with no command', async () => {
    const unknown = await spanlens('nope')
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(/^unknown command "nope"\nusage: spanlens <command>/)
    expect((await inProcess([])).code).toBe(1)
  })

  it('serve starts, and stops on SIGTERM, without a warning on stderr', async () => {
    const dir = tempDir()
    const serve = await serveListening({ SPANLENS_DATA_DIR: dir.path })
    try {
      serve.child.kill('SIGTERM')
      expect(await serve.exited).toBe(0)
      expect(serve.stdout()).toContain('shutting down: no new requests, flushing the spool')
      expect(serve.stderr()).toBe('')
    } finally {
      if (serve.child.exitCode === null) serve.child.kill('SIGKILL')
      dir.cleanup()
    }
  }, 60_000)

  it('serve started while ClickHouse was unreachable exits 2 with the refusal met once it answers (a wrong password)', async () => {
    const dir = tempDir()
    const [http, tcp] = (await freePorts(2)) as [number, number]
    let clickhouse: TestClickHouse | undefined
    // Nothing listens there yet: the server starts, spooling, and keeps trying in the background.
    const serve = await serveListening({
      SPANLENS_DATA_DIR: dir.path,
      SPANLENS_CLICKHOUSE_URL: `http://127.0.0.1:${http}`,
      SPANLENS_CLICKHOUSE_USER: 'spanlens',
      SPANLENS_CLICKHOUSE_PASSWORD: 'not-the-password',
    })
    try {
      clickhouse = await startClickHouseServer({ ports: { http, tcp }, username: 'spanlens', password: 'the-password-0123' })
      expect(await serve.exited).toBe(2)
      expect(serve.stderr()).toMatch(/^spanlens: SPANLENS_STORE_REFUSED: /m)
    } finally {
      if (serve.child.exitCode === null) serve.child.kill('SIGKILL')
      await clickhouse?.stop()
      dir.cleanup()
    }
  }, 90_000)

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
