import { generateText, Output, registerTelemetry, stepCountIs, streamText, tool } from 'ai'
import { createAnthropic } from '@ai-sdk/anthropic'
import { createOpenAI } from '@ai-sdk/openai'
import { z } from 'zod'
import { init, observe, shutdown, spanlensAITelemetry, withContext } from '@spanlens/sdk'

/**
 * The Vercel AI SDK traced with spanlensAITelemetry(), one trace per request:
 *
 *   trip_assistant (chain, observe())
 *   ├─ plan_trip (chain: generateText with a tool loop, OpenAI)
 *   │  ├─ chat gpt-4o-mini (llm: calls get_weather)
 *   │  ├─ get_weather (tool)
 *   │  └─ chat gpt-4o-mini (llm: the plan)
 *   ├─ packing_list (chain: streamText, Anthropic)
 *   │  └─ chat claude-haiku-4-5 (llm, streamed)
 *   └─ extract_trip (chain: generateText with Output.object, the successor of generateObject)
 *      └─ chat gpt-4o-mini (llm)
 */
export interface VercelAiOptions {
  request?: string
  userId?: string
  sessionId?: string
  write?: (text: string) => void
}

export interface TripResult {
  plan: string
  packingList: string
  trip: { city: string; days: number; items: string[] }
}

const tripSchema = z.object({ city: z.string(), days: z.number(), items: z.array(z.string()) })

export async function main(options: VercelAiOptions = {}): Promise<TripResult> {
  const {
    request = 'A weekend in Paris, what should I plan and pack?',
    userId = 'user-42',
    sessionId = `trip-${Date.now()}`,
    write = (t: string) => void process.stdout.write(t),
  } = options
  const openaiModel = process.env.OPENAI_MODEL ?? 'gpt-4o-mini'
  const anthropicModel = process.env.ANTHROPIC_MODEL ?? 'claude-haiku-4-5'

  init({ serviceName: 'vercel-ai-trips' }) // SPANLENS_ENDPOINT, SPANLENS_API_KEY
  registerTelemetry(spanlensAITelemetry()) // every generateText/streamText call from here on is traced

  // Providers read OPENAI_BASE_URL/OPENAI_API_KEY and ANTHROPIC_BASE_URL/ANTHROPIC_API_KEY when created.
  const openai = createOpenAI()
  const anthropic = createAnthropic()

  const getWeather = tool({
    description: 'Current weather for a city',
    inputSchema: z.object({ city: z.string() }),
    execute: async ({ city }) => ({ city, forecast: 'light rain', celsius: 14 }),
  })

  const tripAssistant = observe('trip_assistant', async (text: string): Promise<TripResult> => {
    const plan = await generateText({
      model: openai(openaiModel),
      prompt: text,
      tools: { get_weather: getWeather },
      stopWhen: stepCountIs(3),
      telemetry: { functionId: 'plan_trip' },
    })

    const packing = streamText({
      model: anthropic(anthropicModel),
      prompt: `Write a short packing list for this plan:\n${plan.text}`,
      telemetry: { functionId: 'packing_list' },
    })
    let packingList = ''
    for await (const delta of packing.textStream) {
      packingList += delta
      write(delta)
    }
    write('\n')

    const { output: trip } = await generateText({
      model: openai(openaiModel),
      output: Output.object({ schema: tripSchema }),
      prompt: `Extract the city, number of days and items from:\n${plan.text}\n${packingList}`,
      telemetry: { functionId: 'extract_trip' },
    })
    return { plan: plan.text, packingList, trip }
  })

  const result = await withContext({ userId, sessionId }, () => tripAssistant(request))
  await shutdown()
  return result
}
