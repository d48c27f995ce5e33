import { configDefaults, defineConfig, type TestProjectInlineConfiguration } from 'vitest/config'

// Where test files run. By default each file has a process of its own (forks, isolate): what one
// file starts, registers or leaves open never meets another. With SPANLENS_TEST_SHARED_PROCESSES=1
// (the test script's first run) the integration projects run their files in two long-lived
// processes, one file after another, with the modules they share loaded once (isolate: false).
// Measured on the 2-core host, the whole suite: 1,294 CPU-s and 760 s with a process per file;
// 1,167 CPU-s and 709 s as the test script runs it (a process per file paid ~1 s of imports and
// libchdb's load before its first test). The suite is CPU-bound (1.65–1.7 cores busy on average
// either way): running the two runs at once took as long, and a console test timed out. Vitest
// still runs each project's files apart from other projects' (it starts the processes again
// between projects, after the last file of the one before has ended). What a file leaves behind meets the next file in
// its process, so a file closes its embedded store (libchdb holds one data directory at a time
// per process, and opens another once the first is closed) and stops what it started, and
// shared-process.ts gives each file the environment a fresh process would have. The SDK's and the
// examples' files keep a process each (the script's second run): the SDK keeps its provider,
// options and queue in module state and the examples register OpenTelemetry instrumentations in
// the process, as an app does.
const SHARED_PROCESSES = process.env.SPANLENS_TEST_SHARED_PROCESSES === '1'
const APART = new Set(['sdk', 'examples'])
const shared = {
  pool: 'forks' as const,
  poolOptions: { forks: { isolate: !SHARED_PROCESSES, maxForks: 2, minForks: 1 } },
  testTimeout: 30_000,
  hookTimeout: 60_000,
}

// The same behaviour over the other two stores: one served ClickHouse (`remote`) and
// a two-shard cluster with per-node DDL (`cluster`). A globalSetup starts the
// server(s) once per project; startServer()/openStore() then use a database of their own.
// Every file below also runs embedded. Each runs on the served store where it can fail
// differently, once: both served modes write through the same HTTP client, and only the
// cluster reads through Distributed tables. So what the receiver stores runs on one
// served engine; what reads and analyses, on the cluster; what could store a row twice or
// not at all across shards (a replay, a retried insert, a migration), on both. Served engines
// are the suite's dearest place for a test: the cluster takes 2–4× one engine's time, and with
// every file on both, the engines' CPU was 31% of the suite's (438 of 1,406 CPU-s, 2026-12-06).
// Left out, embedded-only by nature: chDB's leftover output, thread priority,
// data-dir locking and full-disk tests, the served-engine tests themselves.
const STORED_BOTH = ['span-round-trip', 'durability', 'dead-letter-cli', 'set-aside', 'migrate-cli', 'migrate-rollup-tokens', 'migrate-trace-hours', 'otlp-logs-restart'].map((f) => `packages/ingest/test/${f}.test.ts`)
const SERVED_MODAL = {
  // ingest's isolation: on one served engine, its tests of what a project may store and what SQL
  // statistics show; its walk of every route and filter runs embedded only (the file says why).
  // time-params: how each route passes times to ClickHouse as query parameters, which both
  // served modes send alike (17.9 s on the cluster, 5.9 s here).
  remote: [...STORED_BOTH, ...['receiver', 'isolation', 'otlp-metrics', 'otlp-logs', 'stored-rows'].map((f) => `packages/ingest/test/${f}.test.ts`), 'packages/query/test/time-params.test.ts'],
  cluster: [
    ...STORED_BOTH,
    ...['http', 'sql', 'isolation', 'bias', 'drift', 'content-window', 'content-merge', 'slo', 'cli-analyses', 'metrics', 'trace-reads', 'listing-window', 'trace-hours'].map((f) => `packages/query/test/${f}.test.ts`),
    // Which rows of a doubtful segment the shards hold, read through the Distributed table.
    'packages/ingest/test/stored-rows.test.ts',
  ],
}
const storeModeProjects = (['remote', 'cluster'] as const).map((mode) => ({
  extends: true as const,
  test: {
    name: mode,
    // "What we acknowledge, ClickHouse accepts" holds over HTTP inserts too: the OTLP
    // fuzz and edge-value property run against the served ClickHouse, fewer cases.
    // pnpm demo's planted answers, compared with an embedded twin fed the same requests: on the
    // cluster only, whose served engines answer over HTTP as one server does (~17 s a mode).
    include: [
      ...SERVED_MODAL[mode],
      `packages/*/test/*-${mode}.test.ts`,
      ...(mode === 'remote' ? ['packages/ingest/test/otlp-fuzz.test.ts'] : ['examples/demo/test/demo.test.ts']),
    ],
    // A served engine that exits mid-run is reported with its last stderr lines and
    // started again on its data and ports (global-clickhouse.ts).
    env: { SPANLENS_FUZZ_CASES: '300', SPANLENS_FUZZ_PROPERTY_RUNS: '15' },
    globalSetup: ['packages/ingest/test/helpers/global-clickhouse.ts'],
    setupFiles: ['packages/ingest/test/helpers/shared-process.ts', 'packages/ingest/test/helpers/served-nodes-up.ts', ...(mode === 'cluster' && process.env.SPANLENS_FORCE_RETRY === '1' ? ['packages/ingest/test/helpers/force-retry.ts'] : [])],
    // A served engine can end in std::terminate when a peer resets a native-protocol
    // connection, which on the cluster happens when any node cancels a Distributed query
    // or insert (a limit, a client killed mid-insert): every test in flight on it fails
    // with a refused connection. The harness restarts the engine and prints why it died;
    // a failed test runs again (up to twice) once every node answers (served-nodes-up.ts).
    // One served engine has no peer to reset it: no retries there. A retry runs on the same
    // store, so a test must not meet the rows of its attempt before (names, ids or projects of
    // its own per attempt); SPANLENS_FORCE_RETRY=1 checks every test so (helpers/force-retry.ts).
    ...(mode === 'cluster' ? { retry: 2 } : {}),
  },
}))

export default defineConfig({
  resolve: { conditions: ['@spanlens/source'] },
  ssr: { resolve: { conditions: ['@spanlens/source'] } },
  test: {
    ...shared,
    projects: (
      [
        ...['ingest', 'query', 'sdk'].map((name) => ({
          extends: true as const,
          test: {
            name,
            include: [`packages/${name}/test/**/*.test.ts`],
            exclude: [...configDefaults.exclude, '**/*-cluster.test.ts', '**/*-remote.test.ts', '**/*.unit.test.ts'],
            // A new embedded store from the test helpers starts as a copy of one migrated once per run.
            ...(name === 'sdk' ? {} : { globalSetup: ['packages/ingest/test/helpers/global-store-template.ts'], setupFiles: ['packages/ingest/test/helpers/shared-process.ts'] }),
          },
        })),
        // Pure logic: no store, server, connection or child process (the setup file refuses each),
        // so the files run one after another in one worker without per-file isolation, in seconds.
        // (Vitest 3 takes the pool's own isolation from the root config; a project can only choose
        // one worker, `singleThread`, and whether files share its modules, `isolate`.)
        // A thread, not a fork: vitest runs a forks project's `singleFork` files only after every
        // other forks file has ended, ~17 s with one of the two cores idle at the end of the run;
        // another pool runs beside the forks from the start.
        {
          extends: true,
          test: {
            name: 'unit',
            include: ['packages/*/test/**/*.unit.test.ts'],
            pool: 'threads',
            poolOptions: { threads: { singleThread: true, isolate: false } },
            setupFiles: ['packages/ingest/test/helpers/unit-guard.ts'],
          },
        },
        ...storeModeProjects,
        // Browser tests of the web console: builds the bundle and finds Chromium first.
        { extends: true, test: { name: 'console', include: ['packages/console/test/**/*.test.ts'], exclude: [...configDefaults.exclude, '**/*.unit.test.ts'], globalSetup: ['packages/console/test/global-setup.ts'], setupFiles: ['packages/ingest/test/helpers/shared-process.ts'] } },
        // The example apps, end to end: each runs against the fake LLM provider and a real server on embedded
        // ClickHouse; and pnpm demo's workload, in which the reports find the drift, the refused group and
        // the SLO burn it plants.
        { extends: true, test: { name: 'examples', include: ['examples/*/test/**/*.test.ts'] } },
      ] satisfies TestProjectInlineConfiguration[]
    ).filter((project) => !(SHARED_PROCESSES && APART.has(project.test?.name ?? ''))),
  },
})
