// OpenLLMetry / Traceloop: REAL @traceloop/node-server-sdk (version pinned in this folder's package.json).
process.env.TRACELOOP_TELEMETRY = 'false';
import { createRequire } from 'node:module';
import { recordTraceloop } from '../../lib/traceloop-record.mjs';
const require = createRequire(import.meta.url);
const traceloop = require('@traceloop/node-server-sdk');
const { OpenAI } = require('openai');
const failures = await recordTraceloop({ convention: 'openllmetry-legacy', traceloop, OpenAI });
process.exit(failures ? 1 : 0);
