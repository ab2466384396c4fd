/**
 * The deployment artefacts (deploy/, Dockerfile), checked here where no container engine, Helm or hadolint
 * runs: the configurations they ship load as the handler loads them, the chart's templates use only values
 * that exist, and each artefact keeps the hardening the docs promise.
 */
import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { makeSelfSignedCertificate } from '../support/tls.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import { ConfigInvalid, loadConfigFile } from '../../src/handler/index.js'

const ROOT = join(import.meta.dirname, '..', '..')
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8')
const version = (JSON.parse(read('package.json')) as { version: string }).version

/** The files a configuration names, made for the test: TLS, the co-signer's public key, the handler key, a policy. */
let secrets: string
beforeAll(() => {
  secrets = mkdtempSync(join(tmpdir(), 'cs-deploy-'))
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: secrets, stdio: 'ignore' })
  makeSelfSignedCertificate(secrets, 'localhost')
  run('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'handler.key')
  run('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'cosigner.key')
  run('pkey', '-in', 'cosigner.key', '-pubout', '-out', 'cosigner-a.pub')
  copyFileSync(join(ROOT, 'examples/policies/starter.yaml'), join(secrets, 'policy.yaml'))
})
afterAll(() => rmSync(secrets, { recursive: true, force: true }))

describe('deploy/compose', () => {
  const compose = parse(read('deploy/compose/compose.yaml')) as {
    services: Record<string, Record<string, unknown> & { environment: Record<string, string> }>
  }
  const service = compose.services.countersign!

  it('runs the handler non-root on a read-only root filesystem, on the PostgreSQL service once it is healthy', () => {
    expect(service).toMatchObject({
      read_only: true,
      user: '1000:1000',
      cap_drop: ['ALL'],
      depends_on: { postgres: { condition: 'service_healthy' } },
      build: { context: '../..', dockerfile: 'Dockerfile' },
    })
    expect(service.environment.COUNTERSIGN_STORE).toMatch(
      /^postgres:\/\/countersign:\$\{POSTGRES_PASSWORD\}@postgres:5432\//,
    )
    expect(compose.services.postgres!.healthcheck).toBeDefined()
  })

  it('ships a configuration the handler loads, with the files it names beside it', () => {
    writeFileSync(join(secrets, 'countersign.yaml'), read('deploy/compose/config/countersign.yaml'))
    const config = loadConfigFile(join(secrets, 'countersign.yaml'), {
      COUNTERSIGN_SIGNER_ID: 'api-user-1',
      COUNTERSIGN_STORE: 'postgres://countersign:secret@postgres:5432/countersign',
    })
    expect(config).toMatchObject({ basePath: '/fireblocks/callback' })
    expect(() => loadConfigFile(join(secrets, 'countersign.yaml'), {})).toThrow(ConfigInvalid)
  })
})

describe('deploy/helm/countersign', () => {
  const chart = 'deploy/helm/countersign'
  const values = parse(read(`${chart}/values.yaml`)) as Record<string, unknown> & { config: unknown }
  const templates = readdirSync(join(ROOT, chart, 'templates')).map((file) =>
    read(`${chart}/templates/${file}`),
  )

  it('is a v2 chart of this version', () => {
    expect(parse(read(`${chart}/Chart.yaml`))).toMatchObject({
      apiVersion: 'v2',
      name: 'countersign',
      version,
      appVersion: version,
    })
  })

  it('uses in its templates only values that values.yaml defines', () => {
    const used = new Set(
      templates.flatMap((text) => [...text.matchAll(/\.Values\.([A-Za-z0-9_.]+)/g)].map((m) => m[1]!)),
    )
    expect(used.size).toBeGreaterThan(5)
    for (const path of used) {
      const value = path
        .split('.')
        .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], values)
      expect(value, `.Values.${path}`).toBeDefined()
    }
  })

  it('runs pods non-root, read-only, without privilege escalation', () => {
    const deployment = templates.find((text) => text.includes('kind: Deployment'))!
    for (const line of [
      'runAsNonRoot: true',
      'readOnlyRootFilesystem: true',
      'allowPrivilegeEscalation: false',
      'drop: [ALL]',
    ])
      expect(deployment).toContain(line)
  })

  it('carries a configuration the handler loads once its paths point at the mounted files', () => {
    const text = stringify(values.config)
      .replaceAll('/etc/countersign/secrets/', `${secrets}/`)
      .replace('/etc/countersign/policy/', `${secrets}/`)
    writeFileSync(join(secrets, 'helm.yaml'), text)
    expect(
      loadConfigFile(join(secrets, 'helm.yaml'), { COUNTERSIGN_STORE: 'postgres://u:p@db:5432/cs' }),
    ).toMatchObject({ basePath: '/fireblocks/callback' })
  })
})

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile')
  const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '))

  it('builds in one stage and runs in another as the unprivileged user with production dependencies only', () => {
    expect(dockerfile).toMatch(/^FROM node:24-slim AS build$/m)
    expect(dockerfile).toMatch(/npm prune --omit=dev/)
    expect(runtime).toMatch(/^USER node$/m)
    expect(runtime).toMatch(/^VOLUME \["\/var\/lib\/countersign"\]$/m)
  })

  it('copies only what .dockerignore lets into the build context', () => {
    const allowed = read('.dockerignore')
      .split('\n')
      .filter((line) => line.startsWith('!'))
      .map((line) => line.slice(1).replace(/\/\*\*$/, ''))
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(' '))
    expect(sources.length).toBeGreaterThan(5)
    for (const source of sources) expect(allowed, source).toContain(source)
  })
})

describe('deploy/systemd', () => {
  const unit = read('deploy/systemd/countersign.service')

  it('is hardened: no new privileges, a read-only system, only the state folder writable', () => {
    for (const line of [
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'ReadWritePaths=/var/lib/countersign',
      'CapabilityBoundingSet=',
      'User=countersign',
    ])
      expect(unit).toMatch(new RegExp(`^${line}$`, 'm'))
    expect(unit).toMatch(
      /^ExecStart=\/usr\/bin\/node \S+\/node_modules\/countersign\/bin\/countersign\.js handler start /m,
    )
  })
})
