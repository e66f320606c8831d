import Foundation
import Testing

@testable import ConveyorMetrics

@Suite("Process metrics")
struct ProcessMetricsTests {
    static let names = [
        "process_cpu_seconds_total", "process_resident_memory_bytes", "process_virtual_memory_bytes",
        "process_open_fds", "process_max_fds", "process_start_time_seconds",
    ]

    @Test func oneCallAddsClientGolangsSixMetricsReadAtScrapeTime() throws {
        let registry = MetricsRegistry()
        registry.registerProcessMetrics()
        registry.registerProcessMetrics()  // again: nothing more
        let snapshot = registry.snapshot()
        for name in Self.names {
            let family = try #require(snapshot.family(named: name), "\(name) registered")
            #expect(family.series.count == 1)
        }
        func value(_ name: String) -> Double { snapshot.family(named: name)?.series.first?.value.scalar ?? -1 }
        #expect(snapshot.family(named: "process_cpu_seconds_total")?.type == .counter)
        #expect(
            value("process_resident_memory_bytes") > Double(1 << 20), "this test process has more than 1 MiB resident")
        #expect(value("process_virtual_memory_bytes") >= value("process_resident_memory_bytes"))
        #expect(value("process_open_fds") >= 3 && value("process_open_fds") <= value("process_max_fds"))
        let now = Date().timeIntervalSince1970
        let start = value("process_start_time_seconds")
        #expect(start > now - 86_400 * 365 && start <= now + 1, "started \(now - start) s ago")
        #expect(value("process_cpu_seconds_total") >= 0)
        let text = registry.exposition()
        #expect(text.contains("# TYPE process_open_fds gauge\n"))
        #expect(text.contains("# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"))
    }

    @Test func openFileDescriptorsFollowTheProcess() throws {
        let registry = MetricsRegistry()
        registry.registerProcessMetrics()
        func openFDs() -> Double {
            registry.snapshot().family(named: "process_open_fds")?.series.first?.value.scalar ?? -1
        }
        let before = openFDs()
        let extra = (0..<20).map { _ in open("/dev/null", O_RDONLY) }
        defer { for fd in extra { close(fd) } }
        #expect(extra.allSatisfy { $0 >= 0 })
        // Other tests open and close descriptors in parallel: a loose bound.
        #expect(openFDs() >= before + 10, "20 more descriptors are counted at the next read")
    }

    @Test func statParsingCountsFieldsFromTheLastParenthesis() throws {
        // A command name with spaces and parentheses, as proc(5) allows.
        var fields = ["S"] + (4...52).map { "\($0)" }
        fields[14 - 3] = "250"  // utime
        fields[15 - 3] = "50"  // stime
        fields[22 - 3] = "1000"  // starttime
        fields[23 - 3] = "123456789"  // vsize
        fields[24 - 3] = "42"  // rss pages
        let line = "4242 (a) b (c) " + fields.joined(separator: " ") + "\n"
        let parsed = try #require(ProcessStats.parseStat(Array(line.utf8)))
        #expect(
            parsed
                == ProcessStats.StatFields(
                    userTicks: 250, systemTicks: 50, startTicks: 1000, virtualBytes: 123_456_789, residentPages: 42))
        #expect(ProcessStats.parseStat(Array("no parenthesis".utf8)) == nil)
        #expect(ProcessStats.parseStat(Array("1 (short) S 2 3".utf8)) == nil)
        #expect(ProcessStats.parseBootTime(Array("cpu 1 2 3\nbtime 1764000000\nprocesses 9\n".utf8)) == 1_764_000_000)
        #expect(ProcessStats.parseBootTime(Array("cpu 1 2 3\n".utf8)) == nil)
    }
}
