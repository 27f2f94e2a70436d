import Metrics
import Prometheus

extension HostMetrics {
    /// Sends swift-metrics users (libraries) to the same registry, so /metrics shows them too.
    /// Once per process (swift-metrics allows one bootstrap).
    public func bootstrapSwiftMetrics() {
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    }
}
