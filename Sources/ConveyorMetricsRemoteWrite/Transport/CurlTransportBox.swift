import ConveyorMetrics
import Dispatch
import Logging
import Synchronization

/// Moves a libcurl transport (not Sendable) from the target's init to its sender thread.
final class CurlTransportBox: @unchecked Sendable {
    let transport: CurlTransport
    init(_ transport: CurlTransport) { self.transport = transport }
}
