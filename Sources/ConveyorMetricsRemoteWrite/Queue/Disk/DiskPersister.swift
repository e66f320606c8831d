import ConveyorMetrics

/// Moves a disk-backed target's snapshots from its in-memory hand-off queue into its disk
/// queue, on its own thread (writes and fsync never run on the Swift concurrency pool).
/// Each snapshot slice becomes one record: a compressed `WriteRequest` whose samples all
/// carry one timestamp.
final class DiskPersister {
    private let handoff: RemoteWriteQueue
    private let disk: DiskQueue
    private let maxSamplesPerRecord: Int
    private let writer = WriteRequestWriter()
    private var compressed: [UInt8] = []
    private var lastSync = MonotonicClock.nanoseconds()

    init(handoff: RemoteWriteQueue, disk: DiskQueue, maxSamplesPerRecord: Int) {
        self.handoff = handoff
        self.disk = disk
        self.maxSamplesPerRecord = maxSamplesPerRecord
    }

    /// Runs until `isStopping()` and the hand-off queue is empty; syncs on the way out.
    /// Samples that could not be stored are reported to `dropped` with the reason and error.
    func run(isStopping: () -> Bool, dropped: (_ reason: String, _ samples: Int, _ error: String?) -> Void) {
        var interval: Int64 = 1_000_000_000
        if case .interval(let duration) = disk.settings.sync { interval = duration.nanoseconds }
        while true {
            let batch = handoff.take(upTo: maxSamplesPerRecord)
            if batch.isEmpty {
                if isStopping() { break }
                syncIfDue(interval, dropped)
                handoff.waitForWork(timeout: .nanoseconds(interval))
                continue
            }
            for slice in batch {
                writer.write([slice])
                Snappy.compress(writer.body, into: &compressed)
                do throws(DiskQueueError) {
                    let overflow = try disk.append(
                        compressedRequest: compressed, samples: slice.count, timestamp: slice.timestamp)
                    if overflow > 0 { dropped("disk_full", overflow, nil) }
                } catch {
                    dropped("disk_error", slice.count, error.description)
                }
            }
            syncIfDue(interval, dropped)
        }
        lastSync = 0
        syncIfDue(0, dropped)
    }

    private func syncIfDue(_ interval: Int64, _ dropped: (String, Int, String?) -> Void) {
        let now = MonotonicClock.nanoseconds()
        guard now - lastSync >= interval else { return }
        lastSync = now
        do throws(DiskQueueError) {
            try disk.syncIfChanged()
        } catch {
            dropped("disk_error", 0, error.description)
        }
    }
}
