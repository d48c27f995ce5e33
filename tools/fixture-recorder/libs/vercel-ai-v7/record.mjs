// Vercel AI SDK v7 (`ai` 7.x + @ai-sdk/openai 4.x + @ai-sdk/otel): registerTelemetry(new OpenTelemetry())
// emits OTel GenAI semconv spans (invoke_agent / chat / execute_tool / embeddings ...).
import * as ai from 'ai';
import { createOpenAI } from '@ai-sdk/openai';
import { OpenTelemetry } from '@ai-sdk/otel';
import { z } from 'zod';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { COLLECTOR_URL } from '../../lib/scenario.mjs';
import { makeNodeProvider } from '../../lib/otel-node-provider.mjs';
import { recordVercel } from '../../lib/vercel-record.mjs';

const provider = makeNodeProvider({ NodeTracerProvider, BatchSpanProcessor, resourceFromAttributes, OTLPTraceExporter, serviceName: 'fixture-vercel-ai-v7', url: `${COLLECTOR_URL}/v1/traces` });
// runtimeContext: true -> ai.settings.context.* attributes (the only way user/session reach v7 spans);
// usage: true -> supplemental ai.response.usage (provider-native usage JSON).
ai.registerTelemetry(new OpenTelemetry({ runtimeContext: true, usage: true }));
const failures = await recordVercel({ convention: 'vercel-ai-v7', ai, createOpenAI, z, v7: true, flush: () => provider.forceFlush(), shutdown: () => provider.shutdown() });
process.exit(failures ? 1 : 0);
