import Logging
import Synchronization

/// Owns every metric family and its series, and takes snapshots of them.
///
/// Recording into an existing series is a lock-free atomic update; finding a series by its
/// label values is one short critical section. A registry never crashes its host: invalid
/// names, conflicting registrations, NaN, negative counter increments, over-long label
/// values and series beyond the per-family limit are dropped, counted in
/// `conveyor_metrics_rejected_values_total{reason}` and logged at most once per reason per
/// `rejectionLogInterval`.
///
/// ```swift
/// let registry = MetricsRegistry()
/// let jobs = registry.counterFamily(name: "jobs_total", help: "Jobs run", labelNames: ["queue"])
/// jobs.series("emails").increment()
/// let snapshot = registry.snapshot()
/// ```
///
/// It is also a swift-metrics `MetricsFactory`: `MetricsSystem.bootstrap(registry)`.
public final class MetricsRegistry: Sendable {
    /// Limits and logging for a registry.
    public struct Configuration: Sendable {
        /// The most series one family may hold; further label values are rejected and counted.
        public var seriesLimitPerFamily: Int = 10_000
        /// Per-family overrides of `seriesLimitPerFamily`, by family name.
        public var seriesLimitOverrides: [String: Int] = [:]
        /// The longest label value accepted, in UTF-8 bytes.
        public var maxLabelValueBytes: Int = 4096
        /// Rejections are logged at most once per reason per this interval.
        public var rejectionLogInterval: Duration = .seconds(10)
        /// Where rejections are logged.
        public var logger = Logger(label: "conveyor-metrics")
        /// Buckets for swift-metrics recorders with `aggregate: true` and timers (seconds).
        public var defaultBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
        /// Asked for an exemplar on every counter increment and histogram observation that
        /// brings none (``ExemplarProvider/serviceContext`` reads the trace id of the current
        /// `ServiceContext`); nil, the default, records exemplars only where they are passed.
        public var exemplarProvider: ExemplarProvider?

        /// The defaults: 10,000 series per family, 4 KiB label values, a log line per reason per 10 s.
        public init() {}
    }

    /// The registry the free record functions (`recordRecordsReceived(…)`) and a default
    /// `MetricsExporter` use.
    public static let `default` = MetricsRegistry()

    /// This registry's limits.
    public let configuration: Configuration
    package let rejections: RejectedValueRecorder
    private let families: Mutex<FamilyIndex>
    /// Run before every render and snapshot (process metrics read `/proc` there), one run at a
    /// time, so a slower run cannot store an older reading over a newer one.
    private let collectors = Mutex<[@Sendable () -> Void]>([])
    let processMetricsRegistered = Atomic<Bool>(false)

    /// Creates an empty registry (holding only its own rejection counter).
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        let rejections = RejectedValueRecorder(
            logger: configuration.logger, logInterval: configuration.rejectionLogInterval)
        self.rejections = rejections
        self.families = Mutex(FamilyIndex([RejectedValueRecorder.familyName: rejections.family]))
    }

    /// Registers (or finds) a counter family. Counter names should end in `_total`.
    ///
    /// Registering the same name again with the same help and labels returns the same
    /// family; anything else is rejected (counted and logged) and the returned family drops
    /// every update.
    public func counterFamily(name: String, help: String, labelNames: [String] = [], unit: String = "")
        -> CounterFamily
    {
        CounterFamily(
            storage: register(
                name: name, help: help, unit: unit, type: .counter, labelNames: labelNames, configuration: ()))
    }

    /// Registers (or finds) a gauge family.
    public func gaugeFamily(name: String, help: String, labelNames: [String] = [], unit: String = "")
        -> GaugeFamily
    {
        GaugeFamily(
            storage: register(
                name: name, help: help, unit: unit, type: .gauge, labelNames: labelNames, configuration: ()))
    }

    /// Registers (or finds) a histogram family with the given upper bounds (`+Inf` is implied).
    /// Non-finite and duplicate bounds are ignored; an empty list falls back to
    /// `configuration.defaultBuckets`.
    ///
    /// With `native`, the family also records a Prometheus native histogram
    /// (``HistogramValue/native``); its classic buckets are kept only with
    /// ``NativeHistogramOptions/keepClassicBuckets``, otherwise `buckets` is ignored and the
    /// text formats show only `+Inf`, `_sum` and `_count`. Invalid options are replaced (see
    /// ``NativeHistogramOptions``) and counted as ``RejectionReason/outOfRange``. Registering
    /// the name again with other options is a conflicting registration.
    public func histogramFamily(
        name: String, help: String, labelNames: [String] = [], buckets: [Double], unit: String = "",
        native: NativeHistogramOptions? = nil
    ) -> HistogramFamily {
        let bounds = HistogramBuckets(buckets, fallback: configuration.defaultBuckets)
        var settings: NativeHistogramSettings?
        if let native {
            let (validated, problems) = NativeHistogramSettings.validate(native)
            for problem in problems { rejections.reject(.outOfRange, metric: name, problem) }
            settings = validated
        }
        return HistogramFamily(
            storage: register(
                name: name, help: help, unit: unit, type: .histogram, labelNames: labelNames,
                configuration: HistogramConfiguration(bounds, native: settings)))
    }

    /// Every family and series as they are now. Recorders are never blocked for longer
    /// than one family's lock while its series list is copied.
    public func snapshot() -> MetricsSnapshot {
        runCollectors()
        return snapshotWithoutCollectors()
    }

    /// A snapshot without running the collectors first (they just ran).
    package func snapshotWithoutCollectors() -> MetricsSnapshot {
        let timestamp = WallClock.unixMilliseconds()
        return MetricsSnapshot(timestampMilliseconds: timestamp, families: sortedFamilies().map { $0.snapshot() })
    }

    /// Every series' identity, value and exemplar store, family by family in snapshot order,
    /// while `body` returns true (collectors run first, as for a snapshot): what the push path
    /// reads while the series it knows are unchanged, with no snapshot built. False when
    /// `body` stopped it.
    package func forEachSeriesValue(_ body: (ObjectIdentifier, SeriesValue, ExemplarStore?) -> Bool) -> Bool {
        runCollectors()
        for family in sortedFamilies() where !family.forEachSeriesValue(body) { return false }
        return true
    }

    /// Adds a function that updates series from elsewhere (the kernel, a pool) right before
    /// each render and snapshot.
    func addCollector(_ collect: @escaping @Sendable () -> Void) {
        collectors.withLock { $0.append(collect) }
    }

    func runCollectors() {
        collectors.withLock { collectors in
            for collect in collectors { collect() }
        }
    }

    /// The families sorted by name (sorted again only after a family came or went).
    package func sortedFamilies() -> [any RegisteredFamily] {
        families.withLock { $0.sorted() }
    }

    /// Takes `family` out of the registry if it holds no series (swift-metrics destroyed its
    /// last one), so families made for ever-new labels do not pile up. A handler made later
    /// for the same label registers the family again.
    package func removeIfEmpty(_ family: any RegisteredFamily) {
        families.withLock { families in
            let name = family.descriptor.name
            guard let current = families[name], current === family, family.retireIfEmpty() else { return }
            families[name] = nil
        }
    }

    /// Families registered now.
    package var familyCount: Int { families.withLock { $0.count } }

    /// How many values were rejected for `reason` since the registry was created.
    public func rejectedCount(_ reason: RejectionReason) -> UInt64 {
        rejections.count(reason)
    }

    /// Finds or creates a family; a conflicting or invalid registration yields a family that
    /// is not exported and drops every update.
    package func register<Series: SeriesStorage>(
        name: String, help: String, unit: String, type: MetricType, labelNames: [String]?,
        configuration seriesConfiguration: Series.Configuration
    ) -> MetricFamily<Series> {
        let descriptor = FamilyDescriptor(name: name, help: help, unit: unit, type: type, labelNames: labelNames)
        let limit = configuration.seriesLimitOverrides[name] ?? configuration.seriesLimitPerFamily
        let make = { (limit: Int) in
            MetricFamily<Series>(
                descriptor: descriptor, configuration: seriesConfiguration, seriesLimit: limit,
                maxLabelValueBytes: self.configuration.maxLabelValueBytes, rejections: self.rejections,
                exemplarProvider: self.configuration.exemplarProvider)
        }
        if let problem = Self.validate(descriptor) {
            rejections.reject(.invalidName, metric: name, problem)
            return make(0)
        }
        let histogram = seriesConfiguration as? HistogramConfiguration
        let outcome: MetricFamily<Series>? = families.withLock { families in
            if let existing = families[name] {
                guard let same = existing as? MetricFamily<Series>, same.descriptor == descriptor,
                    existing.histogramConfigurationForConflictCheck == histogram
                else { return nil }
                return same
            }
            let created = make(limit)
            families[name] = created
            return created
        }
        if let outcome { return outcome }
        rejections.reject(
            .conflictingRegistration, metric: name,
            "already registered with another type, help, unit, labels, buckets or native histogram options")
        return make(0)
    }

    private static func validate(_ descriptor: FamilyDescriptor) -> String? {
        guard NameValidation.isValidMetricName(descriptor.name) else { return "invalid metric name" }
        for label in descriptor.labelNames ?? [] {
            guard NameValidation.isValidLabelName(label) else { return "invalid label name \(label)" }
            if descriptor.type == .histogram && label == "le" { return "label le is reserved for histograms" }
        }
        if let names = descriptor.labelNames, Set(names).count != names.count { return "repeated label name" }
        return nil
    }
}
