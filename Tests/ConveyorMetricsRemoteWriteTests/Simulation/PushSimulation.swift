import ConveyorMetrics
import Logging

@testable import ConveyorMetricsRemoteWrite

/// A deterministic run of one target's push pipeline — sampler, producer, memory and disk
/// queues, sender machine — on one thread, against a scripted receiver, a simulated clock
/// and a simulated file system, with the ledger invariants checked after every step.
///
/// The same seed and steps give the same run: everything that varies comes from them.
final class PushSimulation {
    /// A violated invariant: the step it was found after and what was wrong.
    struct Failure: Error, CustomStringConvertible {
        let step: Int
        let message: String
        var description: String { "after step \(step): \(message)" }
    }

    /// One process: a fresh target (and self-metrics) over the same file system.
    final class Lifetime {
        let metricsRegistry: MetricsRegistry
        let target: RemoteWriteTarget
        let machine: SenderMachine
        /// Samples recovered from disk at start plus every sample produced since.
        var produced = 0
        var previousLive: Set<String>?
        /// The disk refused writes at some point in this lifetime.
        var wasDegraded = false
        var vanished: [(key: String, timestamp: Int64)] = []
        /// The receiver's count of samples in 2xx-answered requests when this lifetime began.
        var acceptedAtStart = 0

        init(metricsRegistry: MetricsRegistry, target: RemoteWriteTarget, machine: SenderMachine) {
            self.metricsRegistry = metricsRegistry
            self.target = target
            self.machine = machine
        }
    }

    let seed: UInt64
    let configuration: SimulationConfiguration
    let clock = SimulatedClock()
    let fileSystem: SimulatedFileSystem
    let churn = ChurnedRegistry()
    let receiver: SimulatedReceiver
    static let directory = "/sim/queue"
    static let external = [Label(name: "instance", value: "sim")]
    var lifetime: Lifetime?
    var stepIndex = 0

    // The ledger's independent view.
    /// Every sample produced, by series key and timestamp (value bits).
    var produced: [String: [Int64: UInt64]] = [:]
    /// For each snapshot timestamp, the series the snapshot held.
    var liveAt: [Int64: Set<String>] = [:]
    var newestProduced: Int64 = 0
    var checkedStored = 0
    var checkedRefused = 0
    /// Which lifetime produced each (series, timestamp): a restart may resend records whose
    /// acknowledgement was lost, which the receiver refuses if it had refused or outgrown
    /// them; what the current lifetime produced must never be refused.
    var producedIn: [String: [Int64: Int]] = [:]
    var lifetimes = 0
    /// Pending on disk when the disk was last open (a lifetime that could not open it leaves
    /// its records for the next).
    var carriedPending = 0
    /// Whether some samples were produced without the disk recording their timestamps (a
    /// memory target, a degraded or unusable disk, unsynced data lost to power): a restart
    /// then cannot know the newest timestamp sent, and with the clock stepped back the
    /// receiver refuses the first samples — documented, so excused below `unflooredNewest`.
    var floorIncomplete = false
    /// The newest timestamp produced before the current lifetime, when the current lifetime
    /// started below it; refusals up to it are the documented limitation above.
    var unflooredNewest: Int64 = Int64.min
    var pendingPowerLoss = false
    /// Times a target fell back from 2.0 to 1.0 in lifetimes that ended.
    private var endedFallbacks = 0
    /// Times a target fell back from 2.0 to 1.0, over every lifetime.
    var fallbacks: Int { endedFallbacks + Int(lifetime?.target.context.metrics.protocolFallbacks.value ?? 0) }
    /// Prints every step and what it did (`SIMULATION_TRACE=1`).
    var trace = false
    /// Requests the sender started and the receiver has not answered yet; which one it
    /// answers next is drawn from `answerOrder`, so shards finish in any order.
    var inFlight: [(id: Int, body: [UInt8], format: RequestFormat, timeout: Duration)] = []
    var answerOrder: SimulationRandom
    /// The most requests in flight at once, and the most shards, over the run.
    var mostInFlight = 0
    var mostShards = 0

    func log(_ text: @autoclosure () -> String) {
        if trace { print("[sim \(stepIndex)] \(text())") }
    }

    /// A run of `seed`; without `drawProtocols` the target sends 1.0 to a receiver that
    /// never changes (how every seed ran before protocol negotiation).
    init(seed: UInt64, drawProtocols: Bool = true, drawShards: Bool = true) {
        self.seed = seed
        var random = SimulationRandom(seed: seed)
        var configuration = SimulationConfiguration.random(&random)
        if drawProtocols {
            var protocols = SimulationRandom(seed: seed ^ 0x5052_4F54_4F43_4F4C)
            configuration.drawProtocols(&protocols)
        }
        if drawShards {
            var shards = SimulationRandom(seed: seed ^ 0x5348_4152_4453)
            configuration.drawShards(&shards)
        }
        answerOrder = SimulationRandom(seed: seed ^ 0x414E_5357_4552)
        self.configuration = configuration
        fileSystem = SimulatedFileSystem(seed: seed ^ 0x5EED)
        receiver = SimulatedReceiver(clock: clock)
        receiver.protocols = configuration.receiverProtocols
    }

    /// The steps of a run of this seed: the same as before protocol negotiation, with the
    /// receiver's protocol changes (for a target that may send 2.0) inserted among them.
    func randomSteps() -> [SimulationStep] {
        var random = SimulationRandom(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ 1)
        let count = random.int(in: 80...320)
        var steps = (0..<count).map { _ in
            SimulationStep.random(&random, slots: ChurnedRegistry.slots, disk: configuration.disk)
        }
        guard configuration.protobufMessage != .v1 else { return steps }
        var protocols = SimulationRandom(seed: seed ^ 0x7377_6974_6368)
        for _ in 0..<protocols.int(in: 0...6) {
            let change = SimulationConfiguration.receiverProtocols(for: configuration.protobufMessage, &protocols)
            steps.insert(.receiverProtocols(change), at: protocols.int(in: 0...steps.count))
        }
        return steps
    }

    /// Runs `steps`, then a graceful shutdown against a healthy receiver and disk; returns the
    /// first invariant violated, if any.
    func run(_ steps: [SimulationStep]) -> Failure? {
        do {
            try start(afterCrash: false)
            for step in steps {
                stepIndex += 1
                log("\(step)  wall \(clock.wallMilliseconds())")
                if trace, let disk = lifetime?.target.context.disk {
                    let segments = disk.state.withLock {
                        $0.segments.map { "\($0.sequence):\($0.next)/\($0.records.count)\($0.sealed ? "s" : "")" }
                    }
                    log("  disk pending \(disk.pendingSamples) bytes \(disk.diskBytes) segments \(segments)")
                }
                try apply(step)
                if fileSystem.crashed { try restart(powerLoss: pendingPowerLoss) }
                try check()
            }
            stepIndex += 1
            try shutdown()
            return nil
        } catch let failure as Failure {
            return failure
        } catch {
            return Failure(step: stepIndex, message: "\(error)")
        }
    }

    // MARK: - Lifetimes

    func start(afterCrash: Bool) throws {
        if let ended = lifetime { endedFallbacks += Int(ended.target.context.metrics.protocolFallbacks.value) }
        var target = RemoteWriteTargetConfiguration(url: "http://receiver.sim/api/v1/write")
        target.name = "sim"
        target.remoteTimeout = .seconds(10)
        target.queue.maxSamplesPerSend = configuration.maxSamplesPerSend
        target.queue.maxMemoryBytes = configuration.maxMemoryBytes
        target.queue.capacity = configuration.capacity
        target.queue.minBackoff = .milliseconds(30)
        target.queue.maxBackoff = .seconds(5)
        target.queue.sampleAgeLimit = configuration.sampleAgeLimit
        target.protobufMessage = configuration.protobufMessage
        target.protocolProbeInterval = configuration.probeInterval
        target.queue.minShards = configuration.minShards
        target.queue.maxShards = configuration.maxShards
        target.queue.batchSendDeadline = configuration.batchSendDeadline
        if configuration.disk {
            target.queue.storagePath = Self.directory
            target.queue.maxDiskBytes = configuration.maxDiskBytes
            target.queue.fsync = configuration.everyWrite ? .everyWrite : .interval(.seconds(1))
        }
        let metricsRegistry = MetricsRegistry()
        let receiver = receiver
        let made = RemoteWriteTarget(
            configuration: target, externalLabels: ["instance": "sim"], registry: metricsRegistry,
            logger: Logger(label: "simulation", factory: { _ in SwiftLogNoOpLogHandler() }), clock: clock,
            fileSystem: fileSystem, makeTransport: { _ in receiver })
        if case .failure(let error) = made.setUp() { throw Failure(step: stepIndex, message: "set-up: \(error)") }
        let machine = SenderMachine(target: made.context, memory: made.context.memory)
        if let disk = made.context.disk { machine.attach(disk: disk) }
        // Requests of a lifetime that ended are never answered (a crash cut them off).
        inFlight = []
        let next = Lifetime(metricsRegistry: metricsRegistry, target: made, machine: machine)
        next.acceptedAtStart = receiver.acceptedSamples
        lifetimes += 1
        next.produced = made.context.disk.map { $0.recovery.samples + $0.recovery.droppedForLimit } ?? 0
        lifetime = next
    }

    func restart(powerLoss: Bool) throws {
        guard let dead = lifetime else { return }
        // A batch in flight whose segment went for the disk limit is not on disk any more. A
        // lifetime without its acknowledged position counted delivered records as pending;
        // one without the disk left what was there for the next.
        var pendingOnDisk = dead.target.context.disk.map { $0.pendingSamples - $0.orphanedSamples } ?? carriedPending
        if let recovery = dead.target.context.disk?.recovery,
            recovery.acknowledgementLost || recovery.acknowledgementUnwritable != nil
        {
            pendingOnDisk = 0
        }
        let durable = !powerLoss || configuration.everyWrite
        let deadProducer = dead.target.producer.withLock { ($0.disk == nil, $0.degraded != nil, $0.floorUnknown) }
        if !configuration.disk || !durable || deadProducer.0 || deadProducer.1 || deadProducer.2
            || dead.target.context.disk?.recovery.acknowledgementUnwritable != nil || dead.wasDegraded
        {
            floorIncomplete = true
        }
        let newestBefore = newestProduced
        fileSystem.restartAfterCrash(powerLoss: powerLoss)
        pendingPowerLoss = false
        try start(afterCrash: true)
        if lifetime?.target.producer.withLock({ $0.floorUnknown }) == true { floorIncomplete = true }
        let floor = lifetime?.target.producer.withLock { $0.sampler.newestTimestamp } ?? 0
        unflooredNewest = floorIncomplete && floor < newestBefore ? newestBefore : Int64.min
        let floorUnknown = lifetime?.target.producer.withLock { $0.floorUnknown } ?? false
        if !configuration.disk || !durable || floorUnknown {
            // Without a durable record of the newest timestamp sent, a restart with the clock
            // behind would stamp below it (documented): the simulation keeps the clock ahead.
            clock.raiseWall(to: newestProduced + 1)
        }
        log("  recovery \(lifetime.map { "\($0.target.context.disk?.recovery as Any)" } ?? "")")
        log(
            "  restarted (power loss \(powerLoss)); recovered \(lifetime?.target.context.disk?.recovery.samples ?? -1), floor \(lifetime?.target.producer.withLock { $0.sampler.newestTimestamp } ?? -1)"
        )
        carriedPending = durable ? pendingOnDisk : 0
        guard let disk = lifetime?.target.context.disk, durable else { return }
        let recovered = disk.recovery.samples + disk.recovery.droppedForLimit
        if recovered < pendingOnDisk {
            throw Failure(
                step: stepIndex,
                message: "restart recovered \(recovered) samples, \(pendingOnDisk) were pending on disk")
        }
    }

    // MARK: - Steps

    func apply(_ step: SimulationStep) throws {
        guard let lifetime else { return }
        switch step {
        case .bump(let slot, let by): churn.bump(slot, by: by)
        case .remove(let slot): churn.remove(slot)
        case .recreate(let slot): churn.recreate(slot)
        case .flush: flush(lifetime, final: false)
        case .metadata: lifetime.target.setMetadata(RemoteWriter.metadata(of: churn.registry.snapshot()))
        case .receiverProtocols(let protocols): receiver.protocols = protocols
        case .send(let answer):
            receiver.answer = answer
            startRequests(lifetime)
            answerOne(lifetime)
        case .advance(let milliseconds): clock.advance(milliseconds: milliseconds)
        case .stepWallBack(let milliseconds): clock.stepWallBack(milliseconds: milliseconds)
        case .sync: lifetime.target.syncDisk()
        case .diskCapacity(let bytes):
            fileSystem.capacityBytes = bytes.map { fileSystem.usedBytes + $0 } ?? .max
        case .diskFaults(let write, let read, let sync, let open):
            fileSystem.faults = .init(writeError: write, readError: read, syncError: sync, openError: open)
        case .readOnly(let on): fileSystem.readOnly = on
        case .crash(let calls, let powerLoss):
            fileSystem.scheduleCrash(afterCalls: calls)
            pendingPowerLoss = powerLoss
        case .kill:
            fileSystem.scheduleCrash(afterCalls: 1)
            pendingPowerLoss = false
            try restart(powerLoss: false)
        }
    }

    func flush(_ lifetime: Lifetime, final: Bool) {
        let snapshot = churn.registry.snapshot()
        let outcome = lifetime.target.produce(snapshot, final: final)
        lifetime.produced += outcome.produced
        if outcome.degradedBy != nil { lifetime.wasDegraded = true }
        log(
            "  produced \(outcome.produced) @\(outcome.chunks.map(\.timestamp)) degraded \(outcome.degradedBy ?? "-") dropped \(outcome.dropped)"
        )
        let live = ChurnedRegistry.liveKeys(snapshot, external: Self.external)
        for (index, chunk) in outcome.chunks.enumerated() {
            let isFinalStale = final && index == outcome.chunks.count - 1
            liveAt[chunk.timestamp] = isFinalStale ? [] : live
            newestProduced = max(newestProduced, chunk.timestamp)
            for sample in chunk.samples {
                let key = SimulatedReceiver.key(sample.series.labels)
                produced[key, default: [:]][chunk.timestamp] = sample.sample.value.bitPattern
                producedIn[key, default: [:]][chunk.timestamp] = lifetimes
            }
        }
        if let previous = lifetime.previousLive, let timestamp = outcome.chunks.first?.timestamp {
            for key in previous.subtracting(live) { lifetime.vanished.append((key, timestamp)) }
        }
        if final, let staleAt = outcome.chunks.last?.timestamp {
            // Shutdown: every series live now ends with one stale marker.
            for key in live { lifetime.vanished.append((key, staleAt)) }
        }
        lifetime.previousLive = live
    }

    /// Graceful shutdown. With `configuration.receiverDownAtShutdown`, the receiver answers
    /// 503 until a 5 s deadline passes: memory is counted as dropped, the disk keeps its
    /// samples, and a restart against a healthy receiver then delivers them.
    func shutdown() throws {
        fileSystem.faults = .init()
        fileSystem.readOnly = false
        fileSystem.capacityBytes = .max
        if fileSystem.crashed { try restart(powerLoss: pendingPowerLoss) }
        fileSystem.cancelScheduledCrash()
        if configuration.receiverDownAtShutdown {
            receiver.answer = .status(503, retryAfter: nil)
            try drain(deadline: 5_000_000_000)
            guard let lifetime else { return }
            let context = lifetime.target.context
            if context.memory.count + context.heldMemory.load(ordering: .relaxed) != 0 {
                throw fail("samples left in memory after the shutdown deadline")
            }
            guard configuration.disk else { return }
            stepIndex += 1
            try restart(powerLoss: false)
        }
        receiver.answer = .accept
        try drain(deadline: 600_000_000_000)
        guard let lifetime else { return }
        let pending = lifetime.target.context.pendingSamples
        if pending != 0 {
            let context = lifetime.target.context
            let segments = context.disk?.state.withLock {
                $0.segments.map { "\($0.sequence):\($0.next)+\($0.inFlight)/\($0.records.count)" }
            }
            throw fail(
                "\(pending) samples pending after shutdown: memory \(context.memory.count), held \(context.heldMemory.load(ordering: .relaxed)), disk \(context.disk?.pendingSamples ?? 0) (orphaned \(context.disk?.orphanedSamples ?? 0), segments \(segments ?? []))"
            )
        }
        try checkStaleMarkersDelivered(lifetime)
    }

    /// Final snapshot and stale markers, then sender steps until it stops.
    func drain(deadline: Int64) throws {
        guard let lifetime else { return }
        let context = lifetime.target.context
        context.shutdown.deadline.store(clock.monotonicNanoseconds() + deadline, ordering: .releasing)
        flush(lifetime, final: true)
        context.shutdown.finalQueued.store(true, ordering: .releasing)
        try check()
        defer { lifetime.target.sweepAfterShutdown() }
        var steps = 0
        while !lifetime.machine.isFinished {
            steps += 1
            guard steps < 20_000 else { throw Failure(step: stepIndex, message: "the sender never finished") }
            switch lifetime.machine.step() {
            case .post(let id, let body, let format, let timeout):
                started(lifetime, id: id, body: body, format: format, timeout: timeout)
            case .wait(let until):
                if !inFlight.isEmpty {
                    answerOne(lifetime)
                } else {
                    guard let until else { throw Failure(step: stepIndex, message: "sender idle with work queued") }
                    clock.advance(toMonotonic: until)
                }
            case .finished: break
            }
            try check()
        }
        context.disk?.close()
        // Every reason the registry holds is one the per-step ledger reads.
        let family = lifetime.metricsRegistry.snapshot().family(
            named: "conveyor_metrics_remote_write_samples_dropped_total")
        let all = Int(family?.series.reduce(0) { $0 + ($1.value.scalar ?? 0) } ?? -1)
        if all != droppedTotal(lifetime) { throw fail("samples_dropped_total \(all) != \(droppedTotal(lifetime))") }
    }
}
