import { clickHouseErrorType, errors, type SpanlensError } from '../errors.js'

/** ClickHouse's types for a login it did not accept. */
const LOGIN = new Set(['AUTHENTICATION_FAILED', 'REQUIRED_PASSWORD', 'UNKNOWN_USER', 'WRONG_PASSWORD', 'IP_ADDRESS_NOT_ALLOWED'])
const PRIVILEGE = new Set(['ACCESS_DENIED', 'NOT_ENOUGH_PRIVILEGES'])
/** Distributed DDL (ON CLUSTER) without the Keeper it needs: `Replicated DDL queries are disabled` is QUERY_IS_PROHIBITED. */
const NO_DISTRIBUTED_DDL = new Set(['QUERY_IS_PROHIBITED', 'NO_ZOOKEEPER'])

/**
 * A ClickHouse answer at open or migration that says the server was reached and will not
 * do what Spanlens asks until a setting changes, as SPANLENS_STORE_REFUSED naming that
 * setting; undefined for anything else (a network failure, a timeout, another error),
 * which the caller reports as before. `where` prefixes ClickHouse's message (a migration file).
 * ClickHouse's messages of these types name the user, never the password.
 */
export function storeRefusal(target: string, err: unknown, facts: { cluster?: string | undefined; where?: string }): SpanlensError | undefined {
  const type = clickHouseErrorType(err)
  const said = `${facts.where ? `${facts.where}: ` : ''}${(err as Error).message.trim()}`
  const refused = (reason: string) => errors.STORE_REFUSED(target, reason, { cause: err })
  if (type === undefined) return undefined
  if (LOGIN.has(type)) return refused(`the login was not accepted; check SPANLENS_CLICKHOUSE_USER and SPANLENS_CLICKHOUSE_PASSWORD (${said})`)
  if (PRIVILEGE.has(type)) {
    return refused(`the user (SPANLENS_CLICKHOUSE_USER) lacks a privilege Spanlens needs (docs/clickhouse.md lists them; a database created for it in advance spares CREATE DATABASE): ${said}`)
  }
  if (type === 'CLUSTER_DOESNT_EXIST') {
    return refused(`cluster ${facts.cluster ?? '(unnamed)'} is not in the server's remote_servers; check SPANLENS_CLICKHOUSE_CLUSTER (${said})`)
  }
  if (NO_DISTRIBUTED_DDL.has(type) && facts.cluster !== undefined) {
    return refused(
      `distributed DDL (ON CLUSTER ${facts.cluster}) is not available there; without Keeper, set SPANLENS_CLICKHOUSE_NODES to run DDL node by node (${said})`,
    )
  }
  return undefined
}
