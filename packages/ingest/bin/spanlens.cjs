#!/usr/bin/env node
'use strict'
// The `spanlens` command. CommonJS on purpose: libuv sizes its threadpool once,
// on first use, and loading an ES module entry already uses it, so this is the
// last point where the size can still be chosen.
//
// Every embedded ClickHouse (chDB) call holds one threadpool thread until it
// returns: an insert for up to a second, an analyst's query for as long as it
// runs. With libuv's default of 4, the spool's writes and fsyncs (which gate
// every acknowledgement) and gunzip queued behind them: the bench's paced p99
// dropped from 318-392 ms to 172-213 ms with 16 threads (bench/README.md).
// An explicit UV_THREADPOOL_SIZE wins.
if (process.env.UV_THREADPOOL_SIZE === undefined || process.env.UV_THREADPOOL_SIZE === '') {
  process.env.UV_THREADPOOL_SIZE = '16'
}
import('../dist/bin.js').catch((err) => {
  console.error(err)
  process.exit(1)
})
