import ConveyorMetrics

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The real file system (POSIX calls).
struct PosixFileSystem: DiskFileSystem {
    /// Creates `path` and its parents (mode 0700); fails with a clear reason when it cannot,
    /// or when the queue's own directory is not one this process alone controls: a symbolic
    /// link, owned by another user, or writable by group or others (as ssh refuses loose key
    /// permissions). Anyone who can write there could plant links or records.
    func prepareDirectory(_ path: String) throws(DiskQueueError) {
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
            throw .configuration(path, "is a symbolic link; the queue needs a directory of its own")
        }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw .configuration(path, "not a directory") }
        guard info.st_uid == geteuid() else {
            throw .configuration(path, "owned by uid \(info.st_uid), not by this process's user (uid \(geteuid()))")
        }
        let mode = info.st_mode & 0o777
        guard mode & (S_IWGRP | S_IWOTH) == 0 else {
            throw .configuration(
                path, "writable by group or others (mode 0\(String(mode, radix: 8))); chmod go-w it, or use 0700")
        }
        guard access(path, W_OK | X_OK) == 0 else { throw .system(path, "not writable") }
    }

    func entries(_ path: String) throws(DiskQueueError) -> [String] {
        guard let names = DirectoryListing.names(path) else { throw .system(path, "cannot list directory") }
        return names
    }

    func open(_ path: String, mode: DiskFileMode) throws(DiskQueueError) -> any DiskFile {
        try PosixFile(path: path, mode: mode)
    }

    func remove(_ path: String) { unlink(path) }

    func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    func syncDirectory(_ path: String) throws(DiskQueueError) {
        let descriptor = openDirectory(path)
        guard descriptor >= 0 else { throw .system(path, "cannot open directory") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw .system(path, "fsync failed") }
    }
}

private func openDirectory(_ path: String) -> Int32 {
    open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
}
