/// The router's metric set as data: exact names, types, label names and HELP of the spec.
public struct ConveyorMetric: Sendable, Hashable {
    /// The exposed family name.
    public let name: String
    /// Counter, gauge or histogram.
    public let type: MetricType
    /// Label names in the order the record functions take their values.
    public let labelNames: [String]
    /// The HELP text (the spec's Description column).
    public let help: String

    /// All twelve families of the spec, in the spec's order.
    public static let all: [ConveyorMetric] = [
        .recordsReceived, .recordsRouted, .recordsDelivered, .routingLatency, .bufferUtilization,
        .backpressureEvents, .activeServices, .raftIsLeader, .raftTerm, .retryEvents, .checkpointsSaved,
        .groupRebalances,
    ]

    package static let recordsReceived = ConveyorMetric(
        name: "conveyor_router_records_received_total", type: .counter, labelNames: ["source_id"],
        help: "Records received from sources")
    package static let recordsRouted = ConveyorMetric(
        name: "conveyor_router_records_routed_total", type: .counter, labelNames: ["pipeline_id", "stage_id"],
        help: "Records routed through stages")
    package static let recordsDelivered = ConveyorMetric(
        name: "conveyor_router_records_delivered_total", type: .counter, labelNames: ["sink_id"],
        help: "Records delivered to sinks")
    package static let routingLatency = ConveyorMetric(
        name: "conveyor_router_routing_latency_ms", type: .histogram, labelNames: ["pipeline_id"],
        help: "End-to-end routing latency")
    package static let bufferUtilization = ConveyorMetric(
        name: "conveyor_router_buffer_utilization", type: .gauge, labelNames: ["stage_id"],
        help: "Buffer fill percentage (0-1)")
    package static let backpressureEvents = ConveyorMetric(
        name: "conveyor_router_backpressure_events_total", type: .counter, labelNames: ["source_id"],
        help: "Backpressure signals sent")
    package static let activeServices = ConveyorMetric(
        name: "conveyor_router_active_services", type: .gauge, labelNames: ["service_type"],
        help: "Count of registered services")
    package static let raftIsLeader = ConveyorMetric(
        name: "conveyor_router_raft_is_leader", type: .gauge, labelNames: [], help: "1 if leader, 0 otherwise")
    package static let raftTerm = ConveyorMetric(
        name: "conveyor_router_raft_term", type: .gauge, labelNames: [], help: "Current Raft term")
    package static let retryEvents = ConveyorMetric(
        name: "conveyor_router_retry_events_total", type: .counter, labelNames: ["stage_id"],
        help: "Record retry attempts")
    package static let checkpointsSaved = ConveyorMetric(
        name: "conveyor_router_checkpoints_saved_total", type: .counter, labelNames: ["service_id"],
        help: "Checkpoints persisted")
    package static let groupRebalances = ConveyorMetric(
        name: "conveyor_router_group_rebalances_total", type: .counter, labelNames: ["group_id"],
        help: "Consumer group rebalances")
}
