import ConveyorMetrics

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
            + "receiver down at shutdown \(receiverDownAtShutdown)"
    }
}
