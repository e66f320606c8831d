import ConveyorMetricsTestSupport
import Synchronization
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsRemoteWrite

@Suite("Response headers")
struct ResponseCollectorTests {
    /// What the collector read from a list of header lines.
    struct Read: Equatable {
        var retryAfter: String?
        var written: WrittenCounts?
    }

    static func collect(_ lines: [[UInt8]]) -> Read {
        let collector = ResponseCollector()
        for line in lines { line.withUnsafeBytes { collector.header($0) } }
        return Read(retryAfter: collector.retryAfter, written: collector.written)
    }

    /// The reading the byte-wise parser must agree with: the string-based parser it replaced,
    /// as it was (each line a string, its name lowercased by Swift, the value trimmed of
    /// spaces, tabs and line ends).
    static func reference(_ lines: [[UInt8]]) -> Read {
        var read = Read()
        var samples: Int?
        var histograms = 0
        var exemplars = 0
        func count(_ value: String) -> Int? {
            guard let number = Int(value), number >= 0 else { return 0 }
            return number
        }
        func trimmed(_ text: Substring) -> String {
            let isSpace = { (byte: UInt8) in byte == 32 || byte == 9 || byte == 13 || byte == 10 }
            let bytes = Array(text.utf8)
            guard let first = bytes.firstIndex(where: { !isSpace($0) }),
                let last = bytes.lastIndex(where: { !isSpace($0) })
            else { return "" }
            return String(decoding: bytes[first...last], as: UTF8.self)
        }
        for bytes in lines {
            let line = String(decoding: bytes, as: UTF8.self)
            if line.hasPrefix("HTTP/") {
                read = Read()
                (samples, histograms, exemplars) = (nil, 0, 0)
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let value = trimmed(line[line.index(after: colon)...])
            switch line[..<colon].lowercased() {
            case "retry-after": read.retryAfter = value
            case RemoteWriteProtocol.samplesWrittenHeader.lowercased(): samples = count(value)
            case RemoteWriteProtocol.histogramsWrittenHeader.lowercased(): histograms = count(value) ?? 0
            case RemoteWriteProtocol.exemplarsWrittenHeader.lowercased(): exemplars = count(value) ?? 0
            default: break
            }
        }
        read.written = samples.map { WrittenCounts(samples: $0, histograms: histograms, exemplars: exemplars) }
        return read
    }

    @Test func aTwoPointZeroAnswersCountsAndRetryAfterAreRead() {
        let lines = [
            "HTTP/1.1 503 Service Unavailable\r\n", "Server: test\r\n", "retry-AFTER:  7 \r\n",
            "X-Prometheus-Remote-Write-Samples-Written: 12\r\n",
            "x-prometheus-remote-write-histograms-written:\t3\r\n",
            "X-PROMETHEUS-REMOTE-WRITE-EXEMPLARS-WRITTEN: 2\r\n", "\r\n",
        ].map { Array($0.utf8) }
        #expect(
            Self.collect(lines)
                == Read(retryAfter: "7", written: WrittenCounts(samples: 12, histograms: 3, exemplars: 2)))
    }

    @Test func aNewStatusLineForgetsTheInterimAnswersHeaders() {
        let lines = ["HTTP/1.1 100 Continue\r\n", "Retry-After: 5\r\n", "\r\n", "HTTP/1.1 204 No Content\r\n", "\r\n"]
            .map { Array($0.utf8) }
        #expect(Self.collect(lines) == Read())
    }

    @Test func namesThatOnlyLookAlikeAreNotRead() {
        // "\r" | 0x20 is "-": a byte trick that lowercased every byte would take these.
        let lines = ["retry\rafter: 9\r\n", "Retry-After-Ms: 9\r\n", "Retry-Afte: 9\r\n", "Retry After: 9\r\n"]
            .map { Array($0.utf8) }
        #expect(Self.collect(lines) == Read())
    }

    /// Random header lines: the names read in random case, with one byte changed, cut short
    /// or lengthened, other names, random values (numbers, negatives, junk, spaces, bytes that
    /// are not UTF-8), status lines between them; the parser reads what the reference reads.
    @Test func agreesWithTheStringReadingOnRandomHeaders() async {
        let names =
            ResponseCollector.Field.allCases.map(\.lowercaseName) + [
                "server", "date", "content-length", "content-type", "x-prometheus-remote-write-samples",
            ]
        let values = [
            "0", "17", "-3", "9999999999999999999999", "abc", "", " 42 ", "\t5\t", "1e3",
            "Fri, 27 Nov 2026 00:00:00 GMT",
        ]
        let seeds = HeavyTestWork.iterations(3_000)
        let checked = Mutex(0)
        await HeavyTestWork.run {
            for seed in 0..<UInt64(seeds) {
                var random = SplitMix64(seed: seed)
                var lines: [[UInt8]] = []
                for _ in 0..<Int(random.next() % 8 + 1) {
                    if random.next() % 10 == 0 {
                        lines.append(Array("HTTP/1.1 200 OK\r\n".utf8))
                        continue
                    }
                    var name = Array(names[Int(random.next() % UInt64(names.count))].utf8)
                    for index in name.indices where random.next() % 2 == 0 && (97...122).contains(name[index]) {
                        name[index] -= 32
                    }
                    switch random.next() % 12 {
                    case 0: name[Int(random.next() % UInt64(name.count))] = UInt8(truncatingIfNeeded: random.next())
                    case 1: name.removeLast()
                    case 2: name.append(UInt8(ascii: "s"))
                    case 3:  // a byte that ORed with 0x20 is "-"
                        if let dash = name.firstIndex(of: UInt8(ascii: "-")) { name[dash] = 13 }
                    case 4: name.append(UInt8(ascii: " "))
                    case 5: name.insert(contentsOf: Array("é".utf8), at: Int(random.next() % UInt64(name.count)))
                    default: break
                    }
                    var value = Array(values[Int(random.next() % UInt64(values.count))].utf8)
                    if random.next() % 8 == 0 { value.append(0xFF) }
                    let colon = random.next() % 16 == 0 ? [] : Array(":".utf8)
                    lines.append(name + colon + value + Array("\r\n".utf8))
                }
                let read = Self.collect(lines)
                guard read == Self.reference(lines) else {
                    Issue.record("seed \(seed): \(read) against \(Self.reference(lines)) for \(lines)")
                    return
                }
                if read != Read() { checked.withLock { $0 += 1 } }
            }
        }
        // Not only empty readings agreed: a good share of the cases read a header.
        #expect(checked.withLock { $0 } > seeds / 10)
    }
}
