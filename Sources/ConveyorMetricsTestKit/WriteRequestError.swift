import CRemoteWriteProto
import ConveyorMetrics
import ConveyorMetricsRemoteWrite

/// Why a request body was refused.
public struct WriteRequestError: Error, Equatable, CustomStringConvertible {
    /// What is wrong, as the receiver answers it with 400.
    public let description: String
    /// An error with its description.
    public init(_ description: String) { self.description = description }
}
