import { Counter, Gauge, Histogram, Registry } from 'prom-client'

/** The co-signer's Prometheus metrics (docs/cosigner.md "Operations"), on a registry of its own. */
export class CosignerMetrics {
  readonly registry = new Registry()
  readonly requests = new Counter({
    name: 'countersign_cosigner_requests_total',
    help: 'Jobs ended, by kind (approve, sign, keygen) and outcome (done, declined, failed).',
    labelNames: ['kind', 'outcome'] as const,
    registers: [this.registry],
  })
  readonly callbackLatency = new Histogram({
    name: 'countersign_cosigner_callback_seconds',
    help: "Time from asking an API user's callback handler to its final answer (RETRY series included).",
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 180, 900, 3600],
    registers: [this.registry],
  })
  readonly mpcLatency = new Histogram({
    name: 'countersign_cosigner_mpc_seconds',
    help: 'Duration of this co-signer’s MPC sessions, by kind (sign, keygen).',
    labelNames: ['kind'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  })
  readonly linkUp = new Gauge({
    name: 'countersign_cosigner_link_up',
    help: 'Whether the last mailbox poll of each paired API user reached the hub (1) or not (0).',
    labelNames: ['party'] as const,
    registers: [this.registry],
  })
}
