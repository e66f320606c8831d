import ConveyorMetrics

/// A configuration problem, naming the key.
public struct RemoteWriteConfigurationError: Error, CustomStringConvertible, Equatable {
    /// The key in Prometheus' vocabulary, e.g. `remote_write[0].headers.User-Agent`.
    public let key: String
    /// What is wrong.
    public let reason: String

    /// `key: reason`.
    public var description: String { "\(key): \(reason)" }
}
