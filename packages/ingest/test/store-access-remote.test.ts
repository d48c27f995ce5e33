import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createClient } from '@clickhouse/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config/load.js'
import { createStore, migrate } from '../src/store/index.js'
import { startClickHouseServer, type TestClickHouse } from './helpers/clickhouse-server.js'
import { provided } from './helpers/store-mode.js'
import { removeTempDirs, tempDir } from './helpers/tmp.js'

/**
 * Runs in the `remote` project, on an engine of its own: its users are set by a users
 * file (a served engine has no writable user storage for CREATE USER), as a DBA would
 * give Spanlens a user with rights on one database made for it, and no more.
 */
if (provided()?.mode !== 'remote') throw new Error('store-access-remote.test.ts runs in the remote vitest project')

const ADMIN = { user: 'admin', password: 'admin-pw-123' }
const LIMITED_PASSWORD = 'limited-pw-123'
// Every right Spanlens' migrations need on `made_for_it`, none on other databases;
// no CREATE DATABASE and no grant on system.* either.
const limitedGrants = (db: string) =>
  `<query>GRANT SELECT, INSERT, CREATE TABLE, CREATE VIEW, DROP TABLE, DROP VIEW, ALTER ON ${db}.*</query><query>GRANT TABLE ENGINE ON *</query>`
const usersXml = `<clickhouse>
  <profiles><default/></profiles>
  <quotas><default/></quotas>
  <users>
    <${ADMIN.user}>
      <password>${ADMIN.password}</password>
      <networks><ip>::/0</ip></networks>
      <profile>default</profile><quota>default</quota>
      <access_management>1</access_management>
    </${ADMIN.user}>
    <limited>
      <password>${LIMITED_PASSWORD}</password>
      <networks><ip>::/0</ip></networks>
      <profile>default</profile><quota>default</quota>
      <grants>${limitedGrants('made_for_it')}</grants>
    </limited>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip></networks>
      <profile>default</profile><quota>default</quota>
      <grants><query>GRANT SYSTEM LISTEN ON *.*</query></grants>
    </default>
  </users>
</clickhouse>`

let server: TestClickHouse
const configDir = tempDir('spanlens-users-')
beforeAll(async () => {
  const users = join(configDir.path, 'users.xml')
  writeFileSync(users, usersXml)
  server = await startClickHouseServer({ username: ADMIN.user, password: ADMIN.password, config: `<clickhouse><users_config>${users}</users_config></clickhouse>` })
  const admin = createClient({ url: server.httpUrl, username: ADMIN.user, password: ADMIN.password })
  await admin.command({ query: 'CREATE DATABASE made_for_it' })
  await admin.close()
}, 120_000)
afterAll(async () => {
  await server?.stop()
  configDir.cleanup()
  removeTempDirs()
})

function storeConfig(env: Record<string, string>) {
  const dir = tempDir()
  return loadConfig({ env: { SPANLENS_DATA_DIR: dir.path, SPANLENS_CLICKHOUSE_URL: server.httpUrl, ...env } }).store
}

async function openError(env: Record<string, string>): Promise<Error> {
  const err = await createStore(storeConfig(env)).then(
    async (store) => {
      await store.close()
      return undefined
    },
    (e: unknown) => e as Error,
  )
  if (!err) throw new Error('expected createStore to fail')
  return err
}

describe('a user with rights on one database', () => {
  it('starts and migrates on the database made for it in advance, without CREATE DATABASE', async () => {
    const store = await createStore(storeConfig({ SPANLENS_CLICKHOUSE_USER: 'limited', SPANLENS_CLICKHOUSE_PASSWORD: LIMITED_PASSWORD, SPANLENS_CLICKHOUSE_DATABASE: 'made_for_it' }))
    try {
      expect((await migrate(store)).applied.length).toBeGreaterThan(0)
      expect((await migrate(store)).applied).toEqual([])
    } finally {
      await store.close()
    }
  })

  it('is refused a database that is not there, with the grant it lacks and the way round it', async () => {
    const err = await openError({ SPANLENS_CLICKHOUSE_USER: 'limited', SPANLENS_CLICKHOUSE_PASSWORD: LIMITED_PASSWORD, SPANLENS_CLICKHOUSE_DATABASE: 'not_made' })
    expect(err).toMatchObject({ code: 'SPANLENS_STORE_REFUSED' })
    expect(err.message).toMatch(/SPANLENS_CLICKHOUSE_USER.*CREATE DATABASE/)
  })
})

describe('a login the server does not accept', () => {
  it('is refused naming the user and password variables, never showing the password', async () => {
    const err = await openError({ SPANLENS_CLICKHOUSE_USER: 'limited', SPANLENS_CLICKHOUSE_PASSWORD: 'not-the-password-42' })
    expect(err).toMatchObject({ code: 'SPANLENS_STORE_REFUSED' })
    expect(err.message).toMatch(/SPANLENS_CLICKHOUSE_USER and SPANLENS_CLICKHOUSE_PASSWORD/)
    expect(err.message).not.toContain('not-the-password-42')
  })

  it('still reports a server that does not answer as unreachable', async () => {
    const err = await openError({ SPANLENS_CLICKHOUSE_URL: 'http://127.0.0.1:1', SPANLENS_CLICKHOUSE_REQUEST_TIMEOUT_MS: '2000' })
    expect(err).toMatchObject({ code: 'SPANLENS_STORE_UNREACHABLE' })
  })
})
