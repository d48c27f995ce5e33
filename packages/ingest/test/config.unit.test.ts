import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config/load.js'
import { openFilesLimit } from '../src/config/open-files.js'
import { tempDir } from './helpers/tmp.js'

describe('configuration', () => {
  it.each([
    ['SPANLENS_PORT', 'abc', /SPANLENS_PORT: expected an integer between 0 and 65535, got "abc"/],
    ['SPANLENS_PORT', '70000', /SPANLENS_PORT/],
    ['SPANLENS_CLICKHOUSE_URL', 'localhost:8123', /SPANLENS_CLICKHOUSE_URL: expected an http/],
    ['SPANLENS_CLICKHOUSE_CLUSTER', 'bad name;', /SPANLENS_CLICKHOUSE_CLUSTER: expected a ClickHouse identifier/],
    ['SPANLENS_RETENTION_DAYS', '-1', /SPANLENS_RETENTION_DAYS/],
    ['SPANLENS_API_KEYS', 'justakey', /SPANLENS_API_KEYS: expected project:key pairs.*\(hidden\)/],
    ['SPANLENS_REDACT', 'email,bogus', /SPANLENS_REDACT: .*unknown: bogus/],
    ['SPANLENS_LOG_LEVEL', 'loud', /SPANLENS_LOG_LEVEL: expected one of/],
    ['SPANLENS_EMBEDDED_NICE', '20', /SPANLENS_EMBEDDED_NICE: expected an integer between 0 and 19/],
    ['SPANLENS_EMBEDDED_NICE', '-5', /SPANLENS_EMBEDDED_NICE: expected an integer between 0 and 19/],
    ['SPANLENS_SPOOL_DIR', '   ', /SPANLENS_SPOOL_DIR: expected a non-empty string/],
    ['SPANLENS_SPOOL_PROJECT_SHARE', '0', /SPANLENS_SPOOL_PROJECT_SHARE: expected a number in \(0, 1\]/],
    ['SPANLENS_SPOOL_PROJECT_SHARE', '1.5', /SPANLENS_SPOOL_PROJECT_SHARE/],
    ['SPANLENS_BODY_TIMEOUT_MS', '5', /SPANLENS_BODY_TIMEOUT_MS: expected an integer between 100/],
    ['SPANLENS_MAX_CONCURRENT_REQUESTS_PER_PROJECT', '0', /SPANLENS_MAX_CONCURRENT_REQUESTS_PER_PROJECT/],
    ['SPANLENS_QUERY_QUEUE_TIMEOUT_SECONDS', '0', /SPANLENS_QUERY_QUEUE_TIMEOUT_SECONDS/],
    ['SPANLENS_CONTENT_MERGE_INTERVAL_MS', '50', /SPANLENS_CONTENT_MERGE_INTERVAL_MS: expected an integer between 100 and 3600000/],
    ['SPANLENS_CONTENT_MERGE_INTERVAL_MS', 'often', /SPANLENS_CONTENT_MERGE_INTERVAL_MS/],
    ['SPANLENS_INGEST_KEYS', 'web', /SPANLENS_INGEST_KEYS: expected project:key pairs.*\(hidden\)/],
    ['SPANLENS_CORS_ORIGINS', 'https://app.example.com/', /SPANLENS_CORS_ORIGINS: "https:\/\/app.example.com\/": an origin has no path/],
    ['SPANLENS_CORS_ORIGINS', 'http://localhost:3000,localhost:5173', /SPANLENS_CORS_ORIGINS: "localhost:5173": expected \* or an origin/],
    ['SPANLENS_CORS_HEADERS', 'x-tenant,bad header', /SPANLENS_CORS_HEADERS: entry 2: expected header names/],
    ['SPANLENS_MAX_CONNECTIONS', '0', /SPANLENS_MAX_CONNECTIONS: expected an integer between 1 and/],
    ['SPANLENS_MAX_CONNECTIONS', 'lots', /SPANLENS_MAX_CONNECTIONS/],
    ['SPANLENS_HEADERS_TIMEOUT_MS', '10', /SPANLENS_HEADERS_TIMEOUT_MS: expected an integer between 100/],
  ])('rejects %s=%s naming the variable', (name, value, pattern) => {
    let err: unknown
    try {
      loadConfig({ env: { [name]: value } })
    } catch (e) {
      err = e
    }
    expect(err).toMatchObject({ code: 'SPANLENS_CONFIG_INVALID' })
    expect((err as Error).message).toMatch(pattern)
  })

  it('reads ingest keys beside full ones, and the browser origins and headers CORS allows', () => {
    const c = loadConfig({
      env: {
        SPANLENS_API_KEYS: 'web:full-key-0123456789',
        SPANLENS_INGEST_KEYS: 'web:page-key-0123456789, web:page-key-9876543210',
        SPANLENS_CORS_ORIGINS: 'https://app.example.com, https://*.example.org:8443,*',
        SPANLENS_CORS_HEADERS: 'X-Tenant, traceparent',
      },
    })
    expect(c.apiKeys).toEqual([
      { project: 'web', key: 'full-key-0123456789' },
      { project: 'web', key: 'page-key-0123456789', access: 'ingest' },
      { project: 'web', key: 'page-key-9876543210', access: 'ingest' },
    ])
    expect(c.cors).toEqual({
      origins: [
        { any: false, scheme: 'https', host: 'app.example.com', subdomains: false, port: '' },
        { any: false, scheme: 'https', host: 'example.org', subdomains: true, port: '8443' },
        { any: true },
      ],
      headers: ['x-tenant', 'traceparent'],
    })
    expect(loadConfig({ env: {} }).cors).toEqual({ origins: [], headers: [] })
  })

  it('refuses ingest keys without a full key: nobody could read what they send', () => {
    expect(() => loadConfig({ env: { SPANLENS_INGEST_KEYS: 'web:page-key-0123456789' } })).toThrow(
      /SPANLENS_INGEST_KEYS: needs SPANLENS_API_KEYS or SPANLENS_API_KEYS_FILE too/,
    )
  })

  it('refuses a key given for two projects, or as a full and an ingest key, without showing it', () => {
    const dir = tempDir()
    try {
      const file = join(dir.path, 'keys')
      writeFileSync(file, 'team:shared-key-0123456789\n')
      for (const env of [
        { SPANLENS_API_KEYS: 'a:shared-key-0123456789,b:shared-key-0123456789' },
        { SPANLENS_API_KEYS_FILE: file, SPANLENS_API_KEYS: 'other:shared-key-0123456789' },
        { SPANLENS_API_KEYS: 'team:shared-key-0123456789', SPANLENS_INGEST_KEYS: 'team:shared-key-0123456789' },
      ]) {
        let err: Error | undefined
        try {
          loadConfig({ env, cwd: dir.path })
        } catch (e) {
          err = e as Error
        }
        expect(err, JSON.stringify(env)).toMatchObject({ code: 'SPANLENS_CONFIG_INVALID' })
        expect(err?.message).toMatch(/API keys: one key is given as (a|an ingest) key of project \w+ and as (a|an ingest) key of project \w+; give each key once/)
        expect(err?.message).not.toContain('shared-key')
      }
      // The same key for the same project in the list and the file is one key.
      expect(loadConfig({ env: { SPANLENS_API_KEYS_FILE: file, SPANLENS_API_KEYS: 'team:shared-key-0123456789' }, cwd: dir.path }).apiKeys).toHaveLength(2)
    } finally {
      dir.cleanup()
    }
  })

  it('warns of a variable a letter or two from a setting, which would otherwise be ignored unsaid', () => {
    const c = loadConfig({ env: { SPANLENS_RETENTON_DAYS: '7', SPANLENS_API_KEY: 'x', SPANLENS_CORS_ORIGIN: 'https://a.test', SPANLENS_ENDPOINT: 'http://x', SPANLENS_FUZZ_CASES: '5', HOME: '/root' } })
    expect(c.store.retentionDays).toBe(90)
    expect(c.warnings).toEqual([
      'SPANLENS_CORS_ORIGIN is not a setting and is ignored; did you mean SPANLENS_CORS_ORIGINS?',
      'SPANLENS_RETENTON_DAYS is not a setting and is ignored; did you mean SPANLENS_RETENTION_DAYS?',
      'SPANLENS_API_KEY is the SDK’s variable (the key an app sends); the server reads SPANLENS_API_KEYS (project:key,...) and runs without keys',
    ])
    // The SDK's and the CLI's variables beside a server with keys: nothing to say.
    const quiet = loadConfig({ env: { SPANLENS_API_KEYS: 'team:secret-key-1', SPANLENS_API_KEY: 'secret-key-1', SPANLENS_URL: 'http://x', SPANLENS_SERVICE_NAME: 's', SPANLENS_CONFIG_FILE: '' } })
    expect(quiet.warnings).toEqual([])
  })

  it('uses the documented defaults', () => {
    const c = loadConfig({ env: {}, cwd: '/srv/app' })
    expect(c).toMatchObject({ host: '127.0.0.1', port: 4318, apiKeys: [] })
    expect(c.store).toMatchObject({ mode: 'embedded', dataDir: '/srv/app/.spanlens/clickhouse', database: 'spanlens' })
    expect(c.ingest).toMatchObject({ insertConcurrency: 1, batchMaxAgeMs: 1000, batchMaxRows: 40_000, batchMaxBytes: 32 * 1024 * 1024, spoolFsync: 'always', spoolDir: '/srv/app/.spanlens/spool' })
    expect(c.store).toMatchObject({ embeddedNice: 10 })
    expect(c.ingest).toMatchObject({ maxConcurrentRequests: 256, maxConcurrentRequestsPerProject: 128, spoolProjectShare: 0.5, bodyTimeoutMs: 30_000, retentionDays: 90, contentMergeIntervalMs: 5000 })
    expect(c.query.admission).toEqual({})
  })

  it('holds connections to the open-file limit less a reserve for the spool and the store, by default', () => {
    expect(loadConfig({ env: {}, openFiles: 20_000 }).maxConnections).toBe(15_000)
    expect(loadConfig({ env: {}, openFiles: 4096 }).maxConnections).toBe(3072)
    // A small limit still takes connections: half of it.
    expect(loadConfig({ env: {}, openFiles: 1024 }).maxConnections).toBe(512)
    // Where the limit cannot be read (not Linux).
    expect(loadConfig({ env: {}, openFiles: undefined }).maxConnections).toBe(4096)
    expect(loadConfig({ env: {} }).headersTimeoutMs).toBe(10_000)
  })

  it('takes SPANLENS_MAX_CONNECTIONS as given, warning when it is not below the open-file limit', () => {
    expect(loadConfig({ env: { SPANLENS_MAX_CONNECTIONS: '100' }, openFiles: 20_000 })).toMatchObject({ maxConnections: 100, warnings: [] })
    const over = loadConfig({ env: { SPANLENS_MAX_CONNECTIONS: '30000' }, openFiles: 20_000 })
    expect(over.maxConnections).toBe(30_000)
    expect(over.warnings).toEqual([expect.stringMatching(/^SPANLENS_MAX_CONNECTIONS is 30000, not below this process's open-file limit \(20000\)/)])
  })

  it("reads the open-file limit from Linux's /proc/self/limits, and nothing where it cannot", () => {
    const limits = 'Limit                     Soft Limit           Hard Limit           Units     \nMax open files            20000                524288               files     \n'
    expect(openFilesLimit(() => limits)).toBe(20_000)
    expect(openFilesLimit(() => limits.replace('20000', 'unlimited'))).toBeUndefined()
    expect(
      openFilesLimit(() => {
        throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' })
      }),
    ).toBeUndefined()
  })

  it('takes the per-project ingest and query limits, never more per project than in all', () => {
    const c = loadConfig({
      env: {
        SPANLENS_MAX_CONCURRENT_REQUESTS: '10',
        SPANLENS_MAX_CONCURRENT_REQUESTS_PER_PROJECT: '50',
        SPANLENS_QUERY_CONCURRENCY_PER_PROJECT: '2',
        SPANLENS_QUERY_QUEUE_PER_PROJECT: '0',
        SPANLENS_QUERY_QUEUE_TIMEOUT_SECONDS: '5',
      },
    })
    expect(c.ingest.maxConcurrentRequestsPerProject).toBe(10)
    expect(c.query.admission).toEqual({ perProject: 2, queuePerProject: 0, queueTimeoutMs: 5000 })
  })

  it('puts the spool in SPANLENS_SPOOL_DIR when given, relative to the working directory', () => {
    const c = loadConfig({ env: { SPANLENS_SPOOL_DIR: 'wal/spool' }, cwd: '/srv/app' })
    expect(c.ingest.spoolDir).toBe('/srv/app/wal/spool')
    expect(c.store).toMatchObject({ dataDir: '/srv/app/.spanlens/clickhouse' })
  })

  it('switches to remote mode with a URL and reads a YAML config file under the environment', () => {
    const dir = tempDir()
    const file = join(dir.path, 'spanlens.yaml')
    writeFileSync(file, 'SPANLENS_PORT: 9999\nSPANLENS_CLICKHOUSE_CLUSTER: prod\nSPANLENS_API_KEYS: "team:secret-key-1"\n')
    try {
      const c = loadConfig({
        env: { SPANLENS_CONFIG_FILE: file, SPANLENS_PORT: '5000', SPANLENS_CLICKHOUSE_URL: 'https://ch.example:8443' },
      })
      expect(c.port).toBe(5000)
      expect(c.store).toMatchObject({ mode: 'remote', url: 'https://ch.example:8443', cluster: 'prod' })
      expect(c.ingest.insertConcurrency).toBe(2)
      expect(loadConfig({ env: { SPANLENS_INSERT_CONCURRENCY: '3' } }).ingest.insertConcurrency).toBe(3)
      expect(c.apiKeys).toEqual([{ project: 'team', key: 'secret-key-1' }])
      writeFileSync(file, 'SPANLENS_PORTT: 1\n')
      expect(() => loadConfig({ env: { SPANLENS_CONFIG_FILE: file } })).toThrow(/SPANLENS_PORTT.*unknown setting/)
    } finally {
      dir.cleanup()
    }
  })
})

describe('the config file', () => {
  it('names itself in the error about a bad value it holds, as it does for an unknown key', () => {
    const dir = tempDir()
    try {
      const file = join(dir.path, 'spanlens.yml')
      writeFileSync(file, 'SPANLENS_RETENTION_DAYS: abc\nSPANLENS_PORT: 4318\n')
      expect(() => loadConfig({ env: { SPANLENS_CONFIG_FILE: file } })).toThrow(`invalid configuration: SPANLENS_RETENTION_DAYS (in ${file}): expected an integer between 0 and 36500, got "abc"`)
      // The environment's value wins, and an error about it is the environment's.
      expect(() => loadConfig({ env: { SPANLENS_CONFIG_FILE: file, SPANLENS_RETENTION_DAYS: 'xyz' } })).toThrow('invalid configuration: SPANLENS_RETENTION_DAYS: expected an integer between 0 and 36500, got "xyz"')
      expect(loadConfig({ env: { SPANLENS_CONFIG_FILE: file, SPANLENS_RETENTION_DAYS: '7' } }).ingest.retentionDays).toBe(7)
    } finally {
      dir.cleanup()
    }
  })
})

describe('the SLO file', () => {
  const refusal = (env: Record<string, string>) => {
    try {
      loadConfig({ env })
    } catch (err) {
      return err as Error & { code?: string }
    }
    return undefined
  }

  it('stops start-up when it is missing or invalid, naming the file and the problem once', () => {
    const missing = refusal({ SPANLENS_SLO_FILE: '/nonexistent/slos.yaml' })
    expect(missing).toMatchObject({ code: 'SPANLENS_SLO_FILE_INVALID', message: expect.stringContaining('SLO file /nonexistent/slos.yaml is invalid: ENOENT') })
    expect(missing!.message.match(/ENOENT/g)).toHaveLength(1)
    const dir = tempDir()
    try {
      const file = join(dir.path, 'slos.yaml')
      writeFileSync(file, 'slos:\n  - name: x\n    objective: 120\n    indicator: { type: success }\n')
      expect(refusal({ SPANLENS_SLO_FILE: file })).toMatchObject({ code: 'SPANLENS_SLO_FILE_INVALID', message: expect.stringContaining(`SLO file ${file} is invalid: slos[0].objective`) })
      writeFileSync(file, 'slos:\n  - name: ok\n    objective: 99\n    indicator: { type: success }\n')
      expect(loadConfig({ env: { SPANLENS_SLO_FILE: 'slos.yaml' }, cwd: dir.path }).query.sloFile).toBe(file)
    } finally {
      dir.cleanup()
    }
  })
})

describe('ClickHouse URLs', () => {
  const invalid = (env: Record<string, string>): Error => {
    try {
      loadConfig({ env })
    } catch (err) {
      expect(err).toMatchObject({ code: 'SPANLENS_CONFIG_INVALID' })
      return err as Error
    }
    throw new Error('expected SPANLENS_CONFIG_INVALID')
  }
  const cluster = { SPANLENS_CLICKHOUSE_URL: 'http://127.0.0.1:8123', SPANLENS_CLICKHOUSE_CLUSTER: 'spanlens' }

  // clickhouse-js takes a URL's userinfo as the credentials and its query string as settings,
  // over the options Spanlens passes: each would silently replace a SPANLENS_ variable.
  it.each([
    ['http://127.0.0.1:8123/?database=spanlens', /SPANLENS_CLICKHOUSE_URL: expected no query string/],
    ['http://127.0.0.1:8123?secure=true', /SPANLENS_CLICKHOUSE_URL: expected no query string.*SPANLENS_CLICKHOUSE_CA_CERT/],
    ['http://spanlens@127.0.0.1:8123', /SPANLENS_CLICKHOUSE_URL: credentials in the URL .*SPANLENS_CLICKHOUSE_USER and SPANLENS_CLICKHOUSE_PASSWORD/],
  ])('refuses SPANLENS_CLICKHOUSE_URL=%s, naming the variable that says it', (value, pattern) => {
    expect(invalid({ SPANLENS_CLICKHOUSE_URL: value }).message).toMatch(pattern)
  })

  it('refuses a node URL with a query string or credentials, naming the entry', () => {
    expect(invalid({ ...cluster, SPANLENS_CLICKHOUSE_NODES: 'http://n1:8123?x=1' }).message).toMatch(/SPANLENS_CLICKHOUSE_NODES: entry 1: expected no query string/)
    expect(invalid({ ...cluster, SPANLENS_CLICKHOUSE_NODES: 'http://u:p@n1:8123' }).message).toMatch(/SPANLENS_CLICKHOUSE_NODES: entry 1: credentials/)
  })

  it('takes a URL with or without the trailing slash', () => {
    for (const [url, origin] of [['http://127.0.0.1:8123', 'http://127.0.0.1:8123'], ['https://ch.internal:8443/', 'https://ch.internal:8443'], [' http://ch:8123 ', 'http://ch:8123']]) {
      const store = loadConfig({ env: { SPANLENS_CLICKHOUSE_URL: url } }).store
      expect({ url: store.url, pathname: store.pathname }).toEqual({ url: origin, pathname: undefined })
    }
  })

  // Given whole to clickhouse-js, the path would become the database over SPANLENS_CLICKHOUSE_DATABASE.
  it("takes a URL's path as a reverse proxy's prefix, as written, and the database from its variable", () => {
    for (const [url, pathname] of [['http://proxy:8080/clickhouse/', '/clickhouse/'], ['https://gw.internal/db/ch', '/db/ch']] as const) {
      const store = loadConfig({ env: { SPANLENS_CLICKHOUSE_URL: url, SPANLENS_CLICKHOUSE_DATABASE: 'spanlens_prod' } }).store
      expect({ url: store.url, pathname: store.pathname, database: store.database }).toEqual({ url: new URL(url).origin, pathname, database: 'spanlens_prod' })
    }
  })

  it.each([
    ['SPANLENS_CLICKHOUSE_URL', 'http://spanlens:topsecret@127.0.0.1:9481:badport', {}],
    ['SPANLENS_CLICKHOUSE_URL', 'ftp://spanlens:topsecret@127.0.0.1:9481', {}],
    ['SPANLENS_CLICKHOUSE_URL', 'spanlens:topsecret@127.0.0.1:9481', {}],
    ['SPANLENS_CLICKHOUSE_URL', 'http://spanlens:top/sec@ret@127.0.0.1:9481', {}],
    ['SPANLENS_CLICKHOUSE_NODES', 'http://n1:8123,http://spanlens:topsecret@127.0.0.1:99999', cluster],
  ])('never shows the password of a refused %s (%s)', (name, value, env) => {
    const message = invalid({ ...env, [name]: value }).message
    expect(message).toContain(name)
    expect(message).not.toMatch(/topsecret|top\/sec|sec@ret/)
    expect(message).toContain('***@')
  })
})
