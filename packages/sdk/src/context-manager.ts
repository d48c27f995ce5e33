import { AsyncLocalStorage } from 'node:async_hooks'
import { ROOT_CONTEXT, type Context, type ContextManager } from '@opentelemetry/api'

/**
 * The smallest AsyncLocalStorage context manager OpenTelemetry needs. It keeps
 * the active span across `await`, timers, `Promise.all` and callbacks, which is
 * what makes nested LLM/tool spans land under the right parent. Registered only
 * when the app has none, so an existing OTel setup keeps its own.
 */
export class AsyncLocalStorageContextManager implements ContextManager {
  private storage = new AsyncLocalStorage<Context>()

  active(): Context {
    return this.storage.getStore() ?? ROOT_CONTEXT
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    const cb = thisArg == null ? fn : fn.bind(thisArg)
    return this.storage.run(ctx, cb as never, ...args) as ReturnType<F>
  }

  bind<T>(ctx: Context, target: T): T {
    if (typeof target !== 'function') return target
    const manager = this
    const fn = target as unknown as (...args: unknown[]) => unknown
    const bound = function (this: unknown, ...args: unknown[]) {
      return manager.with(ctx, () => fn.apply(this, args))
    }
    return bound as unknown as T
  }

  enable(): this {
    return this
  }

  disable(): this {
    this.storage.disable()
    return this
  }
}
