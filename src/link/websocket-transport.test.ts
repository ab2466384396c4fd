import { once } from 'node:events'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocketServer, type WebSocket } from 'ws'
import { ManualClock } from '../core/index.js'
import { WebSocketLinkTransport, type LinkLogger } from './index.js'

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

interface Upgrade {
  readonly after: string
  readonly authorization: string | undefined
}

/**
 * The hub's stream endpoint, as the test scripts it: `onUpgrade` accepts (with `accept`) or refuses each
 * upgrade. Every upgrade is recorded with the cursor and token it asked with.
 */
async function streamEndpoint(
  onUpgrade: (
    request: IncomingMessage,
    socket: Socket,
    accept: (then: (ws: WebSocket) => void) => void,
  ) => void,
) {
  const upgrades: Upgrade[] = []
  const wss = new WebSocketServer({ noServer: true })
  const server = createServer((_request, response) => response.writeHead(404).end())
  server.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
    const url = new URL(request.url ?? '/', 'http://hub')
    upgrades.push({
      after: url.searchParams.get('after') ?? '',
      authorization: request.headers.authorization,
    })
    onUpgrade(request, socket, (then) => wss.handleUpgrade(request, socket, head, then))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  cleanups.push(async () => {
    for (const client of wss.clients) client.terminate()
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, upgrades }
}

const refuse = (status: number) => (_request: IncomingMessage, socket: Socket) =>
  socket.end(`HTTP/1.1 ${status} Refused\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`)

/** The hub's HTTP endpoints, scripted: tokens are issued in turn; `messages` answers the long polls. */
function httpHub(messages: () => Response | Error = () => json({ messages: [], cursor: '0' })) {
  const calls: string[] = []
  let issued = 0
  const fetch = (url: string) => {
    const path = new URL(url).pathname.replace('/cosigner/v1', '')
    calls.push(path)
    const reply = path === '/token' ? json({ accessToken: `access-${++issued}`, expiresIn: 300 }) : messages()
    return reply instanceof Error ? Promise.reject(reply) : Promise.resolve(reply)
  }
  return { calls, fetch: fetch as unknown as typeof globalThis.fetch }
}

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status })

function recordingLog(): LinkLogger & { readonly lines: string[] } {
  const lines: string[] = []
  const note = (_fields: object, message: string) => void lines.push(message)
  return { lines, info: note, warn: note, error: note }
}

function transportTo(hubUrl: string, http: ReturnType<typeof httpHub>, options: object = {}) {
  const stopped = new AbortController()
  cleanups.push(async () => stopped.abort())
  const log = recordingLog()
  const transport = new WebSocketLinkTransport({
    hubUrl,
    refreshToken: 'refresh',
    fetch: http.fetch,
    log,
    signal: stopped.signal,
    failuresBeforeFallback: 2,
    fallbackMs: 60_000,
    ...options,
  })
  return { transport, log }
}

const frame = (cursor: number) => JSON.stringify({ cursor: String(cursor), message: `message-${cursor}` })

describe('WebSocketLinkTransport', () => {
  it('serves polls from the frames pushed, acks with a frame, and reopens from an earlier cursor', async () => {
    const acks: string[] = []
    const endpoint = await streamEndpoint((request, _socket, accept) =>
      accept((ws) => {
        const after = Number(new URL(request.url ?? '/', 'http://hub').searchParams.get('after'))
        for (let cursor = after + 1; cursor <= 3; cursor++) ws.send(frame(cursor))
        ws.on('message', (data) => acks.push((data as Buffer).toString()))
      }),
    )
    const http = httpHub()
    const { transport, log } = transportTo(endpoint.url, http)
    const first = await transport.poll('0', 1)
    expect(first.cursor).toBe('3')
    expect(first.messages.map((entry) => entry.message)).toEqual(['message-1', 'message-2', 'message-3'])
    await transport.ack('3')
    expect(await transport.poll('3', 0)).toEqual({ messages: [], cursor: '3' })
    // Asked again for what it handed out (a runner started over): the stream restarts from there.
    expect((await transport.poll('1', 1)).messages.map((entry) => entry.cursor)).toEqual(['2', '3'])
    expect(endpoint.upgrades).toEqual([
      { after: '0', authorization: 'Bearer access-1' },
      { after: '1', authorization: 'Bearer access-1' },
    ])
    await expect.poll(() => acks).toEqual(['{"ack":"3"}'])
    expect(http.calls).toEqual(['/token'])
    expect(log.lines).toEqual(['the hub pushes the mailbox over a WebSocket'])
  })

  it('long-polls after upgrades refused in a row while HTTP works, and tries the WebSocket again later', async () => {
    const endpoint = await streamEndpoint(refuse(404))
    const http = httpHub()
    const clock = new ManualClock(1_000_000)
    const { transport, log } = transportTo(endpoint.url, http, { clock })
    for (let poll = 0; poll < 3; poll++)
      expect(await transport.poll('0', 0)).toEqual({ messages: [], cursor: '0' })
    expect(endpoint.upgrades).toHaveLength(2)
    expect(http.calls.filter((path) => path === '/messages')).toHaveLength(3)
    expect(log.lines).toEqual([
      'the WebSocket failed: this poll went over HTTP',
      'WebSockets do not get through to the hub: long-polling instead',
    ])
    clock.advance(60_000)
    await transport.poll('0', 0)
    expect(endpoint.upgrades).toHaveLength(3)
    await transport.poll('0', 0)
    expect(endpoint.upgrades).toHaveLength(3)
  })

  it('fails a poll as HTTP does when the hub is unreachable, without blaming the WebSocket', async () => {
    const endpoint = await streamEndpoint((_request, socket) => socket.destroy())
    const http = httpHub(() => new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } }))
    const { transport, log } = transportTo(endpoint.url, http)
    for (let poll = 0; poll < 4; poll++)
      await expect(transport.poll('0', 0)).rejects.toMatchObject({ code: 'CS_LINK_HUB_UNREACHABLE' })
    expect(endpoint.upgrades).toHaveLength(4)
    expect(log.lines).toEqual([])
  })

  it('renews the access token once when the upgrade is refused with 401, then refuses the party', async () => {
    const endpoint = await streamEndpoint(refuse(401))
    const { transport } = transportTo(endpoint.url, httpHub())
    await expect(transport.poll('0', 0)).rejects.toMatchObject({ code: 'CS_LINK_TOKEN_REFUSED', status: 401 })
    expect(endpoint.upgrades.map((upgrade) => upgrade.authorization)).toEqual([
      'Bearer access-1',
      'Bearer access-2',
    ])
  })

  it('cuts a socket on which the hub is silent, and closes one on a frame that is not a mailbox message', async () => {
    const closes: number[] = []
    const endpoint = await streamEndpoint((_request, _socket, accept) =>
      accept((ws) => {
        ws.on('close', (code) => closes.push(code))
        if (endpoint.upgrades.length === 2) ws.send('not a frame')
      }),
    )
    const http = httpHub()
    const { transport, log } = transportTo(endpoint.url, http, { silenceMs: 200 })
    const started = Date.now()
    expect(await transport.poll('0', 5)).toEqual({ messages: [], cursor: '0' })
    expect(Date.now() - started).toBeLessThan(2_000)
    expect(await transport.poll('0', 5)).toEqual({ messages: [], cursor: '0' })
    expect(closes).toEqual([1006, 1008])
    expect(http.calls.filter((path) => path === '/messages')).toHaveLength(2)
    expect(log.lines.at(-1)).toBe('WebSockets do not get through to the hub: long-polling instead')
  })
})
