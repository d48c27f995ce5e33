import { afterEach } from 'vitest'

/**
 * With SPANLENS_FORCE_RETRY=1, a setupFile of the cluster project (vitest.config.ts): every
 * test's first attempt fails after its body ran, so its retry meets what that attempt left on
 * the store. A test passes only if it is safe to retry, as it must be: the cluster project
 * retries the tests a restarted engine failed, and a retry that finds the rows of the attempt
 * before (the same names, ids or projects) failed every time, which turned one engine restart
 * into a red run. Checked so: `SPANLENS_FORCE_RETRY=1 npx vitest run --project cluster`.
 */
afterEach((ctx) => {
  if ((ctx.task.result?.retryCount ?? 0) === 0) throw new Error('SPANLENS_FORCE_RETRY: the first attempt fails on purpose')
})
