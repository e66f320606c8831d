import ServiceContextModule

/// Supplies an exemplar for every increment and observation that is recorded without one:
/// set ``MetricsRegistry/Configuration/exemplarProvider`` and a traced service gets its
/// trace and span ids on exemplars without passing them.
///
/// The provider is asked on the recording thread, for counters on every `increment` and
/// for histograms on every `observe` that comes without an explicit exemplar; returning nil
/// records none. The exemplar's value is replaced by the recorded amount and a missing
/// timestamp by the time of recording. A registry without a provider pays one branch.
///
/// ```swift
/// var configuration = MetricsRegistry.Configuration()
/// configuration.exemplarProvider = .serviceContext
/// let registry = MetricsRegistry(configuration: configuration)
///
/// var context = ServiceContext.topLevel
/// context.exemplarTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
/// ServiceContext.withValue(context) {
///     latency.series("user-analytics").observe(12.5)  // exemplar {trace_id="4bf9…"} 12.5
/// }
/// ```
public struct ExemplarProvider: Sendable {
    let make: @Sendable () -> Exemplar?

    /// A provider that calls `make` for each recording.
    public init(_ make: @escaping @Sendable () -> Exemplar?) {
        self.make = make
    }

    /// Reads `trace_id` and `span_id` from the current `ServiceContext`
    /// (``ExemplarTraceIDKey`` and ``ExemplarSpanIDKey``); no exemplar when there is no trace id.
    public static let serviceContext = ExemplarProvider.serviceContext { context in
        guard let traceID = context.exemplarTraceID else { return nil }
        var labels = [Label(name: "trace_id", value: traceID)]
        if let spanID = context.exemplarSpanID { labels.append(Label(name: "span_id", value: spanID)) }
        return labels
    }

    /// Reads exemplar labels from the current `ServiceContext` with `labels`: a tracer that
    /// keeps its span context under its own key (OpenTelemetry's) maps it to `trace_id` and
    /// `span_id` here. No exemplar when there is no current context or `labels` gives nil.
    public static func serviceContext(_ labels: @escaping @Sendable (ServiceContext) -> [Label]?)
        -> ExemplarProvider
    {
        ExemplarProvider {
            guard let context = ServiceContext.current, let found = labels(context) else { return nil }
            return Exemplar(labels: found)
        }
    }
}

/// The trace id ``ExemplarProvider/serviceContext`` puts on exemplars as `trace_id`.
public enum ExemplarTraceIDKey: ServiceContextKey {
    /// The trace id as its tracer spells it (e.g. 32 hex digits).
    public typealias Value = String
    /// `trace_id`, as the key shows in `ServiceContext`'s description.
    public static var nameOverride: String? { "trace_id" }
}

/// The span id ``ExemplarProvider/serviceContext`` puts on exemplars as `span_id`.
public enum ExemplarSpanIDKey: ServiceContextKey {
    /// The span id as its tracer spells it (e.g. 16 hex digits).
    public typealias Value = String
    /// `span_id`, as the key shows in `ServiceContext`'s description.
    public static var nameOverride: String? { "span_id" }
}

extension ServiceContext {
    /// The trace id that exemplars recorded in this context carry (``ExemplarTraceIDKey``).
    public var exemplarTraceID: String? {
        get { self[ExemplarTraceIDKey.self] }
        set { self[ExemplarTraceIDKey.self] = newValue }
    }

    /// The span id that exemplars recorded in this context carry (``ExemplarSpanIDKey``).
    public var exemplarSpanID: String? {
        get { self[ExemplarSpanIDKey.self] }
        set { self[ExemplarSpanIDKey.self] = newValue }
    }
}
