// A real server in its own process, for crash tests: prints its URL, runs until killed.
import { loadConfig } from '../../src/config/load.js'
import { buildServer } from '../../src/server.js'

const [dataDir, apiKeys] = process.argv.slice(2) as [string, string]
const config = loadConfig({
  env: {
    SPANLENS_DATA_DIR: dataDir,
    SPANLENS_API_KEYS: apiKeys,
    SPANLENS_LOG_LEVEL: 'silent',
    // Long batches so a kill lands with acknowledged rows still only in the spool.
    SPANLENS_BATCH_MAX_AGE_MS: '1000',
    SPANLENS_BATCH_MAX_ROWS: '3000',
  },
})
const app = await buildServer(config)
const url = await app.listen({ host: '127.0.0.1', port: 0 })
process.stdout.write(`LISTENING ${url}\n`)
