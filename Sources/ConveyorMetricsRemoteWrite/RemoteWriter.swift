import ConveyorMetrics
import Logging
import ServiceLifecycle
import Synchronization

/// Pushes a registry to remote-write 1.0 or 2.0 endpoints (protobuf + snappy over HTTP).
///
/// Every `push_interval` each target takes a snapshot and queues it; its own thread sends
/// the queue oldest first with retry and backoff. Series that disappear get a stale marker;
/// graceful shutdown sends a final snapshot and stale markers for every pushed series
/// within `shutdownTimeout`. Several targets never delay one another.
///
/// ```swift
/// let writer = try RemoteWriter(
///     configuration: RemoteWriteConfiguration(
///         targets: [RemoteWriteTargetConfiguration(url: "http://127.0.0.1:9090/api/v1/write")],
///         externalLabels: ["instance": "router-7"]))
/// let group = ServiceGroup(services: [writer], gracefulShutdownSignals: [.sigterm], logger: logger)
/// try await group.run()
/// ```
public final class RemoteWriter: Service, Sendable {
    /// The configuration this writer was made with.
    public let configuration: RemoteWriteConfiguration
    private let registry: MetricsRegistry
    private let targets: [RemoteWriteTarget]
    private let logger: Logger
    private let started = Atomic<Bool>(false)

    /// Why a writer could not be created.
    public struct SetupError: Error, CustomStringConvertible {
        /// What is wrong (names the setting, never a secret's value).
        public let description: String
    }

    /// Validates the configuration. Does no I/O: disk queues and credential files are opened
    /// by ``run()`` on each target's own thread.
    public init(
        configuration: RemoteWriteConfiguration, registry: MetricsRegistry = .default,
        logger: Logger = Logger(label: "conveyor-metrics.remote-write")
    ) throws {
        try configuration.validate()
        self.configuration = configuration
        self.registry = registry
        self.logger = logger
        self.targets = configuration.targets.map {
            RemoteWriteTarget(
                configuration: $0, externalLabels: configuration.externalLabels, registry: registry, logger: logger)
        }
    }

    /// Each target's progress.
    public var statuses: [RemoteWriteTargetStatus] {
        targets.map { $0.status.status(name: $0.name, pending: $0.context.pendingSamples) }
    }

    /// Sets up each target on its own thread (disk queue recovery, credential files), then
    /// pushes until graceful shutdown or cancellation, then delivers a final snapshot and
    /// stale markers (within `shutdownTimeout`) and returns. Throws ``SetupError`` when a
    /// target cannot start (a disk queue directory it may not use, unreadable credentials);
    /// a full or read-only disk does not stop it (the target queues in memory, logged).
    public func run() async throws {
        guard !started.exchange(true, ordering: .relaxed) else { return }
        let registry = registry
        var running: [RemoteWriteTarget] = []
        for (index, target) in targets.enumerated() {
            do {
                try await target.start { .registry(registry) }
                running.append(target)
            } catch {
                let now = MonotonicClock.nanoseconds()
                for started in running { await started.finish(with: { .registry(registry) }, deadline: now) }
                throw SetupError(description: "remote_write[\(index)].\(error.description)")
            }
        }
        let metadataInterval = configuration.metadataInterval
        let sendMetadata = configuration.sendMetadata
        await withTaskGroup(of: Void.self) { group in
            for target in targets {
                group.addTask {
                    await Self.repeatUntilShutdown(every: target.configuration.pushInterval) {
                        target.flush { .registry(registry) }
                    }
                }
                guard sendMetadata else { continue }
                group.addTask {
                    await Self.repeatUntilShutdown(every: metadataInterval) {
                        target.setMetadata(Self.metadata(of: registry.snapshot()))
                    }
                }
            }
        }
        let deadline = MonotonicClock.nanoseconds().saturatingAdding(configuration.shutdownTimeout.nanoseconds)
        await withTaskGroup(of: Void.self) { group in
            for target in targets {
                group.addTask { await target.finish(with: { .registry(registry) }, deadline: deadline) }
            }
        }
        logger.info("remote write stopped", metadata: ["targets": "\(targets.count)"])
    }

    /// Runs `body` every `interval` on a fixed schedule (a run's own duration does not push
    /// the next one later; after a run longer than the interval the schedule restarts from
    /// its end instead of catching up).
    private static func repeatUntilShutdown(every interval: Duration, _ body: () -> Void) async {
        let clock = ContinuousClock()
        var next = clock.now
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            body()
            next = next.advanced(by: interval)
            let now = clock.now
            if next <= now { next = now.advanced(by: interval) }
            let until = next
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(until: until, clock: clock) }
            } catch {
                return
            }
        }
    }

    static func metadata(of snapshot: MetricsSnapshot) -> [RemoteMetadata] {
        snapshot.families.map { RemoteMetadata(familyName: $0.name, type: $0.type, help: $0.help, unit: $0.unit) }
    }
}
