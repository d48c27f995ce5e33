import Anthropic from '@anthropic-ai/sdk'
import { init, observe, shutdown, withContext, wrapAnthropic } from '@spanlens/sdk'

/**
 * The Anthropic client traced with wrapAnthropic: a plain `messages.create`
 * that drafts a reply, then `messages.stream()` that polishes it token by
 * token, both under one `reply_to_ticket` chain span.
 */
export interface AnthropicOptions {
  ticket?: string
  userId?: string
  /** Where the streamed text goes; stdout by default. */
  write?: (text: string) => void
}

export async function main(options: AnthropicOptions = {}): Promise<{ draft: string; final: string }> {
  const { ticket = 'My parcel arrived damaged, what can I do?', userId = 'user-42', write = (t: string) => void process.stdout.write(t) } = options
  const model = process.env.ANTHROPIC_MODEL ?? 'claude-haiku-4-5'

  init({ serviceName: 'anthropic-support' }) // SPANLENS_ENDPOINT, SPANLENS_API_KEY
  const anthropic = wrapAnthropic(new Anthropic()) // ANTHROPIC_BASE_URL, ANTHROPIC_API_KEY

  const replyToTicket = observe('reply_to_ticket', async (text: string) => {
    const draft = await anthropic.messages.create({
      model,
      max_tokens: 300,
      system: 'You draft short, friendly customer-support replies.',
      messages: [{ role: 'user', content: text }],
    })
    const draftText = draft.content.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('')

    // Streaming: the span records time to first token and the assembled text.
    const stream = anthropic.messages.stream({
      model,
      max_tokens: 300,
      messages: [{ role: 'user', content: `Make this reply warmer, keep it short:\n\n${draftText}` }],
    })
    stream.on('text', write)
    const final = await stream.finalMessage()
    write('\n')
    return { draft: draftText, final: final.content.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('') }
  })

  const result = await withContext({ userId, tags: ['support'] }, () => replyToTicket(ticket))
  await shutdown()
  return result
}
