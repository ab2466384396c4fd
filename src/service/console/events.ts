import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

const KEEP_ALIVE_MS = 15_000

/** Sends `snapshot()` as the event `name` whenever it changes (checked every `intervalMs`). */
export interface EventSource {
  readonly name: string
  readonly intervalMs: number
  readonly snapshot: () => Promise<string>
}

/**
 * Server-sent events by polling the store: each replica answers its own browsers from what is committed, so
 * a vote recorded anywhere shows everywhere without a message bus. Streams end when the server stops.
 */
export function eventStreams(app: FastifyInstance) {
  const open = new Set<() => void>()
  app.addHook('preClose', async () => {
    for (const end of [...open]) end()
  })
  return (request: FastifyRequest, reply: FastifyReply, source: EventSource): void => {
    reply.hijack()
    const raw = reply.raw
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    })
    let last: string | undefined
    let stopped = false
    let quietSince = Date.now()
    const send = async () => {
      const data = await source.snapshot().catch(() => undefined)
      if (stopped) return
      if (data === undefined || data === last) {
        // A comment now and then: the listener closes connections idle for a minute.
        if (Date.now() - quietSince >= KEEP_ALIVE_MS) {
          quietSince = Date.now()
          raw.write(': still here\n\n')
        }
        return
      }
      last = data
      quietSince = Date.now()
      raw.write(
        `event: ${source.name}\n${data
          .split('\n')
          .map((line) => `data: ${line}\n`)
          .join('')}\n`,
      )
    }
    const timer = setInterval(() => void send(), source.intervalMs)
    const end = () => {
      if (stopped) return
      stopped = true
      clearInterval(timer)
      open.delete(end)
      raw.end()
    }
    open.add(end)
    request.raw.on('close', end)
    void send()
  }
}
