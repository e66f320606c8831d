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

    /// A failed system call. A full, read-only or failing disk (or a lack of descriptors or
    /// memory) is `.io`; anything else — permissions, a planted link, a path through a
    /// regular file — is a `.configuration` problem an operator must fix.
    static func system(_ path: String, _ action: String, errno code: Int32 = errno) -> DiskQueueError {
        let transient: Set<Int32> = [ENOSPC, EROFS, EIO, EDQUOT, ENOMEM, EMFILE, ENFILE, EINTR, EAGAIN, EBUSY]
        return DiskQueueError(
            path: path, reason: "\(action): \(String(cString: strerror(code)))",
            kind: transient.contains(code) ? .io : .configuration)
    }
}
