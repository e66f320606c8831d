import ConveyorMetrics
import Dispatch
import Logging
import Synchronization

/// The target's threads: the sender (set-up, then ``SenderMachine`` against the transport)
/// and, with a disk queue, the persister (snapshots to disk, fsync on its schedule).
extension RemoteWriteTarget {
    /// Starts the sender thread, which sets up the disk queue and the transport; returns
    /// once set-up is done, throwing what must stop start-up (a disk queue directory the
    /// process may not use, unusable TLS or credential settings). A disk that is full,
    /// read-only or failing does not stop it: the target then queues in memory.
    func start(snapshot: @escaping @Sendable () -> FlushInput) async throws(SetupError) {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<SetupError?, Never>) in
            runningThreads.store(1, ordering: .relaxed)
            let started = DedicatedThread.start { [self] in
                runSender(snapshot, reportingSetUpTo: continuation)
                threadFinished()
            }
            if !started {
                runningThreads.store(0, ordering: .relaxed)
                continuation.resume(returning: SetupError(description: "could not start the sender thread"))
            }
        }
        if let result { throw result }
    }

    /// The sender thread's work: set-up (reported to `continuation`), the persister thread's
    /// start, then ``senderLoop(_:)``. The transport is released on return, so its
    /// transfers are gone before the thread counts as finished.
    private func runSender(
        _ snapshot: @escaping @Sendable () -> FlushInput,
        reportingSetUpTo continuation: CheckedContinuation<SetupError?, Never>
    ) {
        let transport: any RemoteWriteTransport
        switch setUp() {
        case .failure(let error):
            continuation.resume(returning: error)
            return
        case .success(let made):
            transport = made
        }
        if hasPersister {
            runningThreads.add(1, ordering: .relaxed)
            if !DedicatedThread.start({ [self] in
                persisterLoop(snapshot)
                threadFinished()
            }) {
                runningThreads.subtract(1, ordering: .relaxed)
                continuation.resume(returning: SetupError(description: "could not start the persister thread"))
                return
            }
        }
        continuation.resume(returning: nil)
        senderLoop(transport)
    }

    /// Opens the disk queue and the transport (sender thread).
    func setUp() -> Result<any RemoteWriteTransport, SetupError> {
        for (setting, path) in [
            ("basic_auth.password_file", configuration.basicAuth?.passwordFile),
            ("authorization.credentials_file", configuration.authorization?.credentialsFile),
        ] {
            guard let path, CredentialFile.isWorldReadable(path) else { continue }
            context.logger.warning(
                "credentials file is readable by every user of this machine; chmod o-r it",
                metadata: ["setting": "\(setting)", "path": "\(path)"])
        }
        if let directory = configuration.storageDirectory {
            let queue = configuration.queue
            let settings = DiskQueue.Settings(directory: directory, maxBytes: queue.maxDiskBytes, sync: queue.fsync)
            do throws(DiskQueueError) {
                // A read or write that fails once (EIO, EINTR) gets two more tries.
                var attempt = 0
                let disk: DiskQueue
                while true {
                    do throws(DiskQueueError) {
                        disk = try DiskQueue(settings: settings, fileSystem: fileSystem)
                        break
                    } catch  where error.kind == .io && attempt < 2 {
                        attempt += 1
                    }
                }
                context.attach(disk: disk)
                producer.withLock { $0.attach(disk: disk) }
                reportRecovery(disk.recovery)
            } catch  where error.kind == .configuration {
                return .failure(SetupError(description: "queue_config.storage_path: \(error.description)"))
            } catch {
                metrics.diskErrors?.increment()
                metrics.diskDegraded?.set(1)
                let newest = DiskQueue.newestTimestamp(in: directory, fileSystem)
                producer.withLock { $0.attach(disk: nil, unavailable: error.description, newestTimestamp: newest) }
                context.logger.error(
                    "disk queue unusable (full, read-only or failing disk?); queueing in memory until restart",
                    metadata: [
                        "error": "\(error.description)",
                        "previous_newest_timestamp": "\(newest.map(String.init) ?? "unreadable")",
                    ])
            }
        }
        do {
            return .success(try makeTransport(configuration))
        } catch let error as CustomStringConvertible {
            return .failure(SetupError(description: error.description))
        } catch {
            return .failure(SetupError(description: "transport set-up failed"))
        }
    }

    func reportRecovery(_ recovery: DiskQueue.Recovery) {
        let logger = context.logger
        metrics.diskTruncatedBytes?.increment(by: UInt64(recovery.truncatedBytes))
        if recovery.droppedForLimit > 0 {
            metrics.dropped(recovery.droppedForLimit, reason: "disk_full")
            logger.warning(
                "disk queue: over max_disk_bytes at start-up; dropped the oldest samples",
                metadata: ["dropped": "\(recovery.droppedForLimit)"])
        }
        if recovery.truncatedBytes > 0 {
            logger.warning(
                "disk queue: cut off a torn or corrupt tail (power loss?)",
                metadata: [
                    "bytes": "\(recovery.truncatedBytes)", "files": "\(recovery.damagedFiles.joined(separator: ","))",
                ])
        }
        if recovery.acknowledgementLost {
            logger.warning("disk queue: acknowledged position unreadable; resending everything on disk")
        }
        if let error = recovery.acknowledgementUnwritable {
            metrics.diskErrors?.increment()
            logger.warning(
                "disk queue: acknowledged position cannot be stored; a restart resends delivered samples",
                metadata: ["error": "\(error)"])
        }
        if recovery.records > 0 {
            logger.info(
                "disk queue: replaying samples from before the restart",
                metadata: ["samples": "\(recovery.samples)", "records": "\(recovery.records)"])
        }
        context.updatePending()
    }

    /// Runs the sender machine until it finishes: requests it starts go to the transport,
    /// which runs them side by side on this thread; while none is in flight the thread
    /// sleeps until new work, a retry time or shutdown.
    func senderLoop(_ transport: any RemoteWriteTransport) {
        let machine = SenderMachine(target: context, memory: context.memory)
        if let disk = context.disk { machine.attach(disk: disk) }
        while true {
            switch machine.step() {
            case .post(let id, let body, let format, let timeout):
                transport.start(id: id, body: body, format: format, timeout: timeout)
            case .wait(let until):
                var timeout: Int64 = 1_000_000_000
                if let until { timeout = min(timeout, max(0, until - context.clock.monotonicNanoseconds())) }
                if machine.inFlight > 0 {
                    for (id, outcome) in transport.poll(timeout: .nanoseconds(timeout)) {
                        machine.handle(outcome, id: id)
                    }
                    for failure in transport.takeCredentialFailures() {
                        metrics.credentialReadFailures.increment()
                        context.logger.warning("\(failure)")
                    }
                } else {
                    context.memory.waitForWork(timeout: .nanoseconds(timeout))
                }
            case .finished:
                context.updatePending()
                return
            }
        }
    }

    /// Takes and stores snapshots when asked, fsyncs on the `interval` policy's schedule, and
    /// stores the final snapshot and stale markers at shutdown.
    func persisterLoop(_ snapshot: @Sendable () -> FlushInput) {
        var interval: Int64 = 1_000_000_000
        if case .interval(let duration) = configuration.queue.fsync { interval = max(1_000_000, duration.nanoseconds) }
        var lastSync = context.clock.monotonicNanoseconds()
        while true {
            if finalRequested.load(ordering: .acquiring) {
                produce(snapshot(), final: true)
                break
            }
            if flushRequests.exchange(0, ordering: .relaxed) > 0 {
                produce(snapshot(), final: false)
            }
            let now = context.clock.monotonicNanoseconds()
            if now - lastSync >= interval {
                lastSync = now
                syncDisk()
            }
            _ = persisterSignal.wait(timeout: .now() + .nanoseconds(Int(interval)))
        }
        syncDisk()
        context.shutdown.finalQueued.store(true, ordering: .releasing)
        context.wakeSender()
    }

    func syncDisk() {
        do throws(DiskQueueError) {
            try context.disk?.syncIfChanged()
        } catch {
            metrics.diskErrors?.increment()
            context.logLimited("disk queue fsync failed", ["error": "\(error.description)"])
        }
    }

    func threadFinished() {
        guard runningThreads.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 else { return }
        context.updatePending()
        context.disk?.close()
        let waiters = finished.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.done = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }
}
