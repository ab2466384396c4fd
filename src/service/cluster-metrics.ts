import cluster from 'node:cluster'
import { AggregatorRegistry, type Registry } from 'prom-client'
import type { MetricsSource } from './create-server.js'

/**
 * In a cluster worker, answers the primary's requests for metrics with `registry`, so that a scrape of the
 * primary counts every worker's requests (each worker alone knows only the connections it took).
 * Outside a cluster it does nothing.
 */
export function shareMetricsWithPrimary(registry: Registry): void {
  if (!cluster.isWorker) return
  AggregatorRegistry.setRegistries([registry])
  // Constructing one installs the worker's listener for the primary's requests.
  new AggregatorRegistry()
}

/** In the cluster's primary: the metrics of every connected worker, counters and histograms summed. */
export function clusterMetrics(): MetricsSource {
  const aggregator = new AggregatorRegistry()
  return { contentType: aggregator.contentType, metrics: () => aggregator.clusterMetrics() }
}
