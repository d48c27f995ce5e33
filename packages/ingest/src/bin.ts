#!/usr/bin/env node
import { main } from './cli/main.js'
import { isSpanlensError } from './errors.js'

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code)
  },
  (err: unknown) => {
    if (isSpanlensError(err)) {
      process.stderr.write(`spanlens: ${err.code}: ${err.message}\n`)
      process.exit(2)
    }
    process.stderr.write(`spanlens: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
    process.exit(1)
  },
)
