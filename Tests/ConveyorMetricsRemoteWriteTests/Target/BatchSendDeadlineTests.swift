import ConveyorMetricsTestSupport
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsRemoteWrite

/// `batch_send_deadline`: less than a request waits up to the deadline for more; a full
/// request, the deadline's end, or shutdown sends at once; zero (the default) never waits.
@Suite("Batch send deadline")
struct BatchSendDeadlineTests {
    static func harness(deadline: Duration, series: Int) -> PipelineHarness {
        let harness = PipelineHarness { target in
            target.queue.batchSendDeadline = deadline
            target.queue.maxSamplesPerSend = 100
        }
        let family = harness.registry.counterFamily(name: "c_total", help: "c", labelNames: ["n"])
        for index in 0..<series { family.series(String(index)).increment() }
        return harness
    }

    @Test func lessThanARequestWaitsForTheDeadlineThenGoes() {
        let harness = Self.harness(deadline: .seconds(2), series: 30)
        let produced = harness.target.produce(harness.registry.snapshot(), final: false).produced
        #expect(produced >= 30 && produced < 50, "the counters and the registry's own series")
        let now = harness.clock.monotonicNanoseconds()
        guard case .wait(let until?) = harness.machine.step() else {
            Issue.record("expected a wait for the batch deadline")
            return
        }
        #expect(until - now == 2_000_000_000)
        #expect(harness.send() == 0, "nothing leaves before the deadline")
        harness.clock.advance(milliseconds: 1_000)
        harness.target.produce(harness.registry.snapshot(), final: false)
        #expect(harness.send() == 0, "two snapshots: still less than a request")
        harness.clock.advance(milliseconds: 1_000)
        #expect(harness.send() == 1, "the deadline passed: both snapshots in one request")
        #expect(harness.receiver.acceptedSamples == 2 * produced)
    }

    @Test func aFullRequestAndShutdownDoNotWait() {
        let harness = Self.harness(deadline: .seconds(5), series: 120)
        let produced = harness.target.produce(harness.registry.snapshot(), final: false).produced
        #expect(produced > 100 && produced < 200)
        #expect(harness.send() == 1, "a full request at once; the rest waits for the deadline")
        #expect(harness.receiver.acceptedSamples == 100)
        harness.clock.advance(milliseconds: 5_000)
        #expect(harness.send() == 1)
        #expect(harness.receiver.acceptedSamples == produced)
        let small = Self.harness(deadline: .seconds(5), series: 10)
        small.target.context.shutdown.deadline.store(
            small.clock.monotonicNanoseconds() + 5_000_000_000, ordering: .releasing)
        small.target.produce(small.registry.snapshot(), final: true)
        small.target.context.shutdown.finalQueued.store(true, ordering: .releasing)
        #expect(small.send() >= 1)
        #expect(small.machine.step() == .finished)
    }

    @Test func withoutADeadlineASnapshotGoesAtOnce() {
        let harness = Self.harness(deadline: .zero, series: 5)
        harness.target.produce(harness.registry.snapshot(), final: false)
        #expect(harness.send() == 1)
    }
}
