import ConveyorMetrics
import Synchronization

/// What a target has done so far, for status lines and tests.
public struct RemoteWriteTargetStatus: Sendable {
    /// The target's `remote_name`.
    public let name: String
    /// Requests delivered (2xx).
    public let succeededRequests: UInt64
    /// Requests that failed (retried or dropped).
    public let failedRequests: UInt64
    /// Samples queued or in flight.
    public let pendingSamples: Int
    /// The most recent failure (status and first 1 KB of the body, or the network error).
    public let lastError: String?

    final class Counters: Sendable {
        private let succeeded = Atomic<UInt64>(0)
        private let failed = Atomic<UInt64>(0)
        private let lastError = Mutex<String?>(nil)

        func recordSuccess() { succeeded.wrappingAdd(1, ordering: .relaxed) }

        func recordFailure(_ message: String) {
            failed.wrappingAdd(1, ordering: .relaxed)
            lastError.withLock { $0 = message }
        }

        func status(name: String, pending: Int) -> RemoteWriteTargetStatus {
            RemoteWriteTargetStatus(
                name: name, succeededRequests: succeeded.load(ordering: .relaxed),
                failedRequests: failed.load(ordering: .relaxed), pendingSamples: pending,
                lastError: lastError.withLock { $0 })
        }
    }
}
