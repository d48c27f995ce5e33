export { consoleRoutes, isReserved, RESERVED_PREFIXES, type ConsoleRoutesOptions } from './routes.js'
export { consoleAssetsDir } from './assets.js'
