// The spec's free record functions, recording into `ConveyorRouterMetrics.shared`
// (which uses `MetricsRegistry.default`, the registry a default `MetricsExporter` serves).

/// Records received from a source. See ``ConveyorRouterMetrics/recordRecordsReceived(sourceID:count:)``.
///
/// ```swift
/// recordRecordsReceived(sourceID: "kafka-source-1", count: 100)
/// ```
@inline(__always)
public func recordRecordsReceived(sourceID: String, count: UInt64) {
    ConveyorRouterMetrics.shared.recordRecordsReceived(sourceID: sourceID, count: count)
}

/// Records routed through a stage. See ``ConveyorRouterMetrics/recordRecordsRouted(pipelineID:stageID:count:)``.
@inline(__always)
public func recordRecordsRouted(pipelineID: String, stageID: String, count: UInt64) {
    ConveyorRouterMetrics.shared.recordRecordsRouted(pipelineID: pipelineID, stageID: stageID, count: count)
}

/// Records delivered to a sink. See ``ConveyorRouterMetrics/recordRecordsDelivered(sinkID:count:)``.
@inline(__always)
public func recordRecordsDelivered(sinkID: String, count: UInt64) {
    ConveyorRouterMetrics.shared.recordRecordsDelivered(sinkID: sinkID, count: count)
}

/// End-to-end routing latency in ms. See ``ConveyorRouterMetrics/recordRoutingLatency(pipelineID:latencyMs:)``.
@inline(__always)
public func recordRoutingLatency(pipelineID: String, latencyMs: Double) {
    ConveyorRouterMetrics.shared.recordRoutingLatency(pipelineID: pipelineID, latencyMs: latencyMs)
}

/// Buffer fill fraction 0…1. See ``ConveyorRouterMetrics/recordBufferUtilization(stageID:utilization:)``.
@inline(__always)
public func recordBufferUtilization(stageID: String, utilization: Double) {
    ConveyorRouterMetrics.shared.recordBufferUtilization(stageID: stageID, utilization: utilization)
}

/// Registered services of a type. See ``ConveyorRouterMetrics/recordActiveServices(serviceType:count:)``.
public func recordActiveServices(serviceType: String, count: Double) {
    ConveyorRouterMetrics.shared.recordActiveServices(serviceType: serviceType, count: count)
}

/// Raft leadership and term. See ``ConveyorRouterMetrics/recordRaftState(isLeader:term:)``.
public func recordRaftState(isLeader: Bool, term: UInt64) {
    ConveyorRouterMetrics.shared.recordRaftState(isLeader: isLeader, term: term)
}

/// One backpressure signal. See ``ConveyorRouterMetrics/recordBackpressureEvents(sourceID:)``.
public func recordBackpressureEvents(sourceID: String) {
    ConveyorRouterMetrics.shared.recordBackpressureEvents(sourceID: sourceID)
}

/// One record retry. See ``ConveyorRouterMetrics/recordRetryEvents(stageID:)``.
public func recordRetryEvents(stageID: String) {
    ConveyorRouterMetrics.shared.recordRetryEvents(stageID: stageID)
}

/// One checkpoint persisted. See ``ConveyorRouterMetrics/recordCheckpointSaved(serviceID:)``.
public func recordCheckpointSaved(serviceID: String) {
    ConveyorRouterMetrics.shared.recordCheckpointSaved(serviceID: serviceID)
}

/// One consumer group rebalance. See ``ConveyorRouterMetrics/recordGroupRebalance(groupID:)``.
public func recordGroupRebalance(groupID: String) {
    ConveyorRouterMetrics.shared.recordGroupRebalance(groupID: groupID)
}
