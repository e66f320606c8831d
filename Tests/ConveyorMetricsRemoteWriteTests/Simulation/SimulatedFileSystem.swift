import Synchronization

@testable import ConveyorMetricsRemoteWrite

/// An in-memory ``DiskFileSystem`` for deterministic simulations of the disk queue: it fills
/// up, fails calls at random, tears writes, crashes the process and loses power.
///
/// Each file (node) has the bytes readers see (`current`, the page cache) and the bytes that
/// survive a power loss (`durable`, set by `sync()`). A directory entry created or removed
/// since the last `syncDirectory` of its directory is volatile: a power loss undoes it.
/// Directories themselves are always durable. Errors carry the reasons ``PosixFile`` gives.
/// All randomness comes from one seeded ``SimulationRandom``; no result depends on the order
/// of a dictionary.
final class SimulatedFileSystem: DiskFileSystem, @unchecked Sendable {
    /// Per-call probabilities of injected failures (0 never, 1 always).
    struct Faults: Sendable {
        /// `append`/`overwrite` write a random prefix (0…count-1 bytes), then fail with EIO.
        var writeError = 0.0
        /// `read`/`readAll` fail with EIO.
        var readError = 0.0
        /// `sync` and `syncDirectory` fail with EIO and make nothing durable.
        var syncError = 0.0
        /// `open` fails with EIO.
        var openError = 0.0
    }

    /// What a ``SimulatedFile`` refers to: a node, and the process generation that opened it.
    struct Handle: Sendable {
        let id: Int
        let node: Int
        let generation: Int
        let readable: Bool
        let writable: Bool
        /// Opened `.createAppend`: every write goes to the end (as O_APPEND, even `overwrite`).
        let appends: Bool
    }

    /// One inode: what readers see, and what survives a power loss.
    struct Node: Sendable {
        var current: [UInt8] = []
        var durable: [UInt8] = []
    }

    fileprivate let state: Mutex<State>

    /// An empty file system (only `/` and `.` exist) drawing its faults from `seed`.
    init(seed: UInt64, capacityBytes: Int = .max) {
        state = Mutex(State(seed: seed, capacityBytes: capacityBytes))
    }

    // MARK: - Control

    /// The fault probabilities, read at each call (settable between steps).
    var faults: Faults {
        get { state.withLock { $0.faults } }
        set { state.withLock { $0.faults = newValue } }
    }

    /// The most bytes all files may hold (the sum of their `current` sizes).
    var capacityBytes: Int {
        get { state.withLock { $0.capacityBytes } }
        set { state.withLock { $0.capacityBytes = newValue } }
    }

    /// While set, writes, creations, truncations and removals fail (EROFS), as does opening
    /// for writing; reads still work.
    var readOnly: Bool {
        get { state.withLock { $0.readOnly } }
        set { state.withLock { $0.readOnly = newValue } }
    }

    /// The process crashes at the `n`-th protocol call from now (counting file calls too): a
    /// write applies a random prefix of its bytes (possibly all), then it and every later call
    /// fail with "process crashed" and change nothing.
    func scheduleCrash(afterCalls n: Int) {
        state.withLock { $0.crashAt = $0.calls + max(1, n) }
    }

    /// Forgets a crash scheduled that has not happened yet.
    func cancelScheduledCrash() {
        state.withLock { $0.crashAt = nil }
    }

    /// True from the crashing call until `restartAfterCrash`.
    var crashed: Bool { state.withLock { $0.crashed } }

    /// Protocol calls made so far (including failed ones).
    var calls: Int { state.withLock { $0.calls } }

    /// Starts a new process: clears `crashed` and a scheduled crash, drops every lock and
    /// invalidates every handle opened before. With `powerLoss`, every file returns to its
    /// durable bytes and volatile directory entries are undone; without it (`kill -9`) the
    /// page cache survives.
    func restartAfterCrash(powerLoss: Bool) {
        state.withLock { $0.restart(powerLoss: powerLoss) }
    }

    // MARK: - Observers (not counted as calls, never failing)

    /// The current size of the file at `path`; nil when there is none.
    func size(_ path: String) -> Int? { bytes(path)?.count }

    /// The current bytes (what a reader sees) of the file at `path`.
    func bytes(_ path: String) -> [UInt8]? { state.withLock { $0.bytes(path, durable: false) } }

    /// The bytes of the file at `path` that a power loss now would leave (nil: it would vanish).
    func durableBytes(_ path: String) -> [UInt8]? { state.withLock { $0.bytes(path, durable: true) } }

    /// The summed current sizes of the files directly in `directory` whose name ends with `suffix`.
    func totalBytes(under directory: String, suffix: String) -> Int {
        state.withLock { $0.totalBytes(under: directory, suffix: suffix) }
    }

    /// The bytes counted against `capacityBytes` (files, and removed files still open).
    var usedBytes: Int { state.withLock { $0.usedBytes } }

    // MARK: - DiskFileSystem

    /// Creates `path` and its parents; no ownership or permission checks.
    func prepareDirectory(_ path: String) throws(DiskQueueError) {
        try locked { (state: inout State) throws(DiskQueueError) in
            try state.prepareDirectory(path)
        }
    }

    /// The names directly in `path`, sorted.
    func entries(_ path: String) throws(DiskQueueError) -> [String] {
        try locked { (state: inout State) throws(DiskQueueError) in
            try state.entries(path)
        }
    }

    func open(_ path: String, mode: DiskFileMode) throws(DiskQueueError) -> any DiskFile {
        let handle = try locked { (state: inout State) throws(DiskQueueError) in
            try state.open(path, mode: mode)
        }
        return SimulatedFile(path: path, fileSystem: self, handle: handle)
    }

    /// Unlinks the file; open handles keep its node (as an unlinked inode) until they close.
    func remove(_ path: String) {
        state.withLock { $0.remove(path) }
    }

    func exists(_ path: String) -> Bool {
        state.withLock { $0.exists(path) }
    }

    /// Makes the directory's current entries durable (unless a sync fault hits).
    func syncDirectory(_ path: String) throws(DiskQueueError) {
        let synced = state.withLock { $0.syncDirectory(path) }
        if !synced { throw DiskQueueError(path: path, reason: "fsync failed: Input/output error") }
    }

    /// Runs `body` on the state under the lock.
    fileprivate func locked<T: Sendable>(_ body: (inout State) throws(DiskQueueError) -> T)
        throws(DiskQueueError) -> T
    {
        try state.withLock { (state: inout State) throws(DiskQueueError) -> T in try body(&state) }
    }
}

/// A descriptor of ``SimulatedFileSystem``: one node, opened by one process generation. After
/// `remove` it keeps working on its node (an unlinked inode); after `restartAfterCrash` every
/// call fails (EBADF). Releasing it closes it (and releases its lock).
final class SimulatedFile: DiskFile, @unchecked Sendable {
    let path: String
    private let fileSystem: SimulatedFileSystem
    private let handle: SimulatedFileSystem.Handle
    private typealias State = SimulatedFileSystem.State

    fileprivate init(path: String, fileSystem: SimulatedFileSystem, handle: SimulatedFileSystem.Handle) {
        self.path = path
        self.fileSystem = fileSystem
        self.handle = handle
    }

    deinit { fileSystem.state.withLock { $0.close(handle) } }

    /// Writes at the end; on failure a prefix may have been written.
    func append(_ bytes: [UInt8]) throws(DiskQueueError) {
        try fileSystem.locked { (state: inout State) throws(DiskQueueError) in
            try state.write(handle, path, bytes, at: nil)
        }
    }

    func overwrite(_ bytes: [UInt8], at offset: Int64) throws(DiskQueueError) {
        try fileSystem.locked { (state: inout State) throws(DiskQueueError) in
            try state.write(handle, path, bytes, at: offset)
        }
    }

    func read(count: Int, at offset: Int64) throws(DiskQueueError) -> [UInt8] {
        try fileSystem.locked { (state: inout State) throws(DiskQueueError) in
            try state.read(handle, path, count: count, at: offset)
        }
    }

    func readAll() throws(DiskQueueError) -> [UInt8] {
        try fileSystem.locked { (state: inout State) throws(DiskQueueError) in
            try state.read(handle, path, count: nil, at: 0)
        }
    }

    /// Cuts or extends (with zeros, needing no space, as a sparse file) the file.
    func truncate(to length: Int64) throws(DiskQueueError) {
        try fileSystem.locked { (state: inout State) throws(DiskQueueError) in
            try state.truncate(handle, path, to: length)
        }
    }

    /// Makes the node's current bytes its durable bytes.
    func sync() throws(DiskQueueError) {
        try fileSystem.locked { (state: inout State) throws(DiskQueueError) in
            try state.sync(handle, path)
        }
    }

    /// False when another live handle of the same node holds the lock (as flock).
    func tryLock() -> Bool { fileSystem.state.withLock { $0.tryLock(handle, path) } }

    func unlock() { fileSystem.state.withLock { $0.unlock(handle, path) } }
}

/// Path arithmetic, on strings only (there are no links).
extension SimulatedFileSystem.State {
    /// `path` without repeated or trailing `/`; `.` for an empty relative path.
    static func normalize(_ path: String) -> String {
        let joined = path.split(separator: "/").joined(separator: "/")
        if path.hasPrefix("/") { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }

    /// The directory of a normalized path.
    static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The last component of a normalized path.
    static func name(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}
