import CoreMetrics

/// swift-metrics lands in the same registry: after `MetricsSystem.bootstrap(registry)`,
/// `Counter(label: "http.requests", dimensions: [("method", "GET")])` is exported as
/// `http_requests_total{method="GET"}`.
///
/// Names are repaired to Prometheus' rules (`.` and `-` become `_`); counters gain `_total`,
/// timers `_seconds` (they are histograms in seconds); recorders with `aggregate: true` are
/// histograms, without it gauges; meters are gauges. Dimensions are sorted by name, so their
/// order does not make a new series. Destroying a handler removes its series, and the family
/// with its last series (a handler made later registers it again).
extension MetricsRegistry: MetricsFactory {
    /// A counter series of family `<label>_total` (integer increments).
    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        let (family, key, series) = active { counterFamily(label: label, dimensions: dimensions) }
        return SwiftMetricsCounterHandler(series: series, family: family, key: key, registry: self)
    }

    /// A counter series of family `<label>_total` (fractional increments).
    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)])
        -> any FloatingPointCounterHandler
    {
        let (family, key, series) = active { counterFamily(label: label, dimensions: dimensions) }
        return SwiftMetricsCounterHandler(series: series, family: family, key: key, registry: self)
    }

    /// A gauge series of family `<label>`.
    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        let (family, key, series) = active { gaugeFamily(label: label, kind: "meter", dimensions: dimensions) }
        return SwiftMetricsGaugeHandler(series: series, family: family, key: key, registry: self)
    }

    /// With `aggregate`, a histogram series (the registry's default buckets); without, a gauge series.
    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool)
        -> any RecorderHandler
    {
        if aggregate {
            let (family, key, series) = active {
                histogramFamily(
                    name: NameValidation.sanitizedMetricName(label), label: label, kind: "recorder",
                    dimensions: dimensions)
            }
            return SwiftMetricsHistogramHandler(series: series, family: family, key: key, registry: self)
        }
        let (family, key, series) = active { gaugeFamily(label: label, kind: "recorder", dimensions: dimensions) }
        return SwiftMetricsGaugeHandler(series: series, family: family, key: key, registry: self)
    }

    /// A histogram series of family `<label>_seconds`, observed in seconds.
    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        var name = NameValidation.sanitizedMetricName(label)
        if !name.hasSuffix("_seconds") { name += "_seconds" }
        let (family, key, series) = active {
            histogramFamily(name: name, label: label, kind: "timer", dimensions: dimensions)
        }
        return SwiftMetricsHistogramHandler(series: series, family: family, key: key, registry: self)
    }

    /// Removes the counter's series (a push sends it a stale marker).
    public func destroyCounter(_ handler: any CounterHandler) {
        (handler as? SwiftMetricsCounterHandler)?.removeSeries()
    }

    /// Removes the counter's series (a push sends it a stale marker).
    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        (handler as? SwiftMetricsCounterHandler)?.removeSeries()
    }

    /// Removes the gauge's series (a push sends it a stale marker).
    public func destroyMeter(_ handler: any MeterHandler) {
        (handler as? SwiftMetricsGaugeHandler)?.removeSeries()
    }

    /// Removes the recorder's series (a push sends it a stale marker).
    public func destroyRecorder(_ handler: any RecorderHandler) {
        (handler as? SwiftMetricsGaugeHandler)?.removeSeries()
        (handler as? SwiftMetricsHistogramHandler)?.removeSeries()
    }

    /// Removes the timer's series (a push sends it a stale marker).
    public func destroyTimer(_ handler: any TimerHandler) {
        (handler as? SwiftMetricsHistogramHandler)?.removeSeries()
    }

    /// The family `register` gives and the series for the key in it; registers again when
    /// the family was retired meanwhile (its last series destroyed on another thread).
    private func active<Series: SeriesStorage>(_ register: () -> (MetricFamily<Series>, LabelValuesKey))
        -> (MetricFamily<Series>, LabelValuesKey, Series)
    {
        for _ in 0..<8 {
            let (family, key) = register()
            if let series = family.seriesUnlessRetired(key) { return (family, key, series) }
        }
        let (family, key) = register()
        return (family, key, family.series(key))
    }

    private func counterFamily(label: String, dimensions: [(String, String)])
        -> (MetricFamily<CounterSeries>, LabelValuesKey)
    {
        var name = NameValidation.sanitizedMetricName(label)
        if !name.hasSuffix("_total") { name += "_total" }
        let family: MetricFamily<CounterSeries> = register(
            name: name, help: "swift-metrics counter \(label)", unit: "", type: .counter, labelNames: nil,
            configuration: ())
        return (family, Self.key(dimensions))
    }

    private func gaugeFamily(label: String, kind: String, dimensions: [(String, String)])
        -> (MetricFamily<GaugeSeries>, LabelValuesKey)
    {
        let family: MetricFamily<GaugeSeries> = register(
            name: NameValidation.sanitizedMetricName(label), help: "swift-metrics \(kind) \(label)", unit: "",
            type: .gauge, labelNames: nil, configuration: ())
        return (family, Self.key(dimensions))
    }

    private func histogramFamily(name: String, label: String, kind: String, dimensions: [(String, String)])
        -> (MetricFamily<HistogramSeries>, LabelValuesKey)
    {
        let family: MetricFamily<HistogramSeries> = register(
            name: name, help: "swift-metrics \(kind) \(label)", unit: "", type: .histogram, labelNames: nil,
            configuration: HistogramConfiguration(HistogramBuckets(configuration.defaultBuckets)))
        return (family, Self.key(dimensions))
    }

    /// Dimensions as a sorted, repaired label set; the first of two equal names wins and
    /// `le` (reserved for buckets) is renamed `le_`.
    private static func key(_ dimensions: [(String, String)]) -> LabelValuesKey {
        var seen = Set<String>()
        var labels: [Label] = []
        for (name, value) in dimensions {
            var repaired = NameValidation.sanitizedLabelName(name)
            if repaired == "le" { repaired = "le_" }
            if seen.insert(repaired).inserted { labels.append(Label(name: repaired, value: value)) }
        }
        return LabelValuesKey(sortedLabels: labels.sortedByName())
    }
}
