import { defineConfig } from 'tsup'

// The server-side door only (consoleRoutes); the browser app is built by Vite into dist/web.
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
})
