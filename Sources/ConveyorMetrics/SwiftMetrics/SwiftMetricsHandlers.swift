import CoreMetrics

/// A swift-metrics counter (integer or floating point) over a registry series.
final class SwiftMetricsCounterHandler: CounterHandler, FloatingPointCounterHandler, Sendable {
    let series: CounterSeries
    let family: MetricFamily<CounterSeries>
    let key: LabelValuesKey
    let registry: MetricsRegistry

    init(series: CounterSeries, family: MetricFamily<CounterSeries>, key: LabelValuesKey, registry: MetricsRegistry) {
        self.series = series
        self.family = family
        self.key = key
        self.registry = registry
    }

    func increment(by amount: Int64) { series.increment(by: amount) }
    func increment(by amount: Double) { series.increment(by: amount) }
    func reset() { series.reset() }
    func removeSeries() {
        family.remove(key)
        registry.removeIfEmpty(family)
    }
}

/// A swift-metrics meter or non-aggregating recorder over a gauge series.
final class SwiftMetricsGaugeHandler: MeterHandler, RecorderHandler, Sendable {
    let series: GaugeSeries
    let family: MetricFamily<GaugeSeries>
    let key: LabelValuesKey
    let registry: MetricsRegistry

    init(series: GaugeSeries, family: MetricFamily<GaugeSeries>, key: LabelValuesKey, registry: MetricsRegistry) {
        self.series = series
        self.family = family
        self.key = key
        self.registry = registry
    }

    func set(_ value: Int64) { series.set(Double(value)) }
    func set(_ value: Double) { series.set(value) }
    func increment(by amount: Double) { series.add(amount) }
    func decrement(by amount: Double) { series.add(-amount) }
    func record(_ value: Int64) { series.set(Double(value)) }
    func record(_ value: Double) { series.set(value) }
    func removeSeries() {
        family.remove(key)
        registry.removeIfEmpty(family)
    }
}

/// A swift-metrics timer (nanoseconds in, seconds out) or aggregating recorder over a histogram.
final class SwiftMetricsHistogramHandler: RecorderHandler, TimerHandler, Sendable {
    let series: HistogramSeries
    let family: MetricFamily<HistogramSeries>
    let key: LabelValuesKey
    let registry: MetricsRegistry

    init(series: HistogramSeries, family: MetricFamily<HistogramSeries>, key: LabelValuesKey, registry: MetricsRegistry)
    {
        self.series = series
        self.family = family
        self.key = key
        self.registry = registry
    }

    func record(_ value: Int64) { series.observe(Double(value)) }
    func record(_ value: Double) { series.observe(value) }
    func recordNanoseconds(_ duration: Int64) { series.observe(Double(duration) / 1_000_000_000) }
    func removeSeries() {
        family.remove(key)
        registry.removeIfEmpty(family)
    }
}
