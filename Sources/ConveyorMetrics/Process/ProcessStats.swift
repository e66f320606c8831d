#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// What the kernel reports about this process, read from `/proc` (Linux). These are
/// in-memory kernel files: reading them does not touch a disk.
struct ProcessStats: Equatable, Sendable {
    /// User plus system CPU time, in seconds.
    var cpuSeconds: Double
    /// Resident set size, in bytes.
    var residentBytes: Double
    /// Virtual memory size, in bytes.
    var virtualBytes: Double
    /// Open file descriptors.
    var openFileDescriptors: Double
    /// The soft limit on open file descriptors.
    var maxFileDescriptors: Double
    /// When the process started, in seconds since the Unix epoch; nil when the boot time
    /// could not be read.
    var startTimeSeconds: Double?

    /// Reads the current figures; nil where `/proc` is missing or unreadable.
    static func current() -> ProcessStats? {
        guard let stat = SmallFile.contents("/proc/self/stat"), let parsed = parseStat(stat) else { return nil }
        let ticks = Double(max(sysconf(Int32(_SC_CLK_TCK)), 1))
        let pageSize = Double(max(sysconf(Int32(_SC_PAGESIZE)), 1))
        var limit = rlimit()
        #if canImport(Glibc)
            let resource = Int32(RLIMIT_NOFILE.rawValue)
        #else
            let resource = RLIMIT_NOFILE
        #endif
        let maxFDs = getrlimit(resource, &limit) == 0 ? Double(limit.rlim_cur) : 0
        return ProcessStats(
            cpuSeconds: Double(parsed.userTicks + parsed.systemTicks) / ticks,
            residentBytes: Double(parsed.residentPages) * pageSize,
            virtualBytes: Double(parsed.virtualBytes),
            openFileDescriptors: Double(DirectoryListing.names("/proc/self/fd")?.count ?? 0),
            maxFileDescriptors: maxFDs,
            startTimeSeconds: bootTime.map { Double($0) + Double(parsed.startTicks) / ticks })
    }

    /// `btime` of `/proc/stat`, read once: the boot time does not change. `/proc/stat` lists
    /// every CPU and interrupt before it, so it is read in full (up to 4 MiB).
    private static let bootTime: UInt64? = SmallFile.contents("/proc/stat", limit: 4 << 20).flatMap(parseBootTime)

    /// The fields of `/proc/<pid>/stat` these metrics need (proc(5): utime 14, stime 15,
    /// starttime 22, vsize 23, rss 24). The command name (field 2) may hold spaces and
    /// parentheses, so fields are counted from the last `)`.
    struct StatFields: Equatable {
        var userTicks: UInt64
        var systemTicks: UInt64
        var startTicks: UInt64
        var virtualBytes: UInt64
        var residentPages: UInt64
    }

    static func parseStat(_ text: [UInt8]) -> StatFields? {
        guard let close = text.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = text[(close + 1)...].split(separator: UInt8(ascii: " "), omittingEmptySubsequences: true)
        // fields[0] is field 3 (state): field n is fields[n - 3].
        func field(_ number: Int) -> UInt64? {
            let index = number - 3
            guard index < fields.count else { return nil }
            return UInt64(String(decoding: fields[index], as: UTF8.self).trimmingNewline())
        }
        guard let user = field(14), let system = field(15), let start = field(22), let virtual = field(23),
            let resident = field(24)
        else { return nil }
        return StatFields(
            userTicks: user, systemTicks: system, startTicks: start, virtualBytes: virtual, residentPages: resident)
    }

    /// `btime` of `/proc/stat`: the boot time in seconds since the Unix epoch.
    static func parseBootTime(_ text: [UInt8]) -> UInt64? {
        for line in text.split(separator: UInt8(ascii: "\n")) where line.starts(with: "btime ".utf8) {
            return UInt64(String(decoding: line.dropFirst(6), as: UTF8.self).trimmingNewline())
        }
        return nil
    }
}

extension String {
    fileprivate func trimmingNewline() -> String {
        var result = self
        while result.last == "\n" || result.last == " " { result.removeLast() }
        return result
    }
}
