/**
 * The only errors the SDK throws on purpose, all at `init` time. Everything after
 * `init` reports through the diagnostic logger instead (see diag.ts): an
 * observability library must never be the reason an app call fails.
 */
export class SpanlensSdkError extends Error {
  readonly code: SpanlensSdkErrorCode

  constructor(code: SpanlensSdkErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'SpanlensSdkError'
    this.code = code
  }
}

export type SpanlensSdkErrorCode = 'SPANLENS_SDK_CONFIG_INVALID' | 'SPANLENS_SDK_ALREADY_INITIALIZED'

export const errors = {
  configInvalid: (details: string) =>
    new SpanlensSdkError('SPANLENS_SDK_CONFIG_INVALID', `invalid Spanlens SDK option: ${details}`),
  alreadyInitialized: () =>
    new SpanlensSdkError(
      'SPANLENS_SDK_ALREADY_INITIALIZED',
      'Spanlens SDK is already initialized; call shutdown() before init() again',
    ),
}

export function isSpanlensSdkError(err: unknown): err is SpanlensSdkError {
  return err instanceof SpanlensSdkError
}
