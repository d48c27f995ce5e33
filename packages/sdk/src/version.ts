// Kept by hand in step with package.json: reading package.json at runtime breaks bundlers.
export const SDK_VERSION = '0.1.0'
