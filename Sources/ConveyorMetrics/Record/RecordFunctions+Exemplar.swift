// The free record functions with an exemplar (nil: the default registry's provider, if any),
// recording into `ConveyorRouterMetrics.shared`.

/// Records received, with an exemplar. See ``ConveyorRouterMetrics/recordRecordsReceived(sourceID:count:exemplar:)``.
public func recordRecordsReceived(sourceID: String, count: UInt64, exemplar: Exemplar?) {
    ConveyorRouterMetrics.shared.recordRecordsReceived(sourceID: sourceID, count: count, exemplar: exemplar)
}

/// Records routed, with an exemplar. See ``ConveyorRouterMetrics/recordRecordsRouted(pipelineID:stageID:count:exemplar:)``.
public func recordRecordsRouted(pipelineID: String, stageID: String, count: UInt64, exemplar: Exemplar?) {
    ConveyorRouterMetrics.shared.recordRecordsRouted(
        pipelineID: pipelineID, stageID: stageID, count: count, exemplar: exemplar)
}

/// Records delivered, with an exemplar. See ``ConveyorRouterMetrics/recordRecordsDelivered(sinkID:count:exemplar:)``.
public func recordRecordsDelivered(sinkID: String, count: UInt64, exemplar: Exemplar?) {
    ConveyorRouterMetrics.shared.recordRecordsDelivered(sinkID: sinkID, count: count, exemplar: exemplar)
}

/// Routing latency in ms, with an exemplar. See ``ConveyorRouterMetrics/recordRoutingLatency(pipelineID:latencyMs:exemplar:)``.
///
/// ```swift
/// recordRoutingLatency(
///     pipelineID: "user-analytics", latencyMs: 12.5, exemplar: Exemplar(["trace_id": traceID]))
/// ```
public func recordRoutingLatency(pipelineID: String, latencyMs: Double, exemplar: Exemplar?) {
    ConveyorRouterMetrics.shared.recordRoutingLatency(pipelineID: pipelineID, latencyMs: latencyMs, exemplar: exemplar)
}

/// One backpressure signal, with an exemplar. See ``ConveyorRouterMetrics/recordBackpressureEvents(sourceID:exemplar:)``.
public func recordBackpressureEvents(sourceID: String, exemplar: Exemplar?) {
    ConveyorRouterMetrics.shared.recordBackpressureEvents(sourceID: sourceID, exemplar: exemplar)
}

/// One record retry, with an exemplar. See ``ConveyorRouterMetrics/recordRetryEvents(stageID:exemplar:)``.
public func recordRetryEvents(stageID: String, exemplar: Exemplar?) {
    ConveyorRouterMetrics.shared.recordRetryEvents(stageID: stageID, exemplar: exemplar)
}

/// One checkpoint persisted, with an exemplar. See ``ConveyorRouterMetrics/recordCheckpointSaved(serviceID:exemplar:)``.
public func recordCheckpointSaved(serviceID: String, exemplar: Exemplar?) {
    ConveyorRouterMetrics.shared.recordCheckpointSaved(serviceID: serviceID, exemplar: exemplar)
}

/// One consumer group rebalance, with an exemplar. See ``ConveyorRouterMetrics/recordGroupRebalance(groupID:exemplar:)``.
public func recordGroupRebalance(groupID: String, exemplar: Exemplar?) {
    ConveyorRouterMetrics.shared.recordGroupRebalance(groupID: groupID, exemplar: exemplar)
}
