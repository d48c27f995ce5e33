// The project API key lives in sessionStorage: gone when the tab closes, never in a cookie.
const KEY = 'spanlens.apiKey'

export function storedKey(): string | null {
  try {
    return sessionStorage.getItem(KEY)
  } catch {
    return null
  }
}

export function storeKey(key: string): void {
  sessionStorage.setItem(KEY, key)
}

export function clearKey(): void {
  sessionStorage.removeItem(KEY)
}
