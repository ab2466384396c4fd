import { readFileSync } from 'node:fs'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { CompiledPolicy } from '../policy/index.js'
import type { Store } from '../storage/index.js'

/** What the scrape-time gauges read: the running policy and the store. */
export interface MetricSources {
  readonly policy: () => Pick<CompiledPolicy, 'version' | 'digest'>
  readonly store: Pick<Store, 'countHeld'>
}

/** The package version, read once: `dist/handler` and `src/handler` both sit two folders below it. */
function packageVersion(): string {
  try {
    const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8')
    const version = (JSON.parse(text) as { version?: unknown }).version
    return typeof version === 'string' ? version : 'unknown'
  } catch {
    return 'unknown'
  }
}

export const BUILD_VERSION = packageVersion()

/**
 * The handler's Prometheus metrics, on a registry of its own (several servers can share a process in tests).
 * `kind` is the request kind (`tx_approval`, `tx_signing`, `config_change`), so approval and signing are
 * counted apart; an answer sent before the request was read (a deadline) carries its route (`tx`, `config`).
 */
export class HandlerMetrics {
  readonly registry = new Registry()
  readonly decisions = new Counter({
    name: 'countersign_decisions_total',
    help: 'Answers sent, by action, request kind, deciding rule and outcome (decided, repeated, resolved, altered, deadline, store-error, invalid).',
    labelNames: ['action', 'kind', 'rule', 'outcome'] as const,
    registers: [this.registry],
  })
  readonly latency = new Histogram({
    name: 'countersign_decision_latency_seconds',
    help: 'Time from receiving a callback request to sending its answer.',
    labelNames: ['kind'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 25],
    registers: [this.registry],
  })
  readonly authFailures = new Counter({
    name: 'countersign_auth_failures_total',
    help: 'Callback requests refused with 401, by cause.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  })
  readonly storeErrors = new Counter({
    name: 'countersign_store_errors_total',
    help: 'Decisions that could not be recorded durably (answered RETRY).',
    registers: [this.registry],
  })
  readonly replayAltered = new Counter({
    name: 'countersign_replay_altered_total',
    help: 'Known requestIds re-sent with a different payload (answered REJECT): an alert.',
    registers: [this.registry],
  })
  readonly policyReloadFailures = new Counter({
    name: 'countersign_policy_reload_failures_total',
    help: 'Policy reloads refused (the running policy was kept): the file on disk is not the policy in force.',
    registers: [this.registry],
  })

  readonly buildInfo: Gauge<'version' | 'node'>
  readonly policyInfo: Gauge<'version' | 'digest'>
  readonly pendingHolds: Gauge

  constructor(sources: MetricSources) {
    collectDefaultMetrics({ register: this.registry })
    this.buildInfo = new Gauge({
      name: 'countersign_build_info',
      help: 'Always 1; the labels name the Countersign version and the Node.js version running it.',
      labelNames: ['version', 'node'] as const,
      registers: [this.registry],
    })
    this.buildInfo.set({ version: BUILD_VERSION, node: process.versions.node }, 1)
    this.policyInfo = new Gauge({
      name: 'countersign_policy_info',
      help: 'Always 1; the labels name the version and digest of the policy in force.',
      labelNames: ['version', 'digest'] as const,
      registers: [this.registry],
      collect() {
        const policy = sources.policy()
        this.reset()
        this.set({ version: policy.version, digest: policy.digest }, 1)
      },
    })
    this.pendingHolds = new Gauge({
      name: 'countersign_pending_holds',
      help: 'Requests held for a human quorum now (read from the store at scrape time; -1 when it cannot be read).',
      registers: [this.registry],
      async collect() {
        this.set(await sources.store.countHeld().catch(() => -1))
      },
    })
  }
}
