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

    /// `.configuration`: the directory is not one the queue may use (a link, another owner,
    /// loose permissions, locked by another process), which stops start-up. `.io`: a call
    /// failed (full, read-only, failing disk), which degrades the target to memory.
    package var kind: Kind = .io

    package enum Kind: Sendable { case io, configuration }

    package init(path: String, reason: String, kind: Kind = .io) {
        self.path = path
        self.reason = reason
        self.kind = kind
    }

    package var description: String { "\(path): \(reason)" }

    static func configuration(_ path: String, _ reason: String) -> DiskQueueError {
        DiskQueueError(path: path, reason: reason, kind: .configuration)
    }

    /// A failed system call. Permissions, a planted link, a path through a regular file or
    /// to nowhere are `.configuration` problems an operator must fix; anything else (a full,
    /// read-only or failing disk, a lack of descriptors or memory) is `.io`.
    static func system(_ path: String, _ action: String, errno code: Int32 = errno) -> DiskQueueError {
        let operators: Set<Int32> = [EACCES, EPERM, ENOTDIR, ELOOP, EISDIR, ENAMETOOLONG, ENOENT, EEXIST]
        return DiskQueueError(
            path: path, reason: "\(action): \(String(cString: strerror(code)))",
            kind: operators.contains(code) ? .configuration : .io)
    }
}
