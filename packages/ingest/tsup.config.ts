import { cpSync, mkdirSync } from 'node:fs'
import { defineConfig } from 'tsup'

export default defineConfig({
  // prepare-worker is loaded by path in a worker thread (pipeline/prepare-pool.ts).
  entry: ['src/index.ts', 'src/store/index.ts', 'src/bin.ts', 'src/pipeline/prepare-worker.ts'],
  format: ['esm'],
  dts: { entry: ['src/index.ts', 'src/store/index.ts'] },
  sourcemap: true,
  clean: true,
  target: 'node20',
  // Ship the migrations inside the package so an installed server finds them
  // without the repository around it.
  async onSuccess() {
    mkdirSync('clickhouse', { recursive: true })
    cpSync('../../clickhouse', 'clickhouse', { recursive: true })
  },
})
