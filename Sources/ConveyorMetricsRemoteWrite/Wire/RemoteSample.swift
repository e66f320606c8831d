import ConveyorMetrics

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
