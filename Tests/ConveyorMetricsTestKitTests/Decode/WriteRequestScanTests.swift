import CRemoteWriteProto
import ConveyorMetricsTestSupport
import Foundation
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsTestKit

@Suite("Write request scan")
struct WriteRequestScanTests {
    private static let seeds = HeavyTestWork.iterations(3_000)

    /// Random requests (unknown fields, exemplars, repeated and empty fields) and mutations
    /// of them: whatever the scan lets through, protobuf-c allocates at most what it estimated,
    /// and a valid request's counts are exact.
    @Test func theEstimateBoundsWhatProtobufCAllocates() async {
        await HeavyTestWork.run { Self.estimatesBoundAllocations() }
    }

    static func estimatesBoundAllocations() {
        var checked = 0
        var mutantsAccepted = 0
        var worstRatio = 0.0
        for seed in 0..<UInt64(Self.seeds) {
            var random = SplitMix64(seed: seed)
            let request = RandomWireRequest(random: &random)
            guard let size = try? WriteRequestScan.measure(request.bytes, limits: .unlimited) else {
                Issue.record("seed \(seed): a valid request was refused by the scan")
                continue
            }
            let counted: [Int] = [size.series, size.labels, size.samples, size.exemplars, size.metadata]
            let written: [Int] = [request.series, request.labels, request.samples, request.exemplars, request.metadata]
            #expect(counted == written, "seed \(seed)")
            let decoded = WriteRequestDecoder.unpackCounted(request.bytes)
            #expect(decoded.request?.timeSeries.count == request.series, "seed \(seed)")
            #expect(decoded.allocated <= size.decodedBytes, "seed \(seed): \(decoded.allocated) > \(size.decodedBytes)")
            worstRatio = max(worstRatio, Double(size.decodedBytes) / Double(max(decoded.allocated, 1)))
            checked += 1
            for _ in 0..<10 {
                let mutant = WireMutation.mutate(request.bytes, &random)
                guard let estimate = try? WriteRequestScan.measure(mutant, limits: .unlimited) else { continue }
                mutantsAccepted += 1
                let allocated = WriteRequestDecoder.unpackCounted(mutant).allocated
                #expect(allocated <= estimate.decodedBytes, "seed \(seed): mutant \(mutant)")
            }
        }
        #expect(checked == Self.seeds)
        #expect(mutantsAccepted > Self.seeds, "mutations the scan accepts are checked too")
        // Not so loose that the limit means nothing: within 4× of what protobuf-c really needs.
        #expect(worstRatio < 4, "estimate / allocation up to \(worstRatio)")
        print("estimate / allocation at most \(worstRatio)")
    }

    /// The attack from the issue: a few MiB of empty `Label` messages that protobuf-c would
    /// turn into tens of millions of structs. Refused by a limit before anything is decoded.
    @Test func emptyMessagesAreRefusedBeforeDecoding() async throws {
        try await HeavyTestWork.runThrowing { try Self.emptyMessagesRefused() }
    }

    static func emptyMessagesRefused() throws {
        var series = WireBytes()
        for _ in 0..<3_000_000 { series.field(1, bytes: []) }
        var request = WireBytes()
        request.field(1, bytes: series.bytes)
        #expect(request.bytes.count < 7_000_000)
        let error = try #require(throws: WriteRequestError.self) {
            try WriteRequestDecoder.decodeProtobuf(request.bytes)
        }
        #expect(error.isTooLarge && error.status == 413, "\(error)")
        // Each limit alone stops it.
        var labelsOnly = WriteRequestLimits.unlimited
        labelsOnly.maxLabels = 2_000_000
        let first = try #require(throws: WriteRequestError.self) {
            try WriteRequestDecoder.decodeProtobuf(request.bytes, limits: labelsOnly)
        }
        #expect(first.isTooLarge && first.description.contains("max_labels"), "\(first)")
        var bytesOnly = WriteRequestLimits.unlimited
        bytesOnly.maxDecodedBytes = 64 << 20
        let second = try #require(throws: WriteRequestError.self) {
            try WriteRequestDecoder.decodeProtobuf(request.bytes, limits: bytesOnly)
        }
        #expect(second.isTooLarge && second.description.contains("max_decoded_bytes"), "\(second)")
    }

    @Test(arguments: ["max_series", "max_labels", "max_samples", "max_exemplars", "max_metadata", "max_decoded_bytes"])
    func eachLimitIsEnforcedAndNamed(key: String) throws {
        var random = SplitMix64(seed: 7)
        var request = RandomWireRequest(random: &random)
        while request.series < 3 || request.labels < 3 || request.samples < 3 || request.exemplars < 3
            || request.metadata < 3
        {
            request = RandomWireRequest(random: &random)
        }
        let size = try WriteRequestScan.measure(request.bytes, limits: .unlimited)
        var limits = WriteRequestLimits.unlimited
        switch key {
        case "max_series": limits.maxSeries = size.series - 1
        case "max_labels": limits.maxLabels = size.labels - 1
        case "max_samples": limits.maxSamples = size.samples - 1
        case "max_exemplars": limits.maxExemplars = size.exemplars - 1
        case "max_metadata": limits.maxMetadata = size.metadata - 1
        default: limits.maxDecodedBytes = size.decodedBytes - 1
        }
        let error = try #require(throws: WriteRequestError.self) {
            try WriteRequestScan.measure(request.bytes, limits: limits)
        }
        #expect(error.isTooLarge && error.description.contains(key), "\(error)")
        // At the limit exactly, it passes.
        switch key {
        case "max_series": limits.maxSeries += 1
        case "max_labels": limits.maxLabels += 1
        case "max_samples": limits.maxSamples += 1
        case "max_exemplars": limits.maxExemplars += 1
        case "max_metadata": limits.maxMetadata += 1
        default: limits.maxDecodedBytes += 1
        }
        #expect(try WriteRequestScan.measure(request.bytes, limits: limits) == size)
    }

    @Test func malformedBytesAre400WithTheOffset() {
        for bytes: [UInt8] in [[0x0A, 0x05, 0x0A], [0x08], [0x00, 0x01], [0x0B], [0x0A, 0x02, 0x09, 0x00]] {
            let error = #expect(throws: WriteRequestError.self) { try WriteRequestScan.measure(bytes, limits: .init()) }
            #expect(
                error?.isTooLarge == false && error?.status == 400 && error?.description.contains("at byte") == true)
        }
    }

    /// The allocator behind the scan: past its limit protobuf-c gets NULL and fails cleanly.
    @Test func theAllocationBudgetStopsProtobufC() {
        var random = SplitMix64(seed: 11)
        var request = RandomWireRequest(random: &random)
        while request.labels < 10 { request = RandomWireRequest(random: &random) }
        let needed = WriteRequestDecoder.unpackCounted(request.bytes).allocated
        #expect(needed > 0)
        for limit in [0, 100, needed / 2, needed - 1] {
            let budget = DecodeAllocationBudget(limit: limit)
            let unpacked = budget.withAllocator { allocator in
                request.bytes.withUnsafeBufferPointer {
                    prometheus__write_request__unpack(allocator, $0.count, $0.baseAddress)
                }
            }
            #expect(unpacked == nil && budget.refused && budget.allocated <= limit, "limit \(limit)")
        }
        let enough = DecodeAllocationBudget(limit: needed)
        let unpacked = enough.withAllocator { allocator in
            let request = request.bytes.withUnsafeBufferPointer {
                prometheus__write_request__unpack(allocator, $0.count, $0.baseAddress)
            }
            if let request { prometheus__write_request__free_unpacked(request, allocator) }
            return request != nil
        }
        #expect(unpacked && !enough.refused && enough.allocated == needed)
    }
}
