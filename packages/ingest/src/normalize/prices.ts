/**
 * USD per million tokens, as published by each provider (list prices, standard
 * tier, checked 2026-11). `cachedInput` is the price of a cache read, `cacheWrite`
 * of a cache write (Anthropic). A model id is priced by its own entry, or by the
 * entry it pins a snapshot of ("gpt-4o-2024-08-06" is gpt-4o's; cost.ts SNAPSHOT says
 * which suffixes pin one), else not at all: a variant that costs otherwise (-pro,
 * -32k, -instruct) and a snapshot priced apart from its alias have entries of their own.
 * Override or extend with SPANLENS_PRICES_FILE.
 */
export interface ModelPrice {
  input: number
  output: number
  cachedInput?: number
  cacheWrite?: number
}

export const DEFAULT_PRICES: Record<string, ModelPrice> = {
  // OpenAI
  'gpt-5': { input: 1.25, output: 10, cachedInput: 0.125 },
  'gpt-5-mini': { input: 0.25, output: 2, cachedInput: 0.025 },
  'gpt-5-nano': { input: 0.05, output: 0.4, cachedInput: 0.005 },
  'gpt-5-pro': { input: 15, output: 120 },
  'gpt-4.5-preview': { input: 75, output: 150, cachedInput: 37.5 },
  'gpt-4.1': { input: 2, output: 8, cachedInput: 0.5 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6, cachedInput: 0.1 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4, cachedInput: 0.025 },
  'gpt-4o': { input: 2.5, output: 10, cachedInput: 1.25 },
  'gpt-4o-2024-05-13': { input: 5, output: 15 },
  'gpt-4o-mini': { input: 0.15, output: 0.6, cachedInput: 0.075 },
  'gpt-4-turbo': { input: 10, output: 30 },
  'gpt-4': { input: 30, output: 60 },
  'gpt-4-32k': { input: 60, output: 120 },
  'gpt-3.5-turbo': { input: 0.5, output: 1.5 },
  'gpt-3.5-turbo-1106': { input: 1, output: 2 },
  'gpt-3.5-turbo-0613': { input: 1.5, output: 2 },
  'gpt-3.5-turbo-instruct': { input: 1.5, output: 2 },
  o1: { input: 15, output: 60, cachedInput: 7.5 },
  'o1-pro': { input: 150, output: 600 },
  'o1-mini': { input: 1.1, output: 4.4, cachedInput: 0.55 },
  o3: { input: 2, output: 8, cachedInput: 0.5 },
  'o3-pro': { input: 20, output: 80 },
  'o3-mini': { input: 1.1, output: 4.4, cachedInput: 0.55 },
  'o4-mini': { input: 1.1, output: 4.4, cachedInput: 0.275 },
  'gpt-oss-120b': { input: 0.15, output: 0.6 },
  'gpt-oss-20b': { input: 0.05, output: 0.2 },
  'text-embedding-3-small': { input: 0.02, output: 0 },
  'text-embedding-3-large': { input: 0.13, output: 0 },
  'text-embedding-ada-002': { input: 0.1, output: 0 },
  // Anthropic
  'claude-opus-4-5': { input: 5, output: 25, cachedInput: 0.5, cacheWrite: 6.25 },
  'claude-opus-4-1': { input: 15, output: 75, cachedInput: 1.5, cacheWrite: 18.75 },
  'claude-opus-4': { input: 15, output: 75, cachedInput: 1.5, cacheWrite: 18.75 },
  'claude-sonnet-4-5': { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75 },
  'claude-sonnet-4': { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75 },
  'claude-haiku-4-5': { input: 1, output: 5, cachedInput: 0.1, cacheWrite: 1.25 },
  'claude-3-7-sonnet': { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75 },
  'claude-3-5-sonnet': { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75 },
  // Vertex AI's name for the October 2024 snapshot (claude-3-5-sonnet-v2@20241022).
  'claude-3-5-sonnet-v2': { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75 },
  'claude-3-5-haiku': { input: 0.8, output: 4, cachedInput: 0.08, cacheWrite: 1 },
  'claude-3-opus': { input: 15, output: 75, cachedInput: 1.5, cacheWrite: 18.75 },
  'claude-3-haiku': { input: 0.25, output: 1.25, cachedInput: 0.03, cacheWrite: 0.3 },
  // Google
  'gemini-2.5-pro': { input: 1.25, output: 10, cachedInput: 0.31 },
  'gemini-2.5-flash': { input: 0.3, output: 2.5, cachedInput: 0.075 },
  'gemini-2.5-flash-lite': { input: 0.1, output: 0.4, cachedInput: 0.025 },
  'gemini-2.0-flash': { input: 0.1, output: 0.4, cachedInput: 0.025 },
  'gemini-2.0-flash-lite': { input: 0.075, output: 0.3 },
  'gemini-1.5-pro': { input: 1.25, output: 5 },
  'gemini-1.5-flash': { input: 0.075, output: 0.3 },
  'text-embedding-004': { input: 0, output: 0 },
  // Mistral
  'mistral-large': { input: 2, output: 6 },
  'mistral-medium': { input: 0.4, output: 2 },
  'mistral-small': { input: 0.1, output: 0.3 },
  codestral: { input: 0.3, output: 0.9 },
  'ministral-8b': { input: 0.1, output: 0.1 },
  'ministral-3b': { input: 0.04, output: 0.04 },
  'open-mistral-nemo': { input: 0.15, output: 0.15 },
  'pixtral-large': { input: 2, output: 6 },
  'mistral-embed': { input: 0.1, output: 0 },
  // Open models (typical hosted list prices)
  'llama-3.3-70b': { input: 0.88, output: 0.88 },
  'llama-3.1-405b': { input: 3.5, output: 3.5 },
  'llama-3.1-70b': { input: 0.88, output: 0.88 },
  'llama-3.1-8b': { input: 0.18, output: 0.18 },
  'llama-4-maverick': { input: 0.27, output: 0.85 },
  'llama-4-scout': { input: 0.18, output: 0.59 },
  'deepseek-chat': { input: 0.27, output: 1.1, cachedInput: 0.07 },
  'deepseek-v3': { input: 0.27, output: 1.1, cachedInput: 0.07 },
  'deepseek-reasoner': { input: 0.55, output: 2.19, cachedInput: 0.14 },
  'deepseek-r1': { input: 0.55, output: 2.19, cachedInput: 0.14 },
  'qwen2.5-72b': { input: 1.2, output: 1.2 },
  'mixtral-8x7b': { input: 0.6, output: 0.6 },
}
