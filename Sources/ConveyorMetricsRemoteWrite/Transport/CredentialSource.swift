import ConveyorMetrics

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A password or token read from a file and read again when the file changes, as Prometheus
/// re-reads `password_file` and `credentials_file`: a rotated secret is used by the next
/// request, without a restart. A file that becomes unreadable keeps the last good value.
///
/// Used only on the target's sender thread (a `stat` per request; a read only on change).
final class CredentialSource {
    let path: String
    let setting: String
    private(set) var value: String
    private var identity: Identity?
    private var failing = false

    /// What tells a changed file: inode, size, modification and change times.
    private struct Identity: Equatable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modified: Int64
        var changed: Int64
    }

    /// What a refresh found.
    enum Refresh: Equatable {
        case unchanged
        /// The file changed and its new content is in ``value``.
        case rotated
        /// The file could not be read (the first time since it last could); ``value`` keeps
        /// the last good secret. The reason names the setting and path, never the secret.
        case failed(String)
    }

    /// Reads the file once; a file that cannot be read is a setup error naming the setting.
    init(path: String, setting: String) throws(CurlTransport.SetupError) {
        self.path = path
        self.setting = setting
        guard let identity = Self.identity(of: path), let value = Self.read(path) else {
            throw CurlTransport.SetupError(description: "\(setting): cannot read '\(path)'")
        }
        self.identity = identity
        self.value = value
    }

    /// Reads the file again if it changed since the last read.
    func refresh() -> Refresh {
        guard let current = Self.identity(of: path), let fresh = current == identity ? value : Self.read(path) else {
            defer { failing = true }
            return failing ? .unchanged : .failed("\(setting): cannot read '\(path)'; keeping the last value read")
        }
        failing = false
        guard current != identity else { return .unchanged }
        identity = current
        guard fresh != value else { return .unchanged }
        value = fresh
        return .rotated
    }

    private static func identity(of path: String) -> Identity? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        #if canImport(Darwin)
            let modified = Int64(info.st_mtimespec.tv_sec) &* 1_000_000_000 &+ Int64(info.st_mtimespec.tv_nsec)
            let changed = Int64(info.st_ctimespec.tv_sec) &* 1_000_000_000 &+ Int64(info.st_ctimespec.tv_nsec)
        #else
            let modified = Int64(info.st_mtim.tv_sec) &* 1_000_000_000 &+ Int64(info.st_mtim.tv_nsec)
            let changed = Int64(info.st_ctim.tv_sec) &* 1_000_000_000 &+ Int64(info.st_ctim.tv_nsec)
        #endif
        return Identity(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size), modified: modified,
            changed: changed)
    }

    /// The file's content with trailing line ends removed (at most 64 KiB), or nil.
    static func read(_ path: String) -> String? {
        guard var bytes = SmallFile.contents(path) else { return nil }
        while let last = bytes.last, last == 10 || last == 13 { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }
}
