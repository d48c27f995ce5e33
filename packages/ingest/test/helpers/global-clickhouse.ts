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
 * A node that exits while the project's files still run fails every later file
 * with connection errors that do not say why; print what the engine last wrote
 * (ClickHouse logs its fatal signal and stack trace to stderr) where the run's
 * output shows it.
 */
function reportDeath(nodes: TestClickHouse[]): { stopping: boolean } {
  const watch = { stopping: false }
  for (const node of nodes) {
    void node.exited.then((code) => {
      if (watch.stopping) return
      console.error(
        `served ClickHouse on ${node.httpUrl} (pid ${node.pid}) exited with ${code ?? node.exitSignal()} during the run; its last stderr lines:\n${node.stderrTail().join('\n')}`,
      )
    })
  }
  return watch
}
