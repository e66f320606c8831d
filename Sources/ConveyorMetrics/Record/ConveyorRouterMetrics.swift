/// The Conveyor router's metric set, bound to one registry.
///
/// Every metric of the original spec, with its exact name, type, labels and HELP. The free
/// functions (`recordRecordsReceived(sourceID:count:)`, …) record into
/// ``ConveyorRouterMetrics/shared``, which uses ``MetricsRegistry/default``; make your own
/// instance to record into another registry (tests, several routers in one process).
///
/// ```swift
/// let registry = MetricsRegistry()
/// let metrics = ConveyorRouterMetrics(registry: registry)
/// metrics.recordRecordsReceived(sourceID: "kafka-source-1", count: 100)
/// metrics.recordRaftState(isLeader: true, term: 42)
/// ```
public struct ConveyorRouterMetrics: Sendable {
    /// The default `conveyor_router_routing_latency_ms` buckets, in milliseconds.
    public static let defaultLatencyBucketsMs: [Double] = [
        0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000,
    ]

    /// The instance the free record functions use, on ``MetricsRegistry/default``.
    public static let shared = ConveyorRouterMetrics(registry: .default)

    /// The registry this instance records into.
    public let registry: MetricsRegistry

    let recordsReceived: CounterFamily
    let recordsRouted: CounterFamily
    let recordsDelivered: CounterFamily
    let routingLatency: HistogramFamily
    let bufferUtilization: GaugeFamily
    let backpressureEvents: CounterFamily
    let activeServices: GaugeFamily
    let raftIsLeader: GaugeSeries
    let raftTerm: GaugeSeries
    let retryEvents: CounterFamily
    let checkpointsSaved: CounterFamily
    let groupRebalances: CounterFamily

    /// Registers the router's families in `registry` (idempotent for the same buckets and
    /// options). With `routingLatencyNative`, `conveyor_router_routing_latency_ms` also records
    /// a native histogram (keep its classic buckets for the text formats the spec defines).
    public init(
        registry: MetricsRegistry, latencyBucketsMs: [Double] = defaultLatencyBucketsMs,
        routingLatencyNative: NativeHistogramOptions? = nil
    ) {
        self.registry = registry
        func counter(_ spec: ConveyorMetric) -> CounterFamily {
            registry.counterFamily(name: spec.name, help: spec.help, labelNames: spec.labelNames)
        }
        func gauge(_ spec: ConveyorMetric) -> GaugeFamily {
            registry.gaugeFamily(name: spec.name, help: spec.help, labelNames: spec.labelNames)
        }
        recordsReceived = counter(.recordsReceived)
        recordsRouted = counter(.recordsRouted)
        recordsDelivered = counter(.recordsDelivered)
        routingLatency = registry.histogramFamily(
            name: ConveyorMetric.routingLatency.name, help: ConveyorMetric.routingLatency.help,
            labelNames: ConveyorMetric.routingLatency.labelNames, buckets: latencyBucketsMs,
            native: routingLatencyNative)
        bufferUtilization = gauge(.bufferUtilization)
        backpressureEvents = counter(.backpressureEvents)
        activeServices = gauge(.activeServices)
        raftIsLeader = gauge(.raftIsLeader).series()
        raftTerm = gauge(.raftTerm).series()
        retryEvents = counter(.retryEvents)
        checkpointsSaved = counter(.checkpointsSaved)
        groupRebalances = counter(.groupRebalances)
    }

    /// Records received from a source: `conveyor_router_records_received_total{source_id}`.
    @inline(__always)
    public func recordRecordsReceived(sourceID: String, count: UInt64) {
        recordsReceived.storage.withSeries(.one(sourceID)) { $0.increment(by: count) }
    }

    /// Records routed through a stage: `conveyor_router_records_routed_total{pipeline_id,stage_id}`.
    @inline(__always)
    public func recordRecordsRouted(pipelineID: String, stageID: String, count: UInt64) {
        recordsRouted.storage.withSeries(.two(pipelineID, stageID)) { $0.increment(by: count) }
    }

    /// Records delivered to a sink: `conveyor_router_records_delivered_total{sink_id}`.
    @inline(__always)
    public func recordRecordsDelivered(sinkID: String, count: UInt64) {
        recordsDelivered.storage.withSeries(.one(sinkID)) { $0.increment(by: count) }
    }

    /// End-to-end routing latency in milliseconds: `conveyor_router_routing_latency_ms{pipeline_id}`.
    /// NaN, infinite and negative latencies are rejected and counted.
    @inline(__always)
    public func recordRoutingLatency(pipelineID: String, latencyMs: Double) {
        guard latencyMs >= 0 && latencyMs.isFinite else {
            return reject(
                latencyMs.isNaN ? .notANumber : .outOfRange, ConveyorMetric.routingLatency, "latency \(latencyMs) ms")
        }
        routingLatency.storage.withSeries(.one(pipelineID)) { $0.observe(latencyMs) }
    }

    /// Buffer fill fraction 0…1: `conveyor_router_buffer_utilization{stage_id}`.
    /// NaN and values outside 0…1 are rejected and counted.
    @inline(__always)
    public func recordBufferUtilization(stageID: String, utilization: Double) {
        guard utilization >= 0 && utilization <= 1 else {
            if utilization.isNaN {
                return reject(.notANumber, ConveyorMetric.bufferUtilization, "utilization NaN")
            }
            return reject(.outOfRange, ConveyorMetric.bufferUtilization, "utilization \(utilization)")
        }
        bufferUtilization.storage.withSeries(.one(stageID)) { $0.set(utilization) }
    }

    /// Registered services of a type: `conveyor_router_active_services{service_type}`.
    /// NaN, infinite and negative counts are rejected and counted.
    public func recordActiveServices(serviceType: String, count: Double) {
        guard count >= 0 && count.isFinite else {
            return reject(
                count.isNaN ? .notANumber : .outOfRange, ConveyorMetric.activeServices, "count \(count)")
        }
        activeServices.storage.withSeries(.one(serviceType)) { $0.set(count) }
    }

    /// Raft leadership and term: sets `conveyor_router_raft_is_leader` (1 or 0) and
    /// `conveyor_router_raft_term`.
    public func recordRaftState(isLeader: Bool, term: UInt64) {
        raftIsLeader.set(isLeader ? 1 : 0)
        raftTerm.set(Double(term))
    }

    /// One backpressure signal sent to a source: `conveyor_router_backpressure_events_total{source_id}`.
    public func recordBackpressureEvents(sourceID: String) {
        backpressureEvents.storage.withSeries(.one(sourceID)) { $0.increment() }
    }

    /// One record retry in a stage: `conveyor_router_retry_events_total{stage_id}`.
    public func recordRetryEvents(stageID: String) {
        retryEvents.storage.withSeries(.one(stageID)) { $0.increment() }
    }

    /// One checkpoint persisted by a service: `conveyor_router_checkpoints_saved_total{service_id}`.
    public func recordCheckpointSaved(serviceID: String) {
        checkpointsSaved.storage.withSeries(.one(serviceID)) { $0.increment() }
    }

    /// One consumer group rebalance: `conveyor_router_group_rebalances_total{group_id}`.
    public func recordGroupRebalance(groupID: String) {
        groupRebalances.storage.withSeries(.one(groupID)) { $0.increment() }
    }

    // MARK: With an exemplar

    /// ``recordRecordsReceived(sourceID:count:)`` with an exemplar for the increment (nil:
    /// the registry's ``ExemplarProvider``, if any).
    public func recordRecordsReceived(sourceID: String, count: UInt64, exemplar: Exemplar?) {
        recordsReceived.storage.withSeries(.one(sourceID)) { $0.increment(by: count, exemplar: exemplar) }
    }

    /// ``recordRecordsRouted(pipelineID:stageID:count:)`` with an exemplar for the increment.
    public func recordRecordsRouted(pipelineID: String, stageID: String, count: UInt64, exemplar: Exemplar?) {
        recordsRouted.storage.withSeries(.two(pipelineID, stageID)) { $0.increment(by: count, exemplar: exemplar) }
    }

    /// ``recordRecordsDelivered(sinkID:count:)`` with an exemplar for the increment.
    public func recordRecordsDelivered(sinkID: String, count: UInt64, exemplar: Exemplar?) {
        recordsDelivered.storage.withSeries(.one(sinkID)) { $0.increment(by: count, exemplar: exemplar) }
    }

    /// ``recordRoutingLatency(pipelineID:latencyMs:)`` with an exemplar for the observation
    /// (typically the trace of the routed record): kept as the latest of its bucket.
    public func recordRoutingLatency(pipelineID: String, latencyMs: Double, exemplar: Exemplar?) {
        guard latencyMs >= 0 && latencyMs.isFinite else {
            return reject(
                latencyMs.isNaN ? .notANumber : .outOfRange, ConveyorMetric.routingLatency, "latency \(latencyMs) ms")
        }
        routingLatency.storage.withSeries(.one(pipelineID)) { $0.observe(latencyMs, exemplar: exemplar) }
    }

    /// ``recordBackpressureEvents(sourceID:)`` with an exemplar.
    public func recordBackpressureEvents(sourceID: String, exemplar: Exemplar?) {
        backpressureEvents.storage.withSeries(.one(sourceID)) { $0.increment(exemplar: exemplar) }
    }

    /// ``recordRetryEvents(stageID:)`` with an exemplar.
    public func recordRetryEvents(stageID: String, exemplar: Exemplar?) {
        retryEvents.storage.withSeries(.one(stageID)) { $0.increment(exemplar: exemplar) }
    }

    /// ``recordCheckpointSaved(serviceID:)`` with an exemplar.
    public func recordCheckpointSaved(serviceID: String, exemplar: Exemplar?) {
        checkpointsSaved.storage.withSeries(.one(serviceID)) { $0.increment(exemplar: exemplar) }
    }

    /// ``recordGroupRebalance(groupID:)`` with an exemplar.
    public func recordGroupRebalance(groupID: String, exemplar: Exemplar?) {
        groupRebalances.storage.withSeries(.one(groupID)) { $0.increment(exemplar: exemplar) }
    }

    private func reject(_ reason: RejectionReason, _ metric: ConveyorMetric, _ detail: @autoclosure () -> String) {
        registry.rejections.reject(reason, metric: metric.name, detail())
    }
}
