import OpenAI from 'openai'
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions'
import { init, observe, score, shutdown, span, withContext, wrapOpenAI } from '@spanlens/sdk'
import { DOCS } from './docs.js'

/**
 * A retrieval-augmented answer, traced as one tree:
 *
 *   answer_question (chain)
 *   ├─ retrieve (retrieval)
 *   │  └─ embeddings text-embedding-3-small (embedding)
 *   ├─ chat gpt-4o-mini (llm: decides to call get_weather)
 *   ├─ get_weather (tool)
 *   └─ chat gpt-4o-mini (llm: the answer)
 *
 * then the user's thumbs-up is attached to the trace with score().
 */
export interface RagOptions {
  question?: string
  userId?: string
  sessionId?: string
}

export interface RagResult {
  answer: string
  traceId: string
  sources: string[]
  scored: boolean
}

const EMBEDDING_MODEL = 'text-embedding-3-small'
const DIMENSIONS = 256

const tools: ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Current weather for a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  },
]

export async function main(options: RagOptions = {}): Promise<RagResult> {
  const { question = 'What should I pack for Paris this weekend?', userId = 'user-42', sessionId = `trip-${Date.now()}` } = options
  const model = process.env.OPENAI_MODEL ?? 'gpt-4o-mini'

  init({ serviceName: 'rag-chain' }) // SPANLENS_ENDPOINT, SPANLENS_API_KEY
  const openai = wrapOpenAI(new OpenAI()) // OPENAI_BASE_URL, OPENAI_API_KEY

  // Index once at start-up (its own short trace: one embeddings span).
  const index = await embed(openai, DOCS.map((d) => d.text))

  const retrieve = observe(
    'retrieve',
    async (query: string, k = 2) => {
      const [q] = await embed(openai, [query])
      return DOCS.map((doc, i) => ({ ...doc, score: cosine(q!, index[i]!) }))
        .sort((a, b) => b.score - a.score)
        .slice(0, k)
    },
    { kind: 'retrieval' },
  )

  const getWeather = observe('get_weather', async ({ city }: { city: string }) => ({ city, forecast: 'light rain', celsius: 14 }), { kind: 'tool' })

  const answerQuestion = (q: string) =>
    span('answer_question', async (root) => {
      root.setInput(q)
      const docs = await retrieve(q)
      const messages: ChatCompletionMessageParam[] = [
        { role: 'system', content: `Answer from these articles and the weather tool.\n\n${docs.map((d) => `[${d.id}] ${d.text}`).join('\n')}` },
        { role: 'user', content: q },
      ]
      // First call: the model asks for the weather.
      const first = await openai.chat.completions.create({ model, messages, tools })
      const message = first.choices[0]!.message
      messages.push(message)
      for (const call of message.tool_calls ?? []) {
        if (call.type !== 'function') continue
        const result = await getWeather(JSON.parse(call.function.arguments) as { city: string })
        messages.push({ role: 'tool', tool_call_id: call.id, content: JSON.stringify(result) })
      }
      // Second call: the answer, grounded in the articles and the tool result.
      const second = await openai.chat.completions.create({ model, messages, tools })
      const answer = second.choices[0]?.message.content ?? ''
      root.setOutput(answer)
      return { answer, traceId: root.traceId, sources: docs.map((d) => d.id) }
    }, { kind: 'chain', captureOutput: false }) // the answer, set above, not the whole result

  const result = await withContext({ userId, sessionId, tags: ['rag'] }, () => answerQuestion(question))

  // Later, the user clicks thumbs-up: feedback lands on the same trace.
  const scored = await score({ traceId: result.traceId, name: 'user_feedback', value: 1, comment: 'helpful', source: 'user' })
  await shutdown()
  return { ...result, scored }
}

async function embed(openai: OpenAI, input: string[]): Promise<number[][]> {
  const r = await openai.embeddings.create({ model: EMBEDDING_MODEL, input, dimensions: DIMENSIONS })
  return r.data.map((d) => d.embedding)
}

function cosine(a: number[], b: number[]): number {
  let dot = 0
  let na = 0
  let nb = 0
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!
    na += a[i]! ** 2
    nb += b[i]! ** 2
  }
  return dot / (Math.sqrt(na * nb) || 1)
}
