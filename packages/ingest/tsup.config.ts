import { cpSync, mkdirSync } from 'node:fs'
import { defineConfig } from 'tsup'

export default defineConfig({
  entry: ['src/index.ts', 'src/store/index.ts', 'src/bin.ts'],
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
