/// Renders a snapshot as Prometheus text 0.0.4 or OpenMetrics 1.0.0.
///
/// Label text is pre-rendered per series; `le` spellings are pre-rendered per family's
/// bounds; the output buffer is reused between scrapes by its owner.
package struct ExpositionEncoder: Sendable {
    package let format: ExpositionFormat

    package init(format: ExpositionFormat) {
        self.format = format
    }

    /// Appends the whole exposition of `snapshot` to `out`.
    package func encode(_ snapshot: MetricsSnapshot, into out: inout [UInt8]) {
        for family in snapshot.families where !family.series.isEmpty {
            encode(family, into: &out)
        }
        if format == .openMetrics { out.append(contentsOf: "# EOF\n".utf8) }
    }

    /// Convenience for tests and small outputs.
    package func encode(_ snapshot: MetricsSnapshot) -> String {
        var out: [UInt8] = []
        encode(snapshot, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private func encode(_ family: MetricFamilySnapshot, into out: inout [UInt8]) {
        let openMetrics = format == .openMetrics
        // OpenMetrics names a counter family without `_total`; its samples carry the suffix.
        let familyName =
            openMetrics && family.type == .counter && family.name.hasSuffix("_total")
            ? String(family.name.dropLast(6)) : family.name
        if openMetrics {
            appendLine("# TYPE ", familyName, " ", family.type.rawValue, into: &out)
            if !family.unit.isEmpty && familyName.hasSuffix("_" + family.unit) {
                appendLine("# UNIT ", familyName, " ", family.unit, into: &out)
            }
        }
        if !family.help.isEmpty || !openMetrics {
            out.append(contentsOf: "# HELP ".utf8)
            out.append(contentsOf: familyName.utf8)
            out.append(UInt8(ascii: " "))
            TextEscaping.appendHelp(family.help, openMetrics: openMetrics, to: &out)
            out.append(UInt8(ascii: "\n"))
        }
        if !openMetrics {
            appendLine("# TYPE ", familyName, " ", family.type.rawValue, into: &out)
        }
        let sampleName = Array((openMetrics && family.type == .counter ? familyName + "_total" : familyName).utf8)
        switch family.type {
        case .counter, .gauge:
            for series in family.series {
                guard let value = series.value.scalar else { continue }
                appendSample(sampleName, series.renderedLabels, extra: [], value: value, into: &out)
            }
        case .histogram:
            encodeHistogram(family, name: familyName, into: &out)
        }
    }

    private func encodeHistogram(_ family: MetricFamilySnapshot, name: String, into out: inout [UInt8]) {
        let bucketName = Array((name + "_bucket").utf8)
        let sumName = Array((name + "_sum").utf8)
        let countName = Array((name + "_count").utf8)
        var leLabels: [[UInt8]] = []
        var leBounds: [Double]? = nil
        for series in family.series {
            guard case .histogram(let histogram) = series.value else { continue }
            if leBounds != histogram.upperBounds {
                leBounds = histogram.upperBounds
                leLabels = (histogram.upperBounds.map(FloatFormatting.goStyle) + ["+Inf"]).map {
                    Array("le=\"\($0)\"".utf8)
                }
            }
            for (index, count) in histogram.cumulativeCounts.enumerated() where index < leLabels.count {
                appendSample(
                    bucketName, series.renderedLabels, extra: leLabels[index], value: Double(count), into: &out)
            }
            appendSample(sumName, series.renderedLabels, extra: [], value: histogram.sum, into: &out)
            appendSample(countName, series.renderedLabels, extra: [], value: Double(histogram.count), into: &out)
        }
    }

    @inline(__always)
    private func appendSample(
        _ name: [UInt8], _ labels: [UInt8], extra: [UInt8], value: Double, into out: inout [UInt8]
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
