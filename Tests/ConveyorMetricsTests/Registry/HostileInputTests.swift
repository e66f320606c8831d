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

    /// A million series for one family with a guard of 10,000: the rest refused and counted,
    /// and no memory kept for them. (On a thread of its own: seconds of CPU on the
    /// concurrency pool would stall every other test.)
    @Test func oneMillionDistinctLabelValuesStayWithinTheCardinalityGuard() async {
        await HeavyTestWork.run { Self.oneMillionDistinctLabelValues() }
    }

    static func oneMillionDistinctLabelValues() {
        let registry = MetricsRegistry()
        let metrics = ConveyorRouterMetrics(registry: registry)
        func resident() -> Int {
            let statm = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8)) ?? "0 0"
            return (Int(statm.split(separator: " ")[1]) ?? 0) * 4096
        }
        for index in 0..<100_000 { metrics.recordRecordsReceived(sourceID: "source-\(index)", count: 1) }
        // Two halves of 450,000 refused series, each measured on its own: a leak grows both,
        // while other tests of this process allocating meanwhile rarely grow both.
        var growths: [Int] = []
        for half in 0..<2 {
            let before = resident()
            let first = 100_000 + half * 450_000
            for index in first..<first + 450_000 {
                metrics.recordRecordsReceived(sourceID: "source-\(index)", count: 1)
            }
            growths.append(resident() - before)
        }
        let family = registry.snapshot().family(named: "conveyor_router_records_received_total")
        #expect(family?.series.count == 10_000, "the default guard: 10,000 series per family")
        #expect(registry.rejectedCount(.cardinalityLimit) == 990_000, "every refused series counted")
        // A leak of even 100 bytes a refused series would grow each half by 43 MiB. Not under
        // AddressSanitizer, whose quarantine and shadow memory keep freed memory resident.
        if ProcessInfo.processInfo.environment["CONVEYOR_SANITIZER"] != "address" {  // set by make test-asan
            let least = growths.min() ?? Int.max
            #expect(
                least < 32 << 20, "resident memory grew \(growths.map { $0 >> 20 }) MiB over 450,000 refused series")
        }
    }
}
