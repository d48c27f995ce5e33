import type { TestProject } from 'vitest/node'
import { startClickHouseServer, startTwoShardCluster } from './clickhouse-server.js'
import type { ProvidedClickHouse } from './store-mode.js'

/**
 * globalSetup of the remote and cluster projects: starts the served ClickHouse
 * once for all of the project's files (each file uses databases of its own,
 * store-mode.ts) and stops it after them. The mode is the project's name.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const mode = project.name === 'cluster' ? 'cluster' : 'remote'
  if (mode === 'remote') {
    const server = await startClickHouseServer({ username: 'spanlens', password: 'pw-for-tests-123' })
    const provided: ProvidedClickHouse = { mode, url: server.httpUrl, username: server.username, password: server.password }
    project.provide('spanlensClickHouse', provided)
    return () => server.stop()
  }
  // The nodes reach each other as the passwordless `default` user named by
  // <remote_servers> (the harness's cluster has no other user); Spanlens uses it too.
  const cluster = await startTwoShardCluster()
  const provided: ProvidedClickHouse = {
    mode,
    url: cluster.nodes[0].httpUrl,
    username: 'default',
    password: '',
    cluster: cluster.cluster,
    nodes: cluster.nodes.map((n) => n.httpUrl),
  }
  project.provide('spanlensClickHouse', provided)
  return () => cluster.stop()
}
