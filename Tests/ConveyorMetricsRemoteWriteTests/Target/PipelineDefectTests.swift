import ConveyorMetricsTestSupport
import Foundation
import Logging
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsRemoteWrite

/// One test per delivery defect the simulation issue named, each against the pipeline's
/// parts driven by hand (no threads): simulated clock, file system and receiver.
@Suite("Push pipeline defects")
struct PipelineDefectTests {

    @Test func theFinalSnapshotQueuedAfterTheSenderFoundTheQueueEmptyIsSent() {
        let harness = PipelineHarness()
        harness.registry.counterFamily(name: "c_total", help: "c").series().increment()
        #expect(harness.machine.step() == .wait(until: nil), "nothing queued yet")
        // finish(): the final snapshot and stale markers, then the flag the sender stops on.
        harness.target.context.shutdown.deadline.store(
            harness.clock.monotonicNanoseconds() + 5_000_000_000, ordering: .releasing)
        harness.target.produce(harness.registry.snapshot(), final: true)
        harness.target.context.shutdown.finalQueued.store(true, ordering: .releasing)
        #expect(harness.send() > 0)
        #expect(harness.machine.step() == .finished)
        let stale = harness.receiver.stored.filter(\.sample.isStaleMarker)
        #expect(!stale.isEmpty, "stale markers for every series at shutdown")
        #expect(harness.receiver.stored.contains { $0.key.contains("c_total") && !$0.sample.isStaleMarker })
    }

    @Test func aDiskTargetsFlushTakesNoSnapshotOnTheCallersTask() {
        let harness = PipelineHarness(disk: SimulatedFileSystem(seed: 2))
        var taken = false
        harness.target.flush {
            taken = true
            return .registry(harness.registry)
        }
        #expect(!taken, "the persister thread takes the snapshot and stores it before it counts")
        #expect(harness.target.flushRequests.load(ordering: .relaxed) == 1)
        #expect(harness.target.context.memory.count == 0, "nothing waits in memory for the disk")
    }

    @Test func aPartialWriteIsCutBackAndLaterRecordsReadBackAfterARestart() throws {
        let fileSystem = SimulatedFileSystem(seed: 3)
        let settings = DiskQueue.Settings(directory: "/q", maxBytes: 1 << 20, sync: .everyWrite)
        let queue = try DiskQueue(settings: settings, fileSystem: fileSystem)
        _ = try queue.append(compressedRequest: [1, 2, 3], samples: 1, timestamp: 10)
        fileSystem.faults.writeError = 1
        #expect(throws: DiskQueueError.self) {
            _ = try queue.append(compressedRequest: [4, 5, 6], samples: 1, timestamp: 20)
        }
        fileSystem.faults.writeError = 0
        _ = try queue.append(compressedRequest: [7, 8, 9], samples: 1, timestamp: 30)
        var tooOld = 0
        var timestamps: [Int64] = []
        while let batch = try queue.nextBatch(maxSamples: 1, notBefore: nil, tooOld: &tooOld) {
            #expect(batch.corruptSamples == 0)
            timestamps.append(batch.oldestTimestamp)
            try queue.acknowledge(batch)
        }
        #expect(timestamps == [10, 30])
        fileSystem.scheduleCrash(afterCalls: 1)
        _ = fileSystem.exists("/q")
        fileSystem.restartAfterCrash(powerLoss: true)
        let reopened = try DiskQueue(settings: settings, fileSystem: fileSystem)
        #expect(reopened.recovery.truncatedBytes == 0, "no torn bytes left behind the failed write")
        #expect(reopened.recovery.samples == 0, "both records were acknowledged")
    }

    @Test func aFullDiskDegradesToMemoryAndRecoversWhenSpaceReturns() {
        let fileSystem = SimulatedFileSystem(seed: 4)
        let harness = PipelineHarness(disk: fileSystem)
        harness.registry.counterFamily(name: "c_total", help: "c").series().increment()
        fileSystem.capacityBytes = fileSystem.usedBytes
        let full = harness.target.produce(harness.registry.snapshot(), final: false)
        #expect(full.degradedBy?.contains("No space left") == true)
        #expect(harness.target.context.memory.count > 0, "the snapshot waits in memory")
        #expect(harness.gauge("disk_degraded") == 1)
        harness.send()
        #expect(harness.target.context.memory.count == 0)
        fileSystem.capacityBytes = .max
        let back = harness.target.produce(harness.registry.snapshot(), final: false)
        #expect(back.recovered)
        #expect(harness.gauge("disk_degraded") == 0)
        #expect((harness.target.context.disk?.pendingSamples ?? 0) > 0, "on disk again")
        harness.send()
        #expect(harness.target.context.pendingSamples == 0)
        #expect(harness.receiver.refused.isEmpty)
    }

    @Test func startUpOnAFullDiskSucceedsAndAcknowledgingNeedsNoSpace() throws {
        let fileSystem = SimulatedFileSystem(seed: 5)
        do {
            let first = PipelineHarness(disk: fileSystem)
            first.registry.counterFamily(name: "c_total", help: "c").series().increment()
            first.target.produce(first.registry.snapshot(), final: false)
            first.target.context.disk?.close()
        }
        fileSystem.capacityBytes = fileSystem.usedBytes
        let second = PipelineHarness(disk: fileSystem)
        let disk = try #require(second.target.context.disk, "the queue opens on a full disk")
        #expect(disk.recovery.samples > 0)
        #expect(second.send() > 0)
        #expect(disk.pendingSamples == 0, "delivered and acknowledged with no byte free")
    }

    @Test func aRestartWithTheClockTenMinutesBehindStampsAboveWhatWasSent() throws {
        let fileSystem = SimulatedFileSystem(seed: 6)
        let sent: Int64
        do {
            let first = PipelineHarness(disk: fileSystem)
            first.registry.counterFamily(name: "c_total", help: "c").series().increment()
            first.target.produce(first.registry.snapshot(), final: false)
            first.send()
            sent = try #require(first.receiver.stored.map(\.sample.timestampMilliseconds).max())
            first.target.context.disk?.close()
        }
        fileSystem.scheduleCrash(afterCalls: 1)
        _ = fileSystem.exists("/")
        fileSystem.restartAfterCrash(powerLoss: false)
        let second = PipelineHarness(disk: fileSystem)
        second.clock.stepWallBack(milliseconds: 600_000)
        second.registry.counterFamily(name: "c_total", help: "c").series().increment()
        let outcome = second.target.produce(second.registry.snapshot(), final: false)
        #expect(outcome.chunks.allSatisfy { $0.timestamp > sent })
        #expect(second.gauge("clock_step_backs_total") == 1)
    }

    @Test func aDropWhileTheReceiverAnswersIsAnErrorWithTheNumbers() {
        let capture = LogCapture()
        let harness = PipelineHarness(logger: capture.logger()) { $0.queue.maxMemoryBytes = 4096 }
        let family = harness.registry.counterFamily(name: "c_total", help: "c", labelNames: ["k"])
        for index in 0..<600 { family.series("\(index)").increment() }
        harness.target.produce(harness.registry.snapshot(), final: false)
        let errors = capture.all.filter { $0.hasPrefix("error") }
        #expect(errors.contains { $0.contains("raise max_memory_bytes") && $0.contains("max_memory_bytes=4096") })
        // 600 series and the registry's rejection counters, one per reason.
        let samples = 600 + RejectionReason.allCases.count
        #expect(
            errors.contains { $0.contains("larger than the memory queue's bound") && $0.contains("samples=\(samples)") }
        )
        let dropped = harness.metrics.snapshot().family(named: "conveyor_metrics_remote_write_samples_dropped_total")?
            .series.compactMap(\.value.scalar).reduce(0, +)
        #expect((dropped ?? 0) > 0)
    }

    @Test func theDefaultMemoryBoundHoldsTenMinutesOfA13400SeriesRouter() {
        let queue = RemoteWriteQueue()
        let series = (0..<13_435).map { RemoteSeries(labels: [Label(name: "__name__", value: "s\($0)")]) }
        let values = [Double](repeating: 1, count: series.count)
        var dropped = 0
        for second in 0..<600 {
            dropped += queue.append([SampleChunk(series: series, values: values, timestamp: Int64(second) * 1000)])
        }
        #expect(dropped == 0)
        #expect(queue.count == 600 * 13_435)
        #expect(queue.bytes <= RemoteWriteTargetConfiguration.QueueSettings.defaultMaxMemoryBytes)
    }

    @Test func creatingAWriterTouchesNoFile() throws {
        let base = TemporaryDirectory()
        var target = RemoteWriteTargetConfiguration(url: "http://127.0.0.1:1/api/v1/write")
        target.queue.storagePath = base.path + "/queue"
        target.basicAuth = .init(username: "u", passwordFile: base.path + "/missing-password")
        _ = try RemoteWriter(configuration: RemoteWriteConfiguration(targets: [target]), registry: MetricsRegistry())
        #expect(
            !FileManager.default.fileExists(atPath: base.path + "/queue"), "the disk queue opens at run, on its thread")
    }
}
