/**
 * The handler as a process under the service shell: a SIGHUP during start-up does not kill it, a slow
 * client neither blocks other clients nor keeps a stopping handler alive, an unauthenticated header cannot
 * make a long log line, and start-up failures name their cause in one line.
 */
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { connect, createServer, type Socket } from 'node:net'
import { join } from 'node:path'
import { makeSelfSignedCertificate } from '../support/tls.js'
import { afterEach, describe, expect, it } from 'vitest'
import { spawnCli, type CliProcess } from '../support/process.js'
import { testKeyPair } from '../support/keys.js'
import { callbackPath, signCallbackRequest, verifyCallbackResponse } from '../../src/protocol/index.js'
import { transferOfUsd, writeConfigFolder } from './support.js'

const running: CliProcess[] = []
const sockets: Socket[] = []
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy()
  for (const cli of running.splice(0)) cli.child.kill('SIGKILL')
})

function start(dir: string): CliProcess {
  return track(spawnCli(['handler', 'start', '--config', 'countersign.yaml'], dir))
}

/** Kept for cleanup; a handler that is expected to fail to start rejects `listening`, which is fine here. */
function track(cli: CliProcess): CliProcess {
  cli.listening.catch(() => undefined)
  running.push(cli)
  return cli
}

async function approveOne(url: string): Promise<string> {
  const payload = transferOfUsd(100)
  const response = await fetch(`${url}${callbackPath('', 'jwt', 'tx')}`, {
    method: 'POST',
    body: await signCallbackRequest(payload, testKeyPair('cosigner').privateKey),
    signal: AbortSignal.timeout(10_000),
  })
  return (await verifyCallbackResponse(await response.text(), testKeyPair('handler').publicKey)).action
}

function slowBodyClient(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(
        `POST ${callbackPath('', 'jwt', 'tx')} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\ne`,
      )
      resolve(socket)
    })
    socket.on('error', () => undefined)
    sockets.push(socket)
  })
}

describe('handler process under the service shell', () => {
  it('survives SIGHUPs sent during start-up and reloads once started', async () => {
    const cli = start(writeConfigFolder())
    await expect.poll(() => cli.output(), { timeout: 10_000, interval: 5 }).toMatch(/starting \(pid \d+\)/)
    let listening = false
    void cli.listening.then(() => (listening = true))
    let sent = 0
    while (!listening && cli.child.exitCode === null && sent < 400) {
      cli.child.kill('SIGHUP')
      sent++
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    const url = await cli.listening
    expect(sent).toBeGreaterThan(0)
    await expect.poll(() => cli.output()).toMatch(/SIGHUP came during start-up|policy reloaded/)
    expect(await approveOne(url)).toBe('APPROVE')
  })

  it('exits promptly on SIGTERM while a client trickles its body', async () => {
    const cli = start(writeConfigFolder())
    const url = await cli.listening
    await slowBodyClient(url)
    await new Promise((resolve) => setTimeout(resolve, 200))
    const started = Date.now()
    cli.child.kill('SIGTERM')
    expect(await cli.exited).toBe(0)
    expect(Date.now() - started).toBeLessThan(5_000)
  })

  it('answers legitimate requests while 1,100 clients trickle bodies, with 1,024 descriptors', async () => {
    const cli = start(writeConfigFolder({ logLevel: 'warn' }))
    execFileSync('prlimit', ['--pid', String(cli.child.pid), '--nofile=1024:1024'])
    const url = await cli.listening
    for (let batch = 0; batch < 11; batch++)
      await Promise.all(Array.from({ length: 100 }, () => slowBodyClient(url)))
    const actions = await Promise.all(Array.from({ length: 5 }, () => approveOne(url)))
    expect(actions).toEqual(Array(5).fill('APPROVE'))
  }, 60_000)

  it('keeps an unauthenticated 700 KB header out of its log', async () => {
    const cli = start(writeConfigFolder())
    const url = await cli.listening
    const header = Buffer.from(JSON.stringify({ alg: 'x'.repeat(700_000), typ: 'JWT' })).toString('base64url')
    const response = await fetch(`${url}${callbackPath('', 'jwt', 'tx')}`, {
      method: 'POST',
      body: `${header}.e30.c2ln`,
    })
    expect(response.status).toBe(401)
    await expect.poll(() => cli.output()).toMatch(/authentication failed/)
    const longest = Math.max(
      ...cli
        .output()
        .split('\n')
        .map((line) => line.length),
    )
    expect(longest).toBeLessThan(4_000)
  })

  it('names the cause of a port in use and of a store that cannot be opened, in one line', async () => {
    const taken = createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    try {
      const port = (taken.address() as { port: number }).port
      const dir = writeConfigFolder()
      const inUse = spawnCli(
        ['handler', 'start', '--config', 'countersign.yaml', '--listen', `127.0.0.1:${port}`],
        dir,
      )
      track(inUse)
      expect(await inUse.exited).not.toBe(0)
      expect(inUse.output()).toMatch(
        new RegExp(
          `error: cannot listen on 127\\.0\\.0\\.1:${port}: another process already uses that port \\(EADDRINUSE\\); stop it or choose another port`,
        ),
      )
    } finally {
      taken.close()
    }

    const missingFolder = writeConfigFolder({ storeUrl: 'sqlite:no/such/folder/cs.db' })
    const noStore = start(missingFolder)
    expect(await noStore.exited).not.toBe(0)
    expect(noStore.output()).toMatch(
      /error: cannot open the store sqlite:.*no\/such\/folder\/cs\.db: the folder .*no\/such\/folder does not exist; create it/,
    )

    const downDir = writeConfigFolder({ storeUrl: 'postgres://postgres:hunter2@127.0.0.1:1/none' })
    const down = start(downDir)
    expect(await down.exited).not.toBe(0)
    expect(down.output()).toMatch(
      /error: cannot open the store postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/none: PostgreSQL does not answer \(ECONNREFUSED\)/,
    )
    expect(down.output()).not.toMatch(/hunter2/)
  })

  it('names a TLS key that does not match its certificate', async () => {
    const dir = writeConfigFolder()
    makeSelfSignedCertificate(dir)
    writeFileSync(join(dir, 'countersign.yaml'), `\ntls: { cert: tls.crt, key: handler.key }\n`, {
      flag: 'a',
    })
    const cli = start(dir)
    expect(await cli.exited).not.toBe(0)
    expect(cli.output()).toMatch(
      /countersign\.yaml:\d+:\d+ tls: the TLS key .*handler\.key does not match the certificate .*tls\.crt/,
    )
  })
})
