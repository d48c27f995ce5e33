import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config/load.js'
import {
  blockingStatement,
  engineArgv,
  engineConfigXml,
  engineUsersXml,
  stopStatement,
  type ServedClickHouse,
} from '../src/clickhouse-server/engine-args.js'
import { startClickHouseServer } from '../src/clickhouse-server/supervisor.js'
import { errors } from '../src/errors.js'
import { isLoopback } from '../src/loopback.js'

const served: ServedClickHouse = {
  dataDir: '/data/clickhouse',
  host: '127.0.0.1',
  httpPort: 8123,
  tcpPort: 9000,
  username: 'default',
  password: '',
}

describe('the served engine configuration', () => {
  it('stores a password only as its SHA-256 and keeps the engine session user to SYSTEM LISTEN from 127.0.0.1', () => {
    const xml = engineUsersXml({ ...served, username: 'spanlens', password: 'correct horse' })
    expect(xml).not.toContain('correct horse')
    expect(xml).toContain(createHash('sha256').update('correct horse').digest('hex'))
    const sessionUser = /<default>([\s\S]*?)<\/default>/.exec(xml)?.[1] ?? ''
    expect(sessionUser).toContain('<ip>127.0.0.1</ip>')
    expect(sessionUser).toContain('GRANT SYSTEM LISTEN ON *.*')
    expect(sessionUser).not.toContain('access_management')
  })

  it('without a password serves the one passwordless user and no second one', () => {
    const xml = engineUsersXml(served)
    expect(xml.match(/<default>/g)).toHaveLength(1)
    expect(xml).toContain('<password></password>')
  })

  it('refuses a password for the user the engine session logs in as', () => {
    expect(() => engineUsersXml({ ...served, password: 'secret-123' })).toThrow(/cannot be default/)
  })

  it('refuses a user name that is not an XML element name', () => {
    expect(() => engineUsersXml({ ...served, username: 'a<b' })).toThrow(/user name/)
  })

  it('escapes the listen host and names the users file in the main config', () => {
    const xml = engineConfigXml({ ...served, host: '::1' }, '/run/users.xml')
    expect(xml).toContain('<listen_host>::1</listen_host>')
    expect(xml).toContain('<users_config>/run/users.xml</users_config>')
  })

  it('kills exactly its own blocking statement, and the KILL does not match itself', () => {
    const block = blockingStatement('abc123')
    const kill = stopStatement('abc123')
    const prefix = /startsWith\(query, '(.*)'\) SYNC$/.exec(kill)?.[1]?.replace(/\\'/g, "'") ?? ''
    expect(block.startsWith(prefix)).toBe(true)
    expect(kill.startsWith(prefix)).toBe(false)
    expect(blockingStatement('other').startsWith(prefix)).toBe(false)
  })

  it('starts TCP before HTTP, so /ping answering means both listeners ran', () => {
    const query = engineArgv(served, '/run/config.xml', 't').find((a) => a.startsWith('--query=')) ?? ''
    expect(query.indexOf('START LISTEN TCP')).toBeLessThan(query.indexOf('START LISTEN HTTP'))
  })

  it('counts only 127.0.0.0/8, ::1 and localhost as loopback', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost'].every(isLoopback)).toBe(true)
    expect(['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', '127.0.0.1.example.com'].some(isLoopback)).toBe(false)
  })
})

describe('spanlens clickhouse serve settings', () => {
  it('flags win over the environment', () => {
    const config = loadConfig({
      env: { SPANLENS_CLICKHOUSE_SERVE_HTTP_PORT: '18123', SPANLENS_CLICKHOUSE_SERVE_TCP_PORT: '19000' },
      overrides: { SPANLENS_CLICKHOUSE_SERVE_HTTP_PORT: '28123' },
      cwd: '/srv',
    })
    expect(config.clickhouseServe).toEqual({ host: '127.0.0.1', httpPort: 28123, tcpPort: 19000 })
  })

  it('defaults to 8123 and 9000 on 127.0.0.1, and resolves the extra config file', () => {
    const config = loadConfig({ env: { SPANLENS_CLICKHOUSE_SERVE_CONFIG_FILE: 'cluster.xml' }, cwd: '/srv' })
    expect(config.clickhouseServe).toEqual({ host: '127.0.0.1', httpPort: 8123, tcpPort: 9000, configFile: '/srv/cluster.xml' })
  })

  it('a bad port fails start-up naming the variable', () => {
    expect(() => loadConfig({ env: { SPANLENS_CLICKHOUSE_SERVE_TCP_PORT: '0' } })).toThrow(
      expect.objectContaining({ code: errors.CONFIG_INVALID.code, message: expect.stringContaining('SPANLENS_CLICKHOUSE_SERVE_TCP_PORT') }),
    )
  })

  it('refuses a non-loopback bind without a password, and a password for default, before anything starts', async () => {
    await expect(startClickHouseServer({ ...served, host: '0.0.0.0' })).rejects.toMatchObject({ code: errors.CLICKHOUSE_UNSAFE_BIND.code })
    await expect(startClickHouseServer({ ...served, password: 'secret-123' })).rejects.toMatchObject({
      code: errors.CLICKHOUSE_RESERVED_USER.code,
    })
  })
})
