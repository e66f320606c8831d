import ConveyorMetricsTestSupport
import CoreMetrics
import Foundation
import Synchronization
import Testing

@testable import ConveyorMetrics

/// Values and label values no caller should send, through every entry point.
@Suite("Hostile input")
struct HostileInputTests {
    @Test func hostileValuesAreRejectedAndCounted() throws {
        let registry = MetricsRegistry()
        HostileInput.record(into: registry)
        let rejected = Dictionary(
            uniqueKeysWithValues: RejectionReason.allCases.map { ($0, registry.rejectedCount($0)) })
        #expect(rejected[.notANumber, default: 0] > 0)
        #expect(rejected[.labelValueTooLong, default: 0] > 0, "the 64 KiB label value is refused")
        #expect(rejected[.negativeIncrement, default: 0] > 0)
        let snapshot = registry.snapshot()
        let latency = snapshot.family(named: "conveyor_router_routing_latency_ms")
        for series in latency?.series ?? [] {
            if case .histogram(let histogram) = series.value {
                #expect(!histogram.sum.isNaN, "NaN never reaches a histogram sum")
            }
        }
    }

    @Test func oneMillionDistinctLabelValuesStayWithinTheCardinalityGuard() throws {
        let registry = MetricsRegistry()
        let metrics = ConveyorRouterMetrics(registry: registry)
        func resident() -> Int {
            let statm = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8)) ?? "0 0"
            return (Int(statm.split(separator: " ")[1]) ?? 0) * 4096
        }
        for index in 0..<100_000 { metrics.recordRecordsReceived(sourceID: "source-\(index)", count: 1) }
        let afterFirst = resident()
        for index in 100_000..<1_000_000 { metrics.recordRecordsReceived(sourceID: "source-\(index)", count: 1) }
        let growth = resident() - afterFirst
        let family = registry.snapshot().family(named: "conveyor_router_records_received_total")
        #expect(family?.series.count == 10_000, "the default guard: 10,000 series per family")
        #expect(registry.rejectedCount(.cardinalityLimit) == 990_000, "every refused series counted")
        // 900,000 refused attempts: a leak of even 100 bytes each would show as 86 MiB. Loose
        // bound: other tests run in parallel in this process. Not under AddressSanitizer,
        // whose quarantine and shadow memory keep freed memory resident.
        if ProcessInfo.processInfo.environment["CONVEYOR_SANITIZER"] != "address" {  // set by make test-asan
            #expect(growth < 64 << 20, "resident memory grew \(growth >> 20) MiB over 900,000 refused series")
        }
    }
}
