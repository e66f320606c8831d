// The receiver side of `make bench-push`'s order check: reads the request bodies the proxy
// forwarded to VictoriaMetrics (files named by forwarding order in one directory), decodes
// each (remote write 1.0, snappy) and checks that every series' timestamps only go up from
// request to request, as Prometheus' TSDB requires (it refuses an older sample). A sample
// at a timestamp the series already has is a duplicate (a resend), counted apart.
//
//   PushOrderCheck <directory>
//
// Prints one line: requests=… samples=… series=… out_of_order=… duplicates=… undecodable=…
import ConveyorMetricsTestKit
import Foundation

guard CommandLine.arguments.count == 2 else {
    FileHandle.standardError.write(Data("usage: PushOrderCheck <directory>\n".utf8))
    exit(2)
}
let directory = URL(fileURLWithPath: CommandLine.arguments[1])
let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
var limits = WriteRequestLimits()
limits.maxDecompressedBytes = 256 << 20
limits.maxSeries = 10_000_000
limits.maxSamples = 50_000_000
limits.maxLabels = 100_000_000
var newest: [String: Int64] = [:]
var samples = 0
var outOfOrder = 0
var duplicates = 0
var undecodable = 0
var firstViolation: String?
for name in names {
    guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent(name).path),
        let request = try? WriteRequestDecoder.decode(body: [UInt8](data), limits: limits)
    else {
        undecodable += 1
        continue
    }
    for series in request.timeSeries {
        let key = series.labels.map { "\($0.name)=\($0.value)" }.joined(separator: ",")
        for sample in series.samples {
            samples += 1
            let timestamp = sample.timestampMilliseconds
            if let last = newest[key] {
                if timestamp == last {
                    duplicates += 1
                    continue
                }
                if timestamp < last {
                    outOfOrder += 1
                    if firstViolation == nil { firstViolation = "\(key) @\(timestamp) after @\(last) in \(name)" }
                    continue
                }
            }
            newest[key] = timestamp
        }
    }
}
print(
    "requests=\(names.count) samples=\(samples) series=\(newest.count) out_of_order=\(outOfOrder) "
        + "duplicates=\(duplicates) undecodable=\(undecodable)"
        + (firstViolation.map { " first=\($0)" } ?? ""))
