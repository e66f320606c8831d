import ConveyorMetricsTestSupport
import Foundation
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsFuzzing
@testable import ConveyorMetricsRemoteWrite
@testable import ConveyorMetricsTestKit

/// Every committed fuzz input — the seed corpus and each finding kept as a regression —
/// runs through its harness on every test run (a crash or a checker trap fails the suite).
@Suite("Fuzz corpus and regressions")
struct FuzzCorpusTests {
    @Test(arguments: FuzzTarget.allCases)
    func committedInputsRunClean(target: FuzzTarget) throws {
        var count = 0
        for folder in ["Fuzz/corpus", "Fuzz/regressions"] {
            let directory = PackagePaths.file("\(folder)/\(target.rawValue)")
            let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            for file in files.sorted() {
                try target.run([UInt8](try Data(contentsOf: directory.appendingPathComponent(file))))
                count += 1
            }
        }
        #expect(count >= target.seeds.count, "the seed corpus is committed (\(count) inputs)")
    }

    @Test(arguments: FuzzTarget.allCases)
    func seedsRunClean(target: FuzzTarget) throws {
        for seed in target.seeds { try target.run(seed) }
    }

    /// The receiver's seeds reach remote write 2.0: a snappy body the checker accepts as
    /// 2.0, and raw requests the v2 scan walks through histograms, repeated metadata and
    /// unpacked refs.
    @Test func receiverSeedsCoverRemoteWrite2() throws {
        let checker = RemoteWriteRequestChecker()
        let headers = [
            ("Content-Encoding", "snappy"), ("Content-Type", RemoteWriteProtocol.v2ContentType),
            ("X-Prometheus-Remote-Write-Version", RemoteWriteProtocol.v2Version),
        ]
        let accepted = FuzzTarget.receiver.seeds.compactMap { try? checker.check(headers: headers, body: $0).get() }
        #expect(accepted.contains { $0.protocolVersion == .v2 && $0.histogramCount == 1 && $0.exemplarCount == 1 })
        let sizes = FuzzTarget.receiver.seeds.compactMap {
            try? WriteRequestScan.measure($0, limits: .unlimited, protocolVersion: .v2)
        }
        #expect(
            sizes.contains { $0.metadata >= 2 && $0.histograms == 1 && $0.samples >= 30 && $0.labels == 4 }, "\(sizes)")
    }

    @Test func theExpositionCheckerRejectsWhatItShould() {
        let bad = [
            "m{a=\"x\\q\"} 1\n",  // unknown escape
            "m{a=\"x} 1\n",  // unterminated
            "1m 1\n",  // bad name
            "m 1 2 3\n",  // bad value
            "m{a=\"x\"} 1",  // no final newline
            "# TYPE m counter\nm 1\n# EOF\nm 2\n",  // after EOF
        ]
        for text in bad {
            #expect(throws: ExpositionChecker.Failure.self, "\(text.debugDescription)") {
                try ExpositionChecker.parse(Array(text.utf8), openMetrics: true)
            }
        }
        let good = try? ExpositionChecker.parse(
            Array("# HELP m a \\\\ b\n# TYPE m gauge\nm{a=\"q\\\"\\n\\\\\"} -Inf\n# EOF\n".utf8), openMetrics: true)
        #expect(good?.samples.first?.labels == [.init(name: "a", value: "q\"\n\\")])
        #expect(good?.samples.first?.value == -.infinity)
    }
}
