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

/// A file descriptor with the few calls the disk queue makes, each failing with the path.
/// Used only from the queue's own threads (never the Swift concurrency pool).
struct PosixFile: ~Copyable {
    let path: String
    let descriptor: Int32

    enum Mode {
        case read, readWrite, createReadWrite
        /// Created empty (replacing a file of that name), writes go to the end.
        case createAppend

        var flags: Int32 {
            switch self {
            case .read: O_RDONLY
            case .readWrite: O_RDWR
            case .createReadWrite: O_RDWR | O_CREAT
            case .createAppend: O_WRONLY | O_CREAT | O_TRUNC | O_APPEND
            }
        }
    }

    /// Opens `path` (mode 0600 when created).
    init(path: String, mode: Mode) throws(DiskQueueError) {
        let descriptor = open(path, mode.flags | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .system(path, "cannot open") }
        self.path = path
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// Writes all of `bytes` at the end of the file (the file is opened with O_APPEND).
    func append(_ bytes: [UInt8]) throws(DiskQueueError) {
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                write(descriptor, buffer.baseAddress.map { $0 + written }, buffer.count - written)
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw .system(path, "write failed")
            }
            written += result
        }
    }

    /// Writes all of `bytes` at `offset`.
    func overwrite(_ bytes: [UInt8], at offset: Int64) throws(DiskQueueError) {
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                pwrite(
                    descriptor, buffer.baseAddress.map { $0 + written }, buffer.count - written,
                    off_t(offset) + off_t(written))
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw .system(path, "write failed")
            }
            written += result
        }
    }

    /// Reads `count` bytes at `offset`; fewer when the file ends first.
    func read(count: Int, at offset: Int64) throws(DiskQueueError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let result = bytes.withUnsafeMutableBytes { buffer in
                pread(descriptor, buffer.baseAddress.map { $0 + done }, count - done, off_t(offset) + off_t(done))
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw .system(path, "read failed")
            }
            if result == 0 { break }
            done += result
        }
        bytes.removeLast(count - done)
        return bytes
    }

    /// The whole file.
    func readAll() throws(DiskQueueError) -> [UInt8] {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw .system(path, "stat failed") }
        return try read(count: Int(info.st_size), at: 0)
    }

    func truncate(to length: Int64) throws(DiskQueueError) {
        guard ftruncate(descriptor, off_t(length)) == 0 else { throw .system(path, "truncate failed") }
    }

    /// Flushes the file to stable storage.
    func sync() throws(DiskQueueError) {
        guard fsync(descriptor) == 0 else { throw .system(path, "fsync failed") }
    }

    /// Takes an exclusive advisory lock without waiting; false when another process holds it.
    func tryLock() -> Bool {
        flock(descriptor, LOCK_EX | LOCK_NB) == 0
    }

    func unlock() {
        flock(descriptor, LOCK_UN)
    }
}

/// Directory operations of the disk queue.
enum QueueDirectory {
    /// Creates `path` and its parents (mode 0700); fails with a clear reason when it cannot,
    /// or when the directory is not writable.
    static func prepare(_ path: String) throws(DiskQueueError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o700) != 0 && errno != EEXIST {
                throw .system(prefix, "cannot create directory")
            }
        }
        var info = stat()
        guard stat(path, &info) == 0 else { throw .system(path, "cannot create directory") }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw DiskQueueError(path: path, reason: "not a directory")
        }
        guard access(path, W_OK | X_OK) == 0 else { throw .system(path, "not writable") }
    }

    /// The names of the entries of `path` (without `.` and `..`).
    static func entries(_ path: String) throws(DiskQueueError) -> [String] {
        guard let directory = opendir(path) else { throw .system(path, "cannot list directory") }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Flushes the directory's entries (a created or removed segment) to stable storage.
    static func sync(_ path: String) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        close(descriptor)
    }

    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    static func remove(_ path: String) {
        unlink(path)
    }
}
