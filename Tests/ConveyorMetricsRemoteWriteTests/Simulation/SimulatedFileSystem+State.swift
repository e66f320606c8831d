@testable import ConveyorMetricsRemoteWrite

/// The model behind ``SimulatedFileSystem``'s lock: nodes (inodes), the directory entries the
/// process sees and those that are durable, open handles, locks, and the crash counter.
extension SimulatedFileSystem {
    /// Everything behind the lock. Each protocol call is one mutating method.
    struct State: Sendable {
        var random: SimulationRandom
        var faults = Faults()
        var capacityBytes: Int
        var readOnly = false
        var nodes: [Int: Node] = [:]
        /// Path → node: the directory entries the process sees.
        var files: [String: Int] = [:]
        /// Path → node: the entries as of the last `syncDirectory` of their directory.
        var durableFiles: [String: Int] = [:]
        var directories: Set<String> = ["/", "."]
        /// Node → its open handles (of the current generation).
        var openHandles: [Int: Int] = [:]
        /// Node → the handle holding its lock.
        var locks: [Int: Int] = [:]
        var nextID = 1
        var generation = 0
        var calls = 0
        var crashAt: Int?
        var crashed = false

        init(seed: UInt64, capacityBytes: Int) {
            random = SimulationRandom(seed: seed)
            self.capacityBytes = capacityBytes
        }

        static let ioFailure = "Input/output error"
        static let noEntry = "No such file or directory"
        static let fileExists = "File exists"
        static let noSpace = "No space left on device"
        static let readOnlyFS = "Read-only file system"
        static let badDescriptor = "Bad file descriptor"
        static let isDirectory = "Is a directory"
        static let notDirectory = "Not a directory"
        static let invalid = "Invalid argument"

        /// The error ``PosixFile`` would give, e.g. `write failed: No space left on device`.
        static func failure(_ path: String, _ action: String, _ cause: String) -> DiskQueueError {
            DiskQueueError(path: path, reason: "\(action): \(cause)")
        }

        static func crash(_ path: String) -> DiskQueueError { DiskQueueError(path: path, reason: "process crashed") }

        /// Bytes of the nodes that a path or an open handle refers to.
        var usedBytes: Int {
            var live = Set(files.values)
            live.formUnion(openHandles.keys)
            return live.reduce(0) { $0 + (nodes[$1]?.current.count ?? 0) }
        }

        mutating func newID() -> Int {
            nextID += 1
            return nextID - 1
        }

        /// Counts a call and fails it once crashed; true when this call is the crashing one.
        mutating func enter(_ path: String) throws(DiskQueueError) -> Bool {
            calls += 1
            if crashed { throw Self.crash(path) }
            guard calls == crashAt else { return false }
            crashed = true
            crashAt = nil
            return true
        }

        /// Counts a call of one that cannot throw; false when crashed or crashing.
        mutating func enterQuietly(_ path: String) -> Bool { (try? enter(path)) == false }

        mutating func prepareDirectory(_ given: String) throws(DiskQueueError) {
            if try enter(given) { throw Self.crash(given) }
            let path = Self.normalize(given)
            var prefix = ""
            for component in path.split(separator: "/") {
                prefix = prefix.isEmpty && !path.hasPrefix("/") ? String(component) : prefix + "/" + String(component)
                if directories.contains(prefix) { continue }
                if files[prefix] != nil {
                    guard prefix != path else {
                        throw DiskQueueError(path: given, reason: "not a directory", kind: .configuration)
                    }
                    continue  // creating the next component fails
                }
                let parent = Self.parent(prefix)
                guard directories.contains(parent) else {
                    let cause = files[parent] == nil ? Self.noEntry : Self.notDirectory
                    throw Self.failure(prefix, "cannot create directory", cause)
                }
                if readOnly { throw Self.failure(prefix, "cannot create directory", Self.readOnlyFS) }
                directories.insert(prefix)
            }
            if readOnly { throw Self.failure(given, "not writable", Self.readOnlyFS) }
        }

        mutating func entries(_ given: String) throws(DiskQueueError) -> [String] {
            if try enter(given) { throw Self.crash(given) }
            let path = Self.normalize(given)
            guard directories.contains(path) else {
                let cause = files[path] == nil ? Self.noEntry : Self.notDirectory
                throw Self.failure(given, "cannot list directory", cause)
            }
            var names: [String] = files.keys.filter { Self.parent($0) == path }
            names += directories.filter { $0 != path && Self.parent($0) == path }
            return names.map { Self.name($0) }.sorted()
        }

        mutating func open(_ given: String, mode: DiskFileMode) throws(DiskQueueError) -> Handle {
            if try enter(given) { throw Self.crash(given) }
            let path = Self.normalize(given)
            let action = "cannot open"
            if random.chance(faults.openError) { throw Self.failure(given, action, Self.ioFailure) }
            let writable = mode != .read
            let exclusive = mode == .createAppend  // O_WRONLY | O_CREAT | O_EXCL | O_APPEND
            let creates = exclusive || mode == .createReadWrite
            let existing = files[path]
            if exclusive && (existing != nil || directories.contains(path)) {
                throw Self.failure(given, action, Self.fileExists)
            }
            if directories.contains(path) { throw Self.failure(given, action, Self.isDirectory) }
            if existing == nil && !creates { throw Self.failure(given, action, Self.noEntry) }
            if writable && readOnly { throw Self.failure(given, action, Self.readOnlyFS) }
            let node: Int
            if let existing {
                node = existing
            } else {
                guard directories.contains(Self.parent(path)) else {
                    throw Self.failure(given, action, Self.noEntry)
                }
                node = newID()
                nodes[node] = Node()
                files[path] = node
            }
            openHandles[node, default: 0] += 1
            return Handle(
                id: newID(), node: node, generation: generation, readable: !exclusive, writable: writable,
                appends: exclusive)
        }

        mutating func remove(_ given: String) {
            guard enterQuietly(given), !readOnly else { return }
            files[Self.normalize(given)] = nil
            collect()
        }

        mutating func exists(_ given: String) -> Bool {
            guard enterQuietly(given) else { return false }
            let path = Self.normalize(given)
            return files[path] != nil || directories.contains(path)
        }

        /// False when the sync failed (a fault, a crash, no such directory).
        mutating func syncDirectory(_ given: String) -> Bool {
            let path = Self.normalize(given)
            guard enterQuietly(given), directories.contains(path), !random.chance(faults.syncError) else {
                return false
            }
            durableFiles = durableFiles.filter { Self.parent($0.key) != path }
            for (file, node) in files where Self.parent(file) == path {
                durableFiles[file] = node
            }
            collect()
            return true
        }

        /// Appends (`offset` nil, or an append handle) or overwrites: the whole of `bytes`, or
        /// the prefix that a crash, a write fault or the capacity leaves.
        mutating func write(_ handle: Handle, _ given: String, _ bytes: [UInt8], at offset: Int64?)
            throws(DiskQueueError)
        {
            let crashing = try enter(given)
            let action = "write failed"
            let refusal: String? =
                handle.generation != generation || !handle.writable || nodes[handle.node] == nil
                ? Self.badDescriptor : readOnly ? Self.readOnlyFS : (offset ?? 0) < 0 ? Self.invalid : nil
            if let refusal { throw crashing ? Self.crash(given) : Self.failure(given, action, refusal) }
            var count = bytes.count
            var fault: String?
            if crashing {
                count = random.int(in: 0...bytes.count)
            } else if !bytes.isEmpty && random.chance(faults.writeError) {
                count = random.int(in: 0...(bytes.count - 1))
                fault = Self.ioFailure
            }
            let size = nodes[handle.node]?.current.count ?? 0
            let start = offset == nil || handle.appends ? size : Int(offset ?? 0)
            let free = max(0, capacityBytes - usedBytes)
            let room = free > Int.max - size ? Int.max : size + free
            let written = max(0, min(count, room - start))
            if written > 0 {
                let end = start + written
                if end > size {
                    nodes[handle.node]?.current.append(contentsOf: repeatElement(0, count: end - size))
                }
                nodes[handle.node]?.current.replaceSubrange(start..<end, with: bytes[0..<written])
            }
            if crashing { throw Self.crash(given) }
            if let fault { throw Self.failure(given, action, fault) }
            if written < count { throw Self.failure(given, action, Self.noSpace) }
        }

        /// `count` bytes at `offset` (fewer at the end), or all bytes when `count` is nil.
        mutating func read(_ handle: Handle, _ given: String, count: Int?, at offset: Int64)
            throws(DiskQueueError) -> [UInt8]
        {
            if try enter(given) { throw Self.crash(given) }
            let action = "read failed"
            guard handle.generation == generation, handle.readable, let node = nodes[handle.node] else {
                throw Self.failure(given, action, Self.badDescriptor)
            }
            guard offset >= 0, (count ?? 0) >= 0 else { throw Self.failure(given, action, Self.invalid) }
            if random.chance(faults.readError) { throw Self.failure(given, action, Self.ioFailure) }
            let bytes = node.current
            let start = min(Int(offset), bytes.count)
            let end = count.map { $0 >= bytes.count - start ? bytes.count : start + $0 } ?? bytes.count
            return Array(bytes[start..<end])
        }

        mutating func truncate(_ handle: Handle, _ given: String, to length: Int64) throws(DiskQueueError) {
            if try enter(given) { throw Self.crash(given) }
            let action = "truncate failed"
            guard handle.generation == generation, let size = nodes[handle.node]?.current.count else {
                throw Self.failure(given, action, Self.badDescriptor)
            }
            guard handle.writable, length >= 0 else { throw Self.failure(given, action, Self.invalid) }
            if readOnly { throw Self.failure(given, action, Self.readOnlyFS) }
            let target = Int(length)
            if target < size {
                nodes[handle.node]?.current.removeLast(size - target)
            } else {
                nodes[handle.node]?.current.append(contentsOf: repeatElement(0, count: target - size))
            }
        }

        mutating func sync(_ handle: Handle, _ given: String) throws(DiskQueueError) {
            if try enter(given) { throw Self.crash(given) }
            guard handle.generation == generation, let node = nodes[handle.node] else {
                throw Self.failure(given, "fsync failed", Self.badDescriptor)
            }
            if random.chance(faults.syncError) { throw Self.failure(given, "fsync failed", Self.ioFailure) }
            nodes[handle.node]?.durable = node.current
        }

        mutating func tryLock(_ handle: Handle, _ given: String) -> Bool {
            guard enterQuietly(given), handle.generation == generation else { return false }
            if let holder = locks[handle.node], holder != handle.id { return false }
            locks[handle.node] = handle.id
            return true
        }

        mutating func unlock(_ handle: Handle, _ given: String) {
            guard enterQuietly(given), handle.generation == generation, locks[handle.node] == handle.id else { return }
            locks[handle.node] = nil
        }

        /// A handle was released (not a counted call): drops its lock, and its node when
        /// nothing refers to it any more.
        mutating func close(_ handle: Handle) {
            guard handle.generation == generation else { return }
            if locks[handle.node] == handle.id { locks[handle.node] = nil }
            let remaining = (openHandles[handle.node] ?? 0) - 1
            openHandles[handle.node] = remaining > 0 ? remaining : nil
            collect()
        }

        mutating func restart(powerLoss: Bool) {
            crashed = false
            crashAt = nil
            generation += 1
            openHandles = [:]
            locks = [:]
            if powerLoss {
                files = durableFiles
                nodes = nodes.mapValues { Node(current: $0.durable, durable: $0.durable) }
            }
            collect()
        }

        /// Drops nodes that no path, durable entry or open handle refers to.
        mutating func collect() {
            var kept = Set(files.values)
            kept.formUnion(durableFiles.values)
            kept.formUnion(openHandles.keys)
            nodes = nodes.filter { kept.contains($0.key) }
            locks = locks.filter { kept.contains($0.key) }
        }

        // MARK: Observers

        /// The current (or durable) bytes of the file at `given`.
        func bytes(_ given: String, durable: Bool) -> [UInt8]? {
            let path = Self.normalize(given)
            guard let node = (durable ? durableFiles : files)[path] else { return nil }
            return durable ? nodes[node]?.durable : nodes[node]?.current
        }

        func totalBytes(under directory: String, suffix: String) -> Int {
            let directory = Self.normalize(directory)
            var total = 0
            for (path, node) in files where Self.parent(path) == directory && Self.name(path).hasSuffix(suffix) {
                total += nodes[node]?.current.count ?? 0
            }
            return total
        }
    }
}
