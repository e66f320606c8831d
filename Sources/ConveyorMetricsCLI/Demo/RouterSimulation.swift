import ConveyorMetrics
import ConveyorMetricsExporter
import ConveyorMetricsRemoteWrite
import ConveyorMetricsTestKit
import ServiceLifecycle
import Synchronization

/// A simulated Conveyor router: sources feed pipelines of stages that deliver to sinks,
/// with leader changes, rebalances, checkpoints, retries and backpressure. Every metric
/// of the set is recorded by ``recordFirstTick()`` (call it before serving, so the first
/// scrape already sees every metric), then every `tick` while running.
package final class RouterSimulation: Service, Sendable {
    package static let sources = ["kafka-source-1", "http-source-1", "file-source-1"]
    package static let pipelines: [(id: String, stages: [String])] = [
        ("user-analytics", ["parse-stage", "filter-stage", "enrich-stage"]),
        ("billing", ["parse-stage", "aggregate-stage"]),
    ]
    package static let sinks = ["s3-sink", "clickhouse-sink", "kafka-sink"]
    package static let serviceTypes = ["source", "pipeline", "sink"]
    package static let groups = ["analytics-consumers", "billing-consumers"]

    let metrics: ConveyorRouterMetrics
    let tick: Duration
    private let state: Mutex<SimulationState>

    package init(metrics: ConveyorRouterMetrics, tick: Duration = .milliseconds(100), seed: UInt64 = 42) {
        self.metrics = metrics
        self.tick = tick
        self.state = Mutex(SimulationState(seed: seed))
    }

    /// Records every metric of the set once.
    package func recordFirstTick() {
        let metrics = metrics
        state.withLock { $0.step(metrics, everything: true) }
    }

    package func run() async throws {
        let metrics = metrics
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await Task.sleep(for: tick)
            } catch {
                return
            }
            state.withLock { $0.step(metrics, everything: false) }
        }
    }
}

/// The simulation's evolving state; `step` records one tick's worth of traffic.
struct SimulationState {
    private var random: SplitMix64
    /// Trace ids for the latency exemplars (a stream of its own: the recorded values are the
    /// same with or without them).
    private var traces: SplitMix64
    private var term: UInt64 = 1
    private var isLeader = true
    private var ticks: UInt64 = 0

    init(seed: UInt64) {
        random = SplitMix64(seed: seed)
        traces = SplitMix64(seed: seed ^ 0x7472_6163_6573)
    }

    /// A W3C-style trace id: 32 lowercase hex digits.
    private mutating func traceID() -> String {
        func hex(_ value: UInt64) -> String {
            let digits = String(value, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }
        return hex(traces.next()) + hex(traces.next())
    }

    mutating func step(_ metrics: ConveyorRouterMetrics, everything: Bool) {
        ticks &+= 1
        for source in RouterSimulation.sources {
            let received = 50 + random.next(below: 100)
            metrics.recordRecordsReceived(sourceID: source, count: received)
            if everything || random.chance(0.05) { metrics.recordBackpressureEvents(sourceID: source) }
        }
        for pipeline in RouterSimulation.pipelines {
            var flowing = 100 + random.next(below: 50)
            for stage in pipeline.stages {
                flowing -= random.next(below: 3)
                metrics.recordRecordsRouted(pipelineID: pipeline.id, stageID: stage, count: flowing)
                let utilization = min(1, Double(random.next(below: 1000)) / 1000 * 0.8 + 0.1)
                metrics.recordBufferUtilization(stageID: stage, utilization: utilization)
                if everything || random.chance(0.1) { metrics.recordRetryEvents(stageID: stage) }
            }
            for _ in 0..<5 {
                // Log-normal-ish latency: mostly a few ms, sometimes hundreds.
                let latency = 0.3 * Double(1 + random.next(below: 20)) * (random.chance(0.02) ? 100 : 1)
                // Each with the trace it came from: an exemplar per bucket links a slow bucket to
                // a trace (OpenMetrics, protobuf, and remote write with send_exemplars).
                metrics.recordRoutingLatency(
                    pipelineID: pipeline.id, latencyMs: latency, exemplar: Exemplar(["trace_id": traceID()]))
            }
        }
        for sink in RouterSimulation.sinks {
            metrics.recordRecordsDelivered(sinkID: sink, count: 40 + random.next(below: 80))
        }
        for (index, type) in RouterSimulation.serviceTypes.enumerated() {
            metrics.recordActiveServices(serviceType: type, count: Double(2 + index + Int(random.next(below: 2))))
        }
        if everything || random.chance(0.005) {
            if !everything {
                term &+= 1
                isLeader.toggle()
            }
            metrics.recordRaftState(isLeader: isLeader, term: term)
        }
        for group in RouterSimulation.groups where everything || random.chance(0.01) {
            metrics.recordGroupRebalance(groupID: group)
        }
        if everything || ticks % 10 == 0 {
            for type in RouterSimulation.serviceTypes { metrics.recordCheckpointSaved(serviceID: "\(type)-0") }
        }
    }
}

extension SplitMix64 {
    mutating func next(below bound: UInt64) -> UInt64 { bound == 0 ? 0 : next() % bound }

    mutating func chance(_ probability: Double) -> Bool { unit() < probability }
}
