export { consoleHandler, consoleRoutes, isReserved, type ConsoleRoutesOptions } from './routes.js'
export { consoleAssetsDir } from './assets.js'
