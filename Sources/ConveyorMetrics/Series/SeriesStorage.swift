/// What every kind of series storage provides to its family and to snapshots.
package protocol SeriesStorage: AnyObject, Sendable {
    /// Per-family settings every series of the family shares (histogram bounds).
    associatedtype Configuration: Sendable

    init(identity: SeriesIdentity, configuration: Configuration, context: SeriesContext)

    /// What the family's series share: metric name, label names, where rejections go.
    var context: SeriesContext { get }
    /// The key the family's lookup table finds it by, and that key's hash.
    var lookupKey: LabelValuesKey { get }
    var lookupHash: UInt64 { get }
    /// `name="value",…` with values escaped for the text formats, rendered once at creation
    /// into memory the series owns (exact size, freed with the series).
    var renderedLabels: UnsafeRawBufferPointer { get }
    /// The current value, read with relaxed atomics.
    func snapshotValue() -> SeriesValue
}

/// What identifies a series inside its family.
package struct SeriesIdentity: Sendable {
    package let key: LabelValuesKey
    package let hash: UInt64
    package let labels: [Label]

    package init(key: LabelValuesKey, labels: [Label]) {
        self.key = key
        self.hash = key.lookupHash
        self.labels = labels
    }

    /// The identity of a series that is never in a lookup table.
    static let detached = SeriesIdentity(key: .none, labels: [])
}

/// What all series of a family share, held once per family instead of once per series.
package final class SeriesContext: Sendable {
    package let metricName: String
    /// The family's label names in value order; nil when series bring their own (`.pairs`).
    package let labelNames: [String]?
    let rejections: RejectedValueRecorder?

    init(metricName: String, labelNames: [String]?, rejections: RejectedValueRecorder?) {
        self.metricName = metricName
        self.labelNames = labelNames
        self.rejections = rejections
    }

    /// Counts and logs one rejected value of this family.
    @inline(never)
    func reject(_ reason: RejectionReason, _ detail: @autoclosure () -> String) {
        rejections?.reject(reason, metric: metricName, detail())
    }

    /// The sorted labels of the series with `key` (built on demand; series do not store them).
    package func labels(for key: LabelValuesKey) -> [Label] {
        switch key {
        case .pairs(let flat):
            return stride(from: 0, to: flat.count - 1, by: 2).map { Label(name: flat[$0], value: flat[$0 + 1]) }
        default:
            return zip(labelNames ?? [], key.values).map { Label(name: $0, value: $1) }.sortedByName()
        }
    }
}

/// Bytes in an exact-size allocation (no array header) that their owner frees in `deinit`.
enum OwnedBytes {
    static func copy(_ bytes: [UInt8]) -> UnsafeRawBufferPointer {
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
        storage.copyBytes(from: bytes)
        return UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(storage)[0..<bytes.count])
    }

    static func free(_ buffer: UnsafeRawBufferPointer) {
        UnsafeMutableRawPointer(mutating: buffer.baseAddress)?.deallocate()
    }
}

/// Rendered label text in owned, exact-size memory (see ``OwnedBytes``).
enum RenderedLabels {
    static func allocate(_ labels: [Label]) -> UnsafeRawBufferPointer {
        OwnedBytes.copy(render(labels))
    }

    /// `name="escaped value",…` for the text formats.
    static func render(_ labels: [Label]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(labels.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 })
        for (index, label) in labels.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: label.name.utf8)
            out.append(contentsOf: "=\"".utf8)
            TextEscaping.appendLabelValue(label.value, to: &out)
            out.append(UInt8(ascii: "\""))
        }
        return out
    }

    static func free(_ buffer: UnsafeRawBufferPointer) { OwnedBytes.free(buffer) }
}

extension SeriesStorage {
    /// The series' labels, sorted by name (derived from its key and the family's label names).
    package var labels: [Label] { context.labels(for: lookupKey) }
}
