// Opens the embedded store on argv[2] and prints the error code, for the
// "second process on the same data directory" test. Exit 3 = expected failure.
import { loadConfig } from '../../src/config/load.js'
import { createStore } from '../../src/store/index.js'
import { isSpanlensError } from '../../src/errors.js'

const dir = process.argv[2] as string
try {
  const config = loadConfig({ env: { SPANLENS_DATA_DIR: dir } })
  const store = await createStore(config.store)
  await store.close()
  console.log('OPENED')
  process.exit(0)
} catch (err) {
  console.log(isSpanlensError(err) ? `${err.code} ${err.message}` : String(err))
  process.exit(3)
}
