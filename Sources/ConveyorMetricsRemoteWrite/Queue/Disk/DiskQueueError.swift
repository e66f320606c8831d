import ConveyorMetrics

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why the disk queue could not do something; names the path and the system's reason.
package struct DiskQueueError: Error, CustomStringConvertible, Equatable {
    /// The file or directory.
    package let path: String
    /// What failed, e.g. `not writable: Permission denied`.
    package let reason: String

    package var description: String { "\(path): \(reason)" }

    static func system(_ path: String, _ action: String, errno code: Int32 = errno) -> DiskQueueError {
        DiskQueueError(path: path, reason: "\(action): \(String(cString: strerror(code)))")
    }
}
