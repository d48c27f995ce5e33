// Vercel AI SDK v6 (`ai` 6.x + @ai-sdk/openai 3.x): built-in OpenTelemetry spans with the legacy
// `ai.*` attribute set (plus some gen_ai.*), enabled per call with experimental_telemetry.
import * as ai from 'ai';
import { createOpenAI } from '@ai-sdk/openai';
import { z } from 'zod';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { COLLECTOR_URL } from '../../lib/scenario.mjs';
import { makeNodeProvider } from '../../lib/otel-node-provider.mjs';
import { recordVercel } from '../../lib/vercel-record.mjs';

const provider = makeNodeProvider({ NodeTracerProvider, BatchSpanProcessor, resourceFromAttributes, OTLPTraceExporter, serviceName: 'fixture-vercel-ai', url: `${COLLECTOR_URL}/v1/traces` });
const failures = await recordVercel({ convention: 'vercel-ai', ai, createOpenAI, z, v7: false, flush: () => provider.forceFlush(), shutdown: () => provider.shutdown() });
process.exit(failures ? 1 : 0);
