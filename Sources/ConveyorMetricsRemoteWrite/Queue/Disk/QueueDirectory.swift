import ConveyorMetrics

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Directory operations of the disk queue.
enum QueueDirectory {
    /// Creates `path` and its parents (mode 0700); fails with a clear reason when it cannot,
    /// or when the queue's own directory is not one this process alone controls: a symbolic
    /// link, owned by another user, or writable by group or others (as ssh refuses loose key
    /// permissions). Anyone who can write there could plant links or records.
    static func prepare(_ path: String) throws(DiskQueueError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o700) != 0 && errno != EEXIST {
                throw .system(prefix, "cannot create directory")
            }
        }
        var info = stat()
        guard lstat(path, &info) == 0 else { throw .system(path, "cannot create directory") }
        if info.st_mode & S_IFMT == S_IFLNK {
            throw DiskQueueError(path: path, reason: "is a symbolic link; the queue needs a directory of its own")
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw DiskQueueError(path: path, reason: "not a directory")
        }
        guard info.st_uid == geteuid() else {
            throw DiskQueueError(
                path: path, reason: "owned by uid \(info.st_uid), not by this process's user (uid \(geteuid()))")
        }
        let mode = info.st_mode & 0o777
        guard mode & (S_IWGRP | S_IWOTH) == 0 else {
            throw DiskQueueError(
                path: path,
                reason: "writable by group or others (mode 0\(String(mode, radix: 8))); chmod go-w it, or use 0700")
        }
        guard access(path, W_OK | X_OK) == 0 else { throw .system(path, "not writable") }
    }

    /// The names of the entries of `path` (without `.` and `..`).
    static func entries(_ path: String) throws(DiskQueueError) -> [String] {
        guard let names = DirectoryListing.names(path) else { throw .system(path, "cannot list directory") }
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
