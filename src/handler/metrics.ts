import { Counter, Histogram, Registry } from 'prom-client'

/** The handler's Prometheus metrics, on a registry of its own (several servers can share a process in tests). */
export class HandlerMetrics {
  readonly registry = new Registry()
  readonly decisions = new Counter({
    name: 'countersign_decisions_total',
    help: 'Answers sent, by action, request kind and outcome (decided, repeated, resolved, altered, deadline, store-error, invalid).',
    labelNames: ['action', 'kind', 'outcome'] as const,
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
}
