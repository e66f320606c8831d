import ConveyorMetrics

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A file descriptor with the few calls the disk queue makes, each failing with the path.
/// Used only from the queue's own threads (never the Swift concurrency pool).
final class PosixFile: DiskFile {
    let path: String
    let descriptor: Int32

    /// Opens `path` (mode 0600 when created). A symbolic link is never followed.
    init(path: String, mode: DiskFileMode) throws(DiskQueueError) {
        let flags: Int32
        switch mode {
        case .read: flags = O_RDONLY
        case .readWrite: flags = O_RDWR
        case .createReadWrite: flags = O_RDWR | O_CREAT
        case .createAppend: flags = O_WRONLY | O_CREAT | O_EXCL | O_APPEND
        }
        let descriptor = open(path, flags | O_CLOEXEC | O_NOFOLLOW, 0o600)
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

    /// Takes an exclusive advisory lock; false when another process holds it.
    ///
    /// A child process that another thread is starting holds a copy of every descriptor,
    /// and with it any `flock` lock, until its exec closes the close-on-exec ones. So a lock
    /// released and taken again within one process (a queue reopened) can be found held for
    /// that moment: measured at up to 32 ms under load. A held lock is tried again for up to
    /// half a second before the directory counts as in use; any other failure is final.
    func tryLock() -> Bool {
        for _ in 0..<Self.lockAttempts {
            if flock(descriptor, LOCK_EX | LOCK_NB) == 0 { return true }
            guard errno == EWOULDBLOCK else { return false }
            usleep(2_000)
        }
        return flock(descriptor, LOCK_EX | LOCK_NB) == 0
    }

    /// How many times a held lock is tried again, 2 ms apart.
    static let lockAttempts = 250

    func unlock() {
        flock(descriptor, LOCK_UN)
    }
}
