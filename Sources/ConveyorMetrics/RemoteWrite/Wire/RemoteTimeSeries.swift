/// One series as remote write sends it: its full, sorted label set (with `__name__`) and
/// samples in timestamp order.
package struct RemoteTimeSeries: Sendable, Equatable {
    package var labels: [Label]
    package var samples: [RemoteSample]

    package init(labels: [Label], samples: [RemoteSample]) {
        self.labels = labels
        self.samples = samples
    }

    /// The value of `__name__`.
    package var metricName: String { labels.first { $0.name == "__name__" }?.value ?? "" }
}

/// One sample: a value and its timestamp in milliseconds since the epoch.
package struct RemoteSample: Sendable, Equatable {
    package var value: Double
    package var timestampMilliseconds: Int64

    package init(value: Double, timestampMilliseconds: Int64) {
        self.value = value
        self.timestampMilliseconds = timestampMilliseconds
    }

    /// The stale marker: a NaN with exactly these bits says "this series ended".
    package static let staleNaNBits: UInt64 = 0x7ff0_0000_0000_0002
    /// The NaN every other NaN is sent as, so it is never taken for a stale marker.
    package static let normalNaNBits: UInt64 = 0x7ff8_0000_0000_0001

    package var isStaleMarker: Bool { value.bitPattern == Self.staleNaNBits }

    package static func staleMarker(at timestamp: Int64) -> RemoteSample {
        RemoteSample(value: Double(bitPattern: staleNaNBits), timestampMilliseconds: timestamp)
    }
}

/// A family's metadata, sent in its own sample-free requests.
package struct RemoteMetadata: Sendable, Equatable {
    package var familyName: String
    package var type: MetricType
    package var help: String
    package var unit: String

    package init(familyName: String, type: MetricType, help: String, unit: String) {
        self.familyName = familyName
        self.type = type
        self.help = help
        self.unit = unit
    }
}
