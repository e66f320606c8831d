import ConveyorMetrics

/// The file-system calls of the disk queue, so a simulation can run the queue on a file
/// system that fills up, fails, tears writes and crashes (``PosixFileSystem`` in production).
///
/// Every call runs on a target's own threads, never on the Swift concurrency pool.
protocol DiskFileSystem: Sendable {
    /// Creates `path` and its parents (0700) and checks that this process alone controls it;
    /// a refusal is a ``DiskQueueError`` of kind `.configuration`.
    func prepareDirectory(_ path: String) throws(DiskQueueError)
    /// The names of the entries of `path`.
    func entries(_ path: String) throws(DiskQueueError) -> [String]
    func open(_ path: String, mode: DiskFileMode) throws(DiskQueueError) -> any DiskFile
    func remove(_ path: String)
    func exists(_ path: String) -> Bool
    /// Flushes the directory's entries (created or removed files) to stable storage.
    func syncDirectory(_ path: String) throws(DiskQueueError)
}

/// How a queue file is opened. A symbolic link is never followed; created files are 0600.
enum DiskFileMode {
    case read, readWrite, createReadWrite
    /// A new file (an existing one of that name is an error, never truncated); writes go
    /// to the end.
    case createAppend
}

/// An open file of the disk queue. Used by one thread at a time (under the queue's locks).
protocol DiskFile: AnyObject, Sendable {
    var path: String { get }
    /// Writes all of `bytes` at the end; on failure part of them may have been written.
    func append(_ bytes: [UInt8]) throws(DiskQueueError)
    /// Writes all of `bytes` at `offset`.
    func overwrite(_ bytes: [UInt8], at offset: Int64) throws(DiskQueueError)
    /// Reads `count` bytes at `offset`; fewer when the file ends first.
    func read(count: Int, at offset: Int64) throws(DiskQueueError) -> [UInt8]
    /// The whole file.
    func readAll() throws(DiskQueueError) -> [UInt8]
    func truncate(to length: Int64) throws(DiskQueueError)
    /// Flushes the file to stable storage.
    func sync() throws(DiskQueueError)
    /// Takes an exclusive advisory lock; false when another process holds it. (The real
    /// file system waits a moment for a holder that lets go at once: a child process being
    /// started, which holds a copy of the descriptor until its exec.)
    func tryLock() -> Bool
    func unlock()
}
