import ConveyorMetrics

@testable import ConveyorMetricsRemoteWrite

/// The ledger invariants, checked after every step.
extension PushSimulation {

    func fail(_ message: String) -> Failure { Failure(step: stepIndex, message: message) }

    func check() throws {
        guard let lifetime else { return }
        let context = lifetime.target.context
        let metrics = context.metrics
        let sent = Int(metrics.samplesSent.value)
        let failed = Int(metrics.samplesFailed.value)
        let dropped = droppedTotal(lifetime)
        let pending = context.pendingSamples
        if lifetime.produced != sent + failed + dropped + pending {
            throw fail(
                "ledger: produced \(lifetime.produced) != sent \(sent) + failed \(failed) + dropped \(dropped) + pending \(pending)"
            )
        }
        // Counted as sent only what a receiver took: a 2.0 request a 1.x receiver answered 2xx
        // (storing nothing) must be sent again as 1.0, not counted.
        let accepted = receiver.acceptedSamples - lifetime.acceptedAtStart
        if sent > accepted {
            throw fail("sent \(sent) samples, but the receiver accepted only \(accepted) in this lifetime")
        }
        if Int(metrics.pending.value) != pending {
            throw fail("samples_pending gauge \(metrics.pending.value) != pending \(pending)")
        }
        let memory = context.memory
        if memory.bytes > memory.maxBytes || memory.count > memory.capacity {
            throw fail("memory queue holds \(memory.bytes) bytes / \(memory.count) samples over its bounds")
        }
        if let disk = context.disk {
            if let gauge = metrics.diskBytes?.value, Int64(gauge) != disk.diskBytes, !fileSystem.crashed {
                throw fail("disk_bytes gauge \(gauge) != \(disk.diskBytes)")
            }
            if disk.diskBytes > configuration.maxDiskBytes {
                throw fail("disk queue holds \(disk.diskBytes) bytes over max_disk_bytes")
            }
        }
        if !receiver.undecodable.isEmpty { throw fail("undecodable request: \(receiver.undecodable[0])") }
        try checkReceiver()
    }

    /// `samples_dropped_total` over every reason.
    func droppedTotal(_ lifetime: Lifetime) -> Int {
        let metrics = lifetime.target.context.metrics
        return RemoteWriteMetrics.dropReasons.reduce(0) { $0 + Int(metrics.droppedCount($1)) }
    }

    /// Each newly stored sample was produced with that value, and is a stale marker only for
    /// a series its snapshot lacked; nothing produced since the last restart was refused as
    /// out of order or as a second value for a timestamp.
    func checkReceiver() throws {
        let refused = receiver.refused
        while checkedRefused < refused.count {
            let item = refused[checkedRefused]
            checkedRefused += 1
            if producedIn[item.key]?[item.timestamp] == lifetimes && item.timestamp > unflooredNewest {
                throw fail("receiver refused \(item.key) @\(item.timestamp): \(item.reason)")
            }
        }
        let stored = receiver.stored
        while checkedStored < stored.count {
            let item = stored[checkedStored]
            checkedStored += 1
            let timestamp = item.sample.timestampMilliseconds
            let bits = item.sample.value.bitPattern
            guard let expected = produced[item.key]?[timestamp] else {
                throw fail("receiver got \(item.key) @\(timestamp), which was never produced")
            }
            if expected != bits {
                throw fail(
                    "receiver got \(item.key) @\(timestamp) = \(item.sample.value), produced \(Double(bitPattern: expected))"
                )
            }
            if item.sample.isStaleMarker, liveAt[timestamp]?.contains(item.key) != false {
                throw fail("stale marker for \(item.key) @\(timestamp), which the snapshot held")
            }
        }
    }

    /// After a clean run: every series that vanished got its stale marker, and every series
    /// live at shutdown got one at the end.
    func checkStaleMarkersDelivered(_ lifetime: Lifetime) throws {
        let metrics = lifetime.target.context.metrics
        // A refused or dropped request may have carried the marker (duplicates drop no marker).
        let dropped = droppedTotal(lifetime) - Int(metrics.droppedCount("duplicate_series"))
        guard metrics.samplesFailed.value == 0, dropped == 0 else { return }
        for (key, timestamp) in lifetime.vanished {
            guard let bits = receiver.values[key]?[timestamp], bits == RemoteSample.staleNaNBits else {
                throw fail("\(key) vanished @\(timestamp) but no stale marker arrived")
            }
        }
    }
}
