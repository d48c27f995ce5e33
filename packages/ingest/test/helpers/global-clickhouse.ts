import type { TestProject } from 'vitest/node'
import { startClickHouseServer, startTwoShardCluster, type TestClickHouse } from './clickhouse-server.js'
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
    const watch = reportDeath([server])
    return () => {
      watch.stopping = true
      return server.stop()
    }
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
  const watch = reportDeath(cluster.nodes)
  return () => {
    watch.stopping = true
    return cluster.stop()
  }
}

/**
 * A node that exits while the project's files still run would fail every later
 * file with connection errors that do not say why. Print what the engine last
 * wrote and how it ended, and start it again on its data and ports, as
 * `spanlens clickhouse serve` does (serve.ts: clickhouse-local ends in
 * std::terminate when a native-protocol peer resets its connection).
 */
function reportDeath(nodes: TestClickHouse[]): { stopping: boolean } {
  const watch = { stopping: false }
  const follow = (node: TestClickHouse) => {
    void node.exited.then(async (code) => {
      if (watch.stopping) return
      console.error(
        `served ClickHouse on ${node.httpUrl} (pid ${node.pid}) exited with ${code ?? node.exitSignal()} at ${new Date().toISOString()}, during the run; starting it again. Its last stderr lines (errors only, maybe long before):\n${node.stderrTail().join('\n')}`,
      )
      try {
        await node.restart()
        follow(node)
      } catch (err) {
        console.error(`served ClickHouse on ${node.httpUrl} could not be started again: ${(err as Error).message}`)
      }
    })
  }
  for (const node of nodes) follow(node)
  return watch
}
