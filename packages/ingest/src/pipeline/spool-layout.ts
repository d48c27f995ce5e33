import type { IngestConfig } from '../config/load.js'
import type { SpoolOptions } from './spool.js'

/**
 * Where the spool is and how it cuts segments, from the configuration: the same for the
 * server that writes it and for `spanlens dead-letter set-aside`, which opens it while no
 * server does (a segment is found by the same rules that wrote it).
 */
export function spoolLayout(config: IngestConfig): Pick<SpoolOptions, 'dir' | 'maxBytes' | 'fsync' | 'segmentMaxRows' | 'segmentMaxBytes' | 'segmentMaxAgeMs'> {
  return {
    dir: config.spoolDir,
    maxBytes: config.spoolMaxBytes,
    fsync: config.spoolFsync,
    segmentMaxRows: config.batchMaxRows,
    segmentMaxBytes: config.batchMaxBytes,
    segmentMaxAgeMs: config.batchMaxAgeMs,
  }
}
