/**
 * The link's WebSocket end to end: three party runners (cloud1, cloud2, a customer) over
 * WebSocketLinkTransport to a real hub (LinkHub and its routes on SQLite), running real key generations.
 * The hub's sockets are cut, the hub restarts, a TCP proxy refuses or kills WebSockets, access tokens
 * expire: each job still ends once at every party, and no mailbox message is handed to a party twice.
 */
import { createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { LinkHub, linkRoutes } from '../../src/hub/index.js'
import {
  FileKeyShareStore,
  FilePresignatureStore,
  PartyRunner,
  WebSocketLinkTransport,
  type KeyShare,
  type LinkLogger,
  type LinkTransport,
} from '../../src/link/index.js'
import { generatePartyKeys, type PartyKeys } from '../../src/mpc/index.js'
import { LINK_MAX_FRAME_BYTES } from '../../src/protocol/index.js'
import { createServiceServer, listenOn, type ServiceApp } from '../../src/service/index.js'
import { HUB_LINK_MIGRATIONS, HubLinkStore, migrate, openDatabase } from '../../src/storage/index.js'
import { cleanupsPerTest, skewedClockPerTest } from '../support/per-test.js'
import { approveAll, engines } from './parties.js'

const HOLDERS = ['cloud1', 'cloud2', 'alice'] as const
const PUSHED = 'the hub pushes the mailbox over a WebSocket'
const FELL_BACK = 'WebSockets do not get through to the hub: long-polling instead'

const cleanups = cleanupsPerTest()
/** The hub and the parties alike read the time from `clock`, which a test moves forward with `skewMs`. */
const time = skewedClockPerTest()
const { clock } = time

interface TestHub {
  readonly url: string
  readonly link: LinkHub
  readonly app: ServiceApp
  close(): Promise<void>
}

/** A hub's link on the SQLite file `store`, on `port` (any when 0). */
async function startHub(store: string, serviceKey: KeyObject, port = 0): Promise<TestHub> {
  const database = openDatabase(`sqlite:${store}`)
  await migrate(database, HUB_LINK_MIGRATIONS, clock.now())
  const link = new LinkHub({ store: new HubLinkStore(database, clock), serviceKey, clock })
  const app = createServiceServer({
    log: pino({ level: 'silent' }),
    webSockets: { maxPayloadBytes: LINK_MAX_FRAME_BYTES },
  })
  // Heartbeats well apart from the event-loop stalls of in-process key generations (WASM, hundreds of ms).
  await app.register(linkRoutes(link, { heartbeatMs: 1_000 }))
  const url = await listenOn(app, { host: '127.0.0.1', port }, false)
  let closed: Promise<void> | undefined
  const close = () =>
    (closed ??= (async () => {
      link.close()
      await app.close()
      await database.close()
    })())
  cleanups.push(close)
  return { url, link, app, close }
}

/** What the test sees of one party: its logs, its HTTP calls, the cursors handed to it, its key stores. */
interface TestParty {
  readonly name: string
  readonly runner: PartyRunner
  readonly logs: string[]
  /** `GET /messages`, `POST /ack`, `POST /token`...: every HTTP call to the hub, by method and path. */
  readonly calls: string[]
  readonly cursors: string[]
  readonly shares: CountingShares
  readonly done: Promise<void>
}

/** Counts the key shares written: one per key generation the party ran. */
class CountingShares extends FileKeyShareStore {
  written = 0
  override put(share: KeyShare): Promise<void> {
    this.written++
    return super.put(share)
  }
}

interface World {
  readonly dir: string
  readonly store: string
  readonly serviceKey: KeyObject
  readonly keys: Map<string, PartyKeys>
  hub: TestHub
}

async function world(): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-link-ws-'))
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }))
  const serviceKey = generateKeyPairSync('ed25519').privateKey
  const store = join(dir, 'hub.db')
  const keys = new Map(HOLDERS.map((name) => [name, generatePartyKeys(name)]))
  return { dir, store, serviceKey, keys, hub: await startHub(store, serviceKey) }
}

const keyText = (keys: PartyKeys) => Buffer.from(keys.publicKey).toString('base64url')

/** Enrols the three holders with the hub and starts their runners, talking to `hubUrl` (the hub or a proxy). */
async function startParties(w: World, hubUrl: string): Promise<TestParty[]> {
  const parties: TestParty[] = []
  for (const name of HOLDERS) {
    const keys = w.keys.get(name)!
    const refreshToken = name === 'alice' ? undefined : await w.hub.link.registerCloud(name, keyText(keys))
    const stopped = new AbortController()
    const logs: string[] = []
    const calls: string[] = []
    const log: LinkLogger = {
      info: (_fields, message) => logs.push(message),
      warn: (_fields, message) => logs.push(message),
      error: (_fields, message) => logs.push(message),
    }
    const transport = new WebSocketLinkTransport({
      hubUrl,
      ...(refreshToken === undefined ? {} : { refreshToken }),
      clock,
      log,
      signal: stopped.signal,
      fetch: (input, init) => {
        const path = new URL(input).pathname.replace('/cosigner/v1', '')
        calls.push(`${init?.method ?? 'GET'} ${path}`)
        return fetch(input, init)
      },
      failuresBeforeFallback: 2,
      fallbackMs: 1_500,
      stableMs: 2_000,
      silenceMs: 5_000,
    })
    if (name === 'alice')
      await transport.pair({
        pairingToken: await w.hub.link.issuePairingToken('alice'),
        partyKey: keyText(keys),
      })
    const cursors: string[] = []
    const shares = new CountingShares(join(w.dir, name, 'shares'), name)
    const runner = new PartyRunner({
      party: keys,
      hubKey: createPublicKey(w.serviceKey),
      transport: recordingCursors(transport, cursors),
      keyShares: shares,
      presignatures: new FilePresignatureStore(join(w.dir, name, 'presignatures')),
      gate: approveAll,
      engines,
      log,
      pollWaitSeconds: 1,
      backoff: { baseMs: 50, maxMs: 400 },
    })
    const done = runner.run()
    cleanups.push(async () => {
      await runner.stop()
      stopped.abort()
    })
    parties.push({ name, runner, logs, calls, cursors, shares, done })
  }
  return parties
}

/** The transport, noting the cursor of every message it hands to the runner. */
function recordingCursors(transport: LinkTransport, cursors: string[]): LinkTransport {
  return {
    pair: (request) => transport.pair(request),
    token: (refreshToken) => transport.token(refreshToken),
    poll: async (after, wait, signal) => {
      const answer = await transport.poll(after, wait, signal)
      cursors.push(...answer.messages.map((entry) => entry.cursor))
      return answer
    },
    ack: (cursor) => transport.ack(cursor),
    send: (envelopes) => transport.send(envelopes),
    postResult: (result) => transport.postResult(result),
    callbackHandler: () => transport.callbackHandler(),
  }
}

/** Starts an Ed25519 key generation on the hub; resolves with its id. */
async function keygen(hub: TestHub): Promise<string> {
  const job = await hub.link.startJob({
    kind: 'keygen',
    algorithm: 'MPC_EDDSA_ED25519',
    holders: HOLDERS,
    session: randomBytes(32).toString('hex'),
  })
  return job.id
}

async function finished(hub: TestHub, job: string): Promise<void> {
  const result = await hub.link.waitForJob(job, AbortSignal.timeout(60_000))
  expect(result.state, JSON.stringify(result.result)).toBe('done')
}

/** Each party ran each of the `jobs` key generations (all finished) once, and got no message twice. */
function expectEachRanOnce(parties: readonly TestParty[], jobs: number): void {
  for (const party of parties) {
    expect(party.shares.written, party.name).toBe(jobs)
    expect(new Set(party.cursors).size, `${party.name} was handed a message twice`).toBe(party.cursors.length)
  }
}

const count = (calls: readonly string[], call: string) => calls.filter((entry) => entry === call).length

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('the condition did not hold in time')
    await sleep(20)
  }
}

type ProxyMode = 'pass' | 'drop-upgrades' | 'cut-after-101'

/** A TCP proxy to the hub that, depending on `mode`, drops WebSocket upgrades or cuts them after the 101. */
async function startProxy(target: string, mode: ProxyMode): Promise<{ url: string; mode: ProxyMode }> {
  const { port } = new URL(target)
  const sockets = new Set<Socket>()
  const state = { url: '', mode }
  const server: Server = createServer((client) => {
    sockets.add(client)
    client.on('close', () => sockets.delete(client))
    client.on('error', () => client.destroy())
    client.once('data', (first: Buffer) => {
      const upgrade = /^upgrade:\s*websocket/im.test(first.toString('latin1'))
      if (upgrade && state.mode === 'drop-upgrades') return void client.destroy()
      const upstream = connect(Number(port), '127.0.0.1')
      sockets.add(upstream)
      upstream.on('close', () => (sockets.delete(upstream), client.destroy()))
      upstream.on('error', () => upstream.destroy())
      client.on('close', () => upstream.destroy())
      upstream.write(first)
      client.pipe(upstream)
      if (!(upgrade && state.mode === 'cut-after-101')) return void upstream.pipe(client)
      upstream.once('data', (answer: Buffer) => {
        client.end(answer)
        upstream.destroy()
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  cleanups.push(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise((resolve) => server.close(resolve))
  })
  return state
}

describe('the link over a WebSocket', () => {
  it('pushes every mailbox message over the WebSocket and takes the acks over it', async () => {
    const w = await world()
    const parties = await startParties(w, w.hub.url)
    await finished(w.hub, await keygen(w.hub))
    expectEachRanOnce(parties, 1)
    for (const party of parties) {
      expect(party.logs).toContain(PUSHED)
      expect(count(party.calls, 'GET /messages'), party.name).toBe(0)
      expect(count(party.calls, 'POST /ack'), party.name).toBe(0)
      expect(party.cursors.length, party.name).toBeGreaterThan(1)
    }
  }, 60_000)

  it('resumes from the last acknowledged cursor when the hub cuts every socket mid-job', async () => {
    const w = await world()
    const upgrades: string[] = []
    w.hub.app.server.on('upgrade', (request: { url?: string }) => upgrades.push(request.url ?? ''))
    const parties = await startParties(w, w.hub.url)
    await until(() => upgrades.length === 3)
    const job = await keygen(w.hub)
    await until(() => parties.every((party) => party.cursors.length >= 2))
    for (const socket of w.hub.app.websocketServer.clients) socket.terminate()
    await finished(w.hub, job)
    expectEachRanOnce(parties, 1)
    const resumed = upgrades.slice(3).map((url) => Number(new URL(url, w.hub.url).searchParams.get('after')))
    expect(resumed.length).toBeGreaterThanOrEqual(3)
    expect(resumed.every((after) => after > 0)).toBe(true)
  }, 60_000)

  it('survives the hub restarting mid-job on the same port and database, each job ending once', async () => {
    const w = await world()
    const parties = await startParties(w, w.hub.url)
    await until(() => parties.every((party) => party.logs.includes(PUSHED)))
    const job = await keygen(w.hub)
    await until(() => parties.every((party) => party.cursors.length >= 2))
    await w.hub.close()
    w.hub = await startHub(w.store, w.serviceKey, Number(new URL(w.hub.url).port))
    await finished(w.hub, job)
    const after = await keygen(w.hub)
    await finished(w.hub, after)
    expectEachRanOnce(parties, 2)
    for (const party of parties) expect(party.logs, party.name).not.toContain(FELL_BACK)
  }, 90_000)

  it('falls back to long-poll behind a proxy that drops WebSocket upgrades, and comes back when it lets them through', async () => {
    const w = await world()
    const proxy = await startProxy(w.hub.url, 'drop-upgrades')
    const parties = await startParties(w, proxy.url)
    await finished(w.hub, await keygen(w.hub))
    for (const party of parties) {
      expect(party.logs, party.name).toContain(FELL_BACK)
      expect(party.logs, party.name).not.toContain(PUSHED)
      expect(count(party.calls, 'GET /messages'), party.name).toBeGreaterThan(0)
    }
    proxy.mode = 'pass'
    await until(() => parties.every((party) => party.logs.at(-1) === PUSHED))
    const polled = parties.map((party) => count(party.calls, 'GET /messages'))
    await finished(w.hub, await keygen(w.hub))
    expectEachRanOnce(parties, 2)
    parties.forEach((party, at) => expect(count(party.calls, 'GET /messages'), party.name).toBe(polled[at]))
  }, 90_000)

  it('falls back to long-poll behind a proxy that cuts every WebSocket right after the 101', async () => {
    const w = await world()
    const proxy = await startProxy(w.hub.url, 'cut-after-101')
    const parties = await startParties(w, proxy.url)
    await finished(w.hub, await keygen(w.hub))
    expectEachRanOnce(parties, 1)
    for (const party of parties) {
      expect(party.logs, party.name).toContain(PUSHED)
      expect(party.logs, party.name).toContain(FELL_BACK)
    }
  }, 60_000)

  it('reconnects with a fresh access token when the hub ends the socket as its token expires', async () => {
    const w = await world()
    const parties = await startParties(w, w.hub.url)
    await until(() => parties.every((party) => party.logs.includes(PUSHED)))
    const tokens = parties.map((party) => count(party.calls, 'POST /token'))
    time.skewMs = 301_000
    await until(() => parties.every((party, at) => count(party.calls, 'POST /token') > tokens[at]!))
    await finished(w.hub, await keygen(w.hub))
    expectEachRanOnce(parties, 1)
    for (const party of parties) {
      expect(count(party.calls, 'GET /messages'), party.name).toBe(0)
      expect(party.logs, party.name).not.toContain(FELL_BACK)
    }
  }, 60_000)

  it('stops the party whose refresh token the hub revoked, over the WebSocket as over HTTP', async () => {
    const w = await world()
    const parties = await startParties(w, w.hub.url)
    await until(() => parties.every((party) => party.logs.includes(PUSHED)))
    await w.hub.link.revokeParty('alice')
    const alice = parties.find((party) => party.name === 'alice')!
    await expect(alice.done).rejects.toMatchObject({ code: 'CS_LINK_TOKEN_REFUSED' })
  }, 30_000)
})
