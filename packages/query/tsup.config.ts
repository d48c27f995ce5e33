import { defineConfig } from 'tsup'

export default defineConfig({
  // errors: the catalogue, and span-kinds: the kinds normalization writes, both imported by
  // @spanlens/ingest without the analytics (`@spanlens/query/errors`, `@spanlens/query/span-kinds`);
  // format: how figures are written, shared by the CLI and the console's browser bundle;
  // time-window: the times a record is kept at, which ingest checks spans and log records against;
  // cli/args: how every `spanlens` command reads its arguments, ingest's server commands included;
  // slo/file: the SLO file's reader, which ingest's configuration checks at start.
  entry: ['src/index.ts', 'src/errors.ts', 'src/span-kinds.ts', 'src/format.ts', 'src/query-params.ts', 'src/time-window.ts', 'src/cli/args.ts', 'src/slo/file.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
})
