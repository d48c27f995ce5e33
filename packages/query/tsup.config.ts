import { defineConfig } from 'tsup'

export default defineConfig({
  // errors: the catalogue, imported by @spanlens/ingest without the analytics (`@spanlens/query/errors`).
  entry: ['src/index.ts', 'src/errors.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
})
