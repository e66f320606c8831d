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
        private var leLabels: [[UInt8]] = []
        private var leBounds: [Double]?

        package init(names: FamilyNames) { self.names = names }

        package mutating func append(
            _ histogram: HistogramValue, labels: UnsafeRawBufferPointer, into out: inout [UInt8]
        ) {
            if leBounds != histogram.upperBounds {
                leBounds = histogram.upperBounds
                leLabels = (histogram.upperBounds.map(FloatFormatting.goStyle) + ["+Inf"]).map {
                    Array("le=\"\($0)\"".utf8)
                }
            }
            for (index, count) in histogram.cumulativeCounts.enumerated() where index < leLabels.count {
                leLabels[index].withUnsafeBytes { le in
                    ExpositionEncoder.appendSample(names.bucket, labels, extra: le, value: Double(count), into: &out)
                }
            }
            ExpositionEncoder.appendSample(
                names.sum, labels, extra: UnsafeRawBufferPointer(start: nil, count: 0), value: histogram.sum, into: &out
            )
            ExpositionEncoder.appendSample(
                names.count, labels, extra: UnsafeRawBufferPointer(start: nil, count: 0),
                value: Double(histogram.count),
                into: &out)
        }
    }

    /// One counter or gauge line.
    @inline(__always)
    package func appendSample(_ name: [UInt8], _ labels: UnsafeRawBufferPointer, value: Double, into out: inout [UInt8])
    {
        Self.appendSample(name, labels, extra: UnsafeRawBufferPointer(start: nil, count: 0), value: value, into: &out)
    }

    @inline(__always)
    static func appendSample(
        _ name: [UInt8], _ labels: UnsafeRawBufferPointer, extra: UnsafeRawBufferPointer, value: Double,
        into out: inout [UInt8]
    ) {
        out.append(contentsOf: name)
        if !labels.isEmpty || !extra.isEmpty {
            out.append(UInt8(ascii: "{"))
            out.append(contentsOf: labels)
            if !labels.isEmpty && !extra.isEmpty { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: extra)
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: " "))
        FloatFormatting.appendValue(value, to: &out)
        out.append(UInt8(ascii: "\n"))
    }

    private func appendLine(_ parts: String..., into out: inout [UInt8]) {
        for part in parts { out.append(contentsOf: part.utf8) }
        out.append(UInt8(ascii: "\n"))
    }
}
