import { fileURLToPath } from 'node:url'
import { defaultClientConditions, defineConfig } from 'vite'

// The browser app lives in web/ and is bundled into dist/web, which consoleRoutes serves.
// Preact's JSX through esbuild: no Babel preset needed.
export default defineConfig({
  root: fileURLToPath(new URL('./web', import.meta.url)),
  base: '/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  // `@spanlens/query/format` (how figures are written, shared with the CLI) from its source:
  // the bundle needs no built query package.
  resolve: { conditions: ['@spanlens/source', ...defaultClientConditions] },
  build: {
    outDir: fileURLToPath(new URL('./dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 200,
  },
  server: { proxy: { '/api': 'http://127.0.0.1:4318' } },
})
