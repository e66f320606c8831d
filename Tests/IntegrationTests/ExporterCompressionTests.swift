import ConveyorMetricsTestSupport
import Foundation
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsExporter

/// The exporter's gzip answer, decompressed by the system's `gzip`.
@Suite("Exporter compression")
struct ExporterCompressionTests {
    @Test func gzipWhenAcceptedDecompressesToThePlainText() async throws {
        let registry = MetricsRegistry()
        ConveyorRouterMetrics(registry: registry).recordRecordsReceived(sourceID: "src", count: 5)
        let exporter = MetricsExporter(
            configuration: MetricsExporter.Configuration(host: "127.0.0.1", port: 0), registry: registry)
        try await exporter.start()
        do {
            let client = RawHTTPClient(port: try #require(exporter.boundPort))
            let plain = try await client.get("/metrics")
            let response = try await client.get("/metrics", headers: [("Accept-Encoding", "gzip")])
            #expect(response.status == 200)
            #expect(response.header("content-encoding") == "gzip")
            #expect(response.body.starts(with: [0x1f, 0x8b]), "gzip magic")
            if let gzip = ExternalTool.require("gzip") {
                let gunzip = try await ExternalTool.run(gzip, ["-dc"], input: Data(response.body))
                #expect(gunzip.status == 0)
                #expect(gunzip.output == plain.text)
            }
        } catch {
            await exporter.shutdown()
            throw error
        }
        await exporter.shutdown()
    }
}
