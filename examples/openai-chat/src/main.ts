import OpenAI from 'openai'
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions'
import { init, observe, shutdown, withContext, wrapOpenAI } from '@spanlens/sdk'

/**
 * A streaming support chat. Each user turn is a `chat_turn` span with the
 * streamed `chat <model>` LLM call under it (time to first token, tokens from
 * the final usage chunk, the assembled answer); all turns share one session.
 */
export interface ChatOptions {
  questions?: string[]
  userId?: string
  sessionId?: string
  /** Where the streamed answer goes; stdout by default. */
  write?: (text: string) => void
}

export async function main(options: ChatOptions = {}): Promise<string[]> {
  const {
    questions = ['Where is my order?', 'Can I still change the delivery address?'],
    userId = 'user-42',
    sessionId = `chat-${Date.now()}`,
    write = (text: string) => void process.stdout.write(text),
  } = options
  const model = process.env.OPENAI_MODEL ?? 'gpt-4o-mini'

  // Endpoint and key from SPANLENS_ENDPOINT / SPANLENS_API_KEY (default http://localhost:4318, no key).
  init({ serviceName: 'openai-chat' })
  // Base URL and key from OPENAI_BASE_URL / OPENAI_API_KEY, as the openai client always does.
  const openai = wrapOpenAI(new OpenAI())

  const history: ChatCompletionMessageParam[] = [{ role: 'system', content: 'You are a concise support assistant for an online shop.' }]
  const chatTurn = observe('chat_turn', async (question: string) => {
    history.push({ role: 'user', content: question })
    const stream = await openai.chat.completions.create({
      model,
      messages: history,
      stream: true,
      stream_options: { include_usage: true }, // token counts arrive in a final chunk
    })
    let answer = ''
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta.content ?? ''
      answer += delta
      write(delta)
    }
    write('\n')
    history.push({ role: 'assistant', content: answer })
    return answer
  })

  const answers: string[] = []
  await withContext({ userId, sessionId }, async () => {
    for (const question of questions) {
      write(`> ${question}\n`)
      answers.push(await chatTurn(question))
    }
  })
  await shutdown() // flushes what is queued
  return answers
}
