/// Renders families as Prometheus text 0.0.4 or OpenMetrics 1.0.0.
///
/// Label text is pre-rendered per series; `le` spellings are pre-rendered per family's
/// bounds; the output buffer is reused between scrapes by its owner. It reads the
/// registry's families directly (`MetricsRegistry.emit`), which skips building a snapshot.
package struct ExpositionEncoder: Sendable {
    package let format: ExpositionFormat

    package init(format: ExpositionFormat) {
        self.format = format
    }

    /// Ends the exposition (`# EOF` for OpenMetrics).
    package func finish(into out: inout [UInt8]) {
        if format == .openMetrics { out.append(contentsOf: "# EOF\n".utf8) }
    }

    /// The byte spellings a family's samples need.
    package struct FamilyNames {
        let sample: [UInt8]
        let bucket: [UInt8]
        let sum: [UInt8]
        let count: [UInt8]
    }

    /// Writes HELP/TYPE (and UNIT) lines; returns the sample names.
    package func header(name: String, help: String, unit: String, type: MetricType, into out: inout [UInt8])
        -> FamilyNames
    {
        let openMetrics = format == .openMetrics
        // OpenMetrics names a counter family without `_total`; its samples carry the suffix.
        let familyName =
            openMetrics && type == .counter && name.hasSuffix("_total") ? String(name.dropLast(6)) : name
        if openMetrics {
            appendLine("# TYPE ", familyName, " ", type.rawValue, into: &out)
            if !unit.isEmpty && familyName.hasSuffix("_" + unit) {
                appendLine("# UNIT ", familyName, " ", unit, into: &out)
            }
        }
        if !help.isEmpty || !openMetrics {
            out.append(contentsOf: "# HELP ".utf8)
            out.append(contentsOf: familyName.utf8)
            out.append(UInt8(ascii: " "))
            TextEscaping.appendHelp(help, openMetrics: openMetrics, to: &out)
            out.append(UInt8(ascii: "\n"))
        }
        if !openMetrics {
            appendLine("# TYPE ", familyName, " ", type.rawValue, into: &out)
        }
        return FamilyNames(
            sample: Array((openMetrics && type == .counter ? familyName + "_total" : familyName).utf8),
            bucket: Array((familyName + "_bucket").utf8), sum: Array((familyName + "_sum").utf8),
            count: Array((familyName + "_count").utf8))
    }

    /// Writes a histogram series' lines, caching the `le` spellings per set of bounds.
    package struct HistogramLines {
        let names: FamilyNames
        /// `le="…"` of every bound and `+Inf`, one after the other; where each ends.
        private var leBytes: [UInt8] = []
        private var leEnds: [Int] = []
        private var leBounds: [Double]?

        package init(names: FamilyNames) { self.names = names }

        /// Appends the bucket, `_sum` and `_count` lines; each bucket line with an exemplar of
        /// `exemplars` gets it (a native-only family's latest goes on its `+Inf` line).
        package mutating func append(
            _ histogram: HistogramValue, labels: UnsafeRawBufferPointer, exemplars: SeriesExemplars? = nil,
            into out: inout [UInt8]
        ) {
            if leBounds != histogram.upperBounds {
                leBounds = histogram.upperBounds
                leBytes = []
                leEnds = []
                for spelling in histogram.upperBounds.map(FloatFormatting.goStyle) + ["+Inf"] {
                    leBytes.append(contentsOf: "le=\"\(spelling)\"".utf8)
                    leEnds.append(leBytes.count)
                }
            }
            let counts = histogram.cumulativeCounts
            let lines = min(counts.count, leEnds.count)
            if let exemplars, !exemplars.isEmpty {
                return appendWithExemplars(histogram, labels: labels, lines: lines, exemplars: exemplars, into: &out)
            }
            let longestName = max(names.bucket.count, names.sum.count, names.count.count)
            let bound = (lines + 2) * (longestName + labels.count + ExpositionEncoder.lineOverhead) + leBytes.count
            names.bucket.withUnsafeBytes { bucket in
                names.sum.withUnsafeBytes { sum in
                    names.count.withUnsafeBytes { count in
                        leBytes.withUnsafeBytes { le in
                            leEnds.withUnsafeBufferPointer { ends in
                                counts.withUnsafeBufferPointer { counts in
                                    out.appendRaw(upTo: bound) { start in
                                        var cursor = start
                                        var leStart = 0
                                        for index in 0..<lines {
                                            let spelling = UnsafeRawBufferPointer(rebasing: le[leStart..<ends[index]])
                                            leStart = ends[index]
                                            cursor = ExpositionEncoder.putSample(
                                                bucket, labels, extra: spelling, value: Double(counts[index]),
                                                at: cursor)
                                        }
                                        let none = UnsafeRawBufferPointer(start: nil, count: 0)
                                        cursor = ExpositionEncoder.putSample(
                                            sum, labels, extra: none, value: histogram.sum, at: cursor)
                                        return ExpositionEncoder.putSample(
                                            count, labels, extra: none, value: Double(histogram.count), at: cursor)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }

        /// The same lines one at a time, each bucket line followed by its exemplar.
        private func appendWithExemplars(
            _ histogram: HistogramValue, labels: UnsafeRawBufferPointer, lines: Int, exemplars: SeriesExemplars,
            into out: inout [UInt8]
        ) {
            let none = UnsafeRawBufferPointer(start: nil, count: 0)
            let counts = histogram.cumulativeCounts
            var leStart = 0
            for index in 0..<lines {
                let leEnd = leEnds[index]
                names.bucket.withUnsafeBytes { bucket in
                    leBytes.withUnsafeBytes { le in
                        let spelling = UnsafeRawBufferPointer(rebasing: le[leStart..<leEnd])
                        out.appendRaw(
                            upTo: bucket.count + labels.count + spelling.count + ExpositionEncoder.lineOverhead
                        ) { cursor in
                            ExpositionEncoder.putSample(
                                bucket, labels, extra: spelling, value: Double(counts[index]), at: cursor)
                        }
                    }
                }
                leStart = leEnd
                let exemplar =
                    exemplars.perSlot.isEmpty ? (index == lines - 1 ? exemplars.latest : nil) : exemplars.slot(index)
                if let exemplar { ExemplarText.appendToLine(exemplar, into: &out) }
            }
            for (name, value) in [(names.sum, histogram.sum), (names.count, Double(histogram.count))] {
                name.withUnsafeBytes { name in
                    out.appendRaw(upTo: name.count + labels.count + ExpositionEncoder.lineOverhead) { cursor in
                        ExpositionEncoder.putSample(name, labels, extra: none, value: value, at: cursor)
                    }
                }
            }
        }
    }

    /// Bytes a sample line adds besides its name, labels and extra label: `{`, `,`, `}`,
    /// space, the value, newline.
    static let lineOverhead = 5 + FloatFormatting.maxValueBytes

    /// One counter or gauge line.
    @inline(__always)
    package func appendSample(_ name: [UInt8], _ labels: UnsafeRawBufferPointer, value: Double, into out: inout [UInt8])
    {
        name.withUnsafeBytes { name in
            out.appendRaw(upTo: name.count + labels.count + Self.lineOverhead) { cursor in
                Self.putSample(
                    name, labels, extra: UnsafeRawBufferPointer(start: nil, count: 0), value: value, at: cursor)
            }
        }
    }

    /// One sample line at `start` (room for its name, labels, extra and ``lineOverhead``);
    /// returns the position after it.
    @inline(__always)
    static func putSample(
        _ name: UnsafeRawBufferPointer, _ labels: UnsafeRawBufferPointer, extra: UnsafeRawBufferPointer, value: Double,
        at start: UnsafeMutableRawPointer
    ) -> UnsafeMutableRawPointer {
        var cursor = put(name, at: start)
        if !labels.isEmpty || !extra.isEmpty {
            cursor = put(UInt8(ascii: "{"), at: cursor)
            cursor = put(labels, at: cursor)
            if !labels.isEmpty && !extra.isEmpty { cursor = put(UInt8(ascii: ","), at: cursor) }
            cursor = put(extra, at: cursor)
            cursor = put(UInt8(ascii: "}"), at: cursor)
        }
        cursor = put(UInt8(ascii: " "), at: cursor)
        cursor = FloatFormatting.putValue(value, at: cursor)
        return put(UInt8(ascii: "\n"), at: cursor)
    }

    @inline(__always)
    private static func put(_ byte: UInt8, at cursor: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer {
        cursor.storeBytes(of: byte, as: UInt8.self)
        return cursor + 1
    }

    @inline(__always)
    private static func put(_ bytes: UnsafeRawBufferPointer, at cursor: UnsafeMutableRawPointer)
        -> UnsafeMutableRawPointer
    {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return cursor }
        cursor.copyMemory(from: base, byteCount: bytes.count)
        return cursor + bytes.count
    }

    private func appendLine(_ parts: String..., into out: inout [UInt8]) {
        for part in parts { out.append(contentsOf: part.utf8) }
        out.append(UInt8(ascii: "\n"))
    }
}
