import ConveyorMetrics

@testable import ConveyorMetricsRemoteWrite

/// The settings of one simulated target, drawn from the seed.
struct SimulationConfiguration: CustomStringConvertible {
    var disk: Bool
    var maxSamplesPerSend: Int
    var maxMemoryBytes: Int
    var capacity: Int?
    var maxDiskBytes: Int64
    var everyWrite: Bool
    var sampleAgeLimit: Duration?
    var receiverDownAtShutdown: Bool
    /// The target's protocol and the receiver's at the start (drawn from a stream of their
    /// own, so seeds found before protocol negotiation replay unchanged with 1.0).
    var protobufMessage = RemoteWriteTargetConfiguration.ProtobufMessage.v1
    var probeInterval: Duration = .seconds(3600)
    var receiverProtocols = SimulatedReceiver.Protocols.v1AndV2
    /// Shards and the batch deadline (a stream of their own, like the protocols).
    var minShards = 1
    var maxShards = 1
    var batchSendDeadline: Duration = .zero

    /// Draws the shards: a third of the runs keep one request in flight (as before shards),
    /// the rest fix several or let the controller choose up to eight.
    mutating func drawShards(_ random: inout SimulationRandom) {
        let roll = random.int(in: 0...2)
        minShards = roll == 0 ? 1 : random.int(in: 1...4)
        maxShards = roll == 0 ? 1 : roll == 1 ? minShards : random.int(in: minShards...8)
        batchSendDeadline = random.chance(0.2) ? .milliseconds(Int64(random.int(in: 100...5_000))) : .zero
    }

    /// Draws the protocols: the target's (1.0, auto or 2.0), its probe interval and what the
    /// receiver speaks (an explicit 2.0 target only meets receivers that answer 2.0 honestly:
    /// against a 1.x receiver it loses data by design, as Prometheus' sender does).
    mutating func drawProtocols(_ random: inout SimulationRandom) {
        let roll = random.int(in: 0...99)
        protobufMessage = roll < 35 ? .v1 : roll < 80 ? .auto : .v2
        probeInterval = .seconds(Int64(random.int(in: 1...120)))
        receiverProtocols = Self.receiverProtocols(for: protobufMessage, &random)
    }

    static func receiverProtocols(
        for message: RemoteWriteTargetConfiguration.ProtobufMessage, _ random: inout SimulationRandom
    ) -> SimulatedReceiver.Protocols {
        if message == .v2 { return random.chance(0.8) ? .v1AndV2 : .refusingV2 }
        return [.v1AndV2, .v1Only, .refusingV2][random.int(in: 0...2)]
    }

    static func random(_ random: inout SimulationRandom) -> SimulationConfiguration {
        SimulationConfiguration(
            disk: random.chance(0.5), maxSamplesPerSend: random.int(in: 1...40),
            maxMemoryBytes: random.chance(0.3) ? random.int(in: 4096...20_000) : 128 << 20,
            capacity: random.chance(0.2) ? random.int(in: 1...200) : nil,
            maxDiskBytes: random.chance(0.3) ? Int64(random.int(in: 2048...65_536)) : 1 << 30,
            everyWrite: random.chance(0.5),
            sampleAgeLimit: random.chance(0.15) ? .seconds(Int64(random.int(in: 5...120))) : nil,
            receiverDownAtShutdown: random.chance(0.2))
    }

    var description: String {
        "disk \(disk), max_samples_per_send \(maxSamplesPerSend), max_memory_bytes \(maxMemoryBytes), "
            + "capacity \(capacity.map(String.init) ?? "none"), max_disk_bytes \(maxDiskBytes), "
            + "fsync \(everyWrite ? "every write" : "interval"), "
            + "sample_age_limit \(sampleAgeLimit.map { "\($0)" } ?? "none"), "
            + "receiver down at shutdown \(receiverDownAtShutdown), protobuf_message \(protobufMessage.rawValue), "
            + "probe interval \(probeInterval), receiver speaks \(receiverProtocols), "
            + "shards \(minShards)...\(maxShards), batch_send_deadline \(batchSendDeadline)"
    }
}
