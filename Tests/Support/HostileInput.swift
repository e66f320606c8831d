import ConveyorMetrics
import CoreMetrics

/// Values and label values no caller should send, through every entry point: shared by the
/// unit tests (rejections counted) and the integration tests (promtool, real Prometheus).
package enum HostileInput {
    package static let labelValues = [
        "", String(repeating: "k", count: 64 * 1024), "\u{0}\u{1}\u{7}\t\r", "quote \" here", "back\\slash\\",
        "new\nline", "ünï\u{FFFD}cödé", String(decoding: [0xC3, 0x28, 0xFF, 0x41] as [UInt8], as: UTF8.self),
    ]
    package static let values: [Double] = [
        .nan, .infinity, -.infinity, -1, -0.0, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
        .leastNonzeroMagnitude, 1e308, 0.1,
    ]

    /// Every hostile value and label value through the record functions and a swift-metrics factory.
    package static func record(into registry: MetricsRegistry) {
        let metrics = ConveyorRouterMetrics(registry: registry)
        let factory: any MetricsFactory = registry
        for label in labelValues {
            for value in values {
                metrics.recordRecordsReceived(
                    sourceID: label, count: value.isFinite && value >= 0 ? UInt64(min(value, 1e18)) : 0)
                metrics.recordRoutingLatency(pipelineID: label, latencyMs: value)
                metrics.recordBufferUtilization(stageID: label, utilization: value)
                metrics.recordActiveServices(serviceType: label, count: value)
                factory.makeCounter(label: "hostile_requests", dimensions: [("who", label)]).increment(by: -5)
                factory.makeFloatingPointCounter(label: "hostile_bytes", dimensions: [("who", label)])
                    .increment(by: value)
                factory.makeRecorder(label: "hostile_level", dimensions: [("who", label)], aggregate: false)
                    .record(value)
                factory.makeRecorder(label: "hostile_size", dimensions: [("who", label)], aggregate: true)
                    .record(value)
                factory.makeTimer(label: "hostile_wait", dimensions: [("who", label)]).recordNanoseconds(Int64.min)
            }
        }
    }
}
