import ConveyorMetrics

/// Segment files: `<20-digit sequence>.seg` in the queue's directory, in append order.
enum SegmentFile {
    static func path(_ directory: String, _ sequence: UInt64) -> String {
        let digits = String(sequence)
        return directory + "/" + String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".seg"
    }

    /// The sequence numbers of the segments in `directory`, oldest first.
    static func sequences(in directory: String, _ fileSystem: any DiskFileSystem) throws(DiskQueueError) -> [UInt64] {
        try fileSystem.entries(directory).compactMap { name -> UInt64? in
            guard name.hasSuffix(".seg"), name.utf8.count == 24 else { return nil }
            return UInt64(name.dropLast(4))
        }.sorted()
    }

    /// A new, empty segment (its magic written), open for appends. A segment that could be
    /// created but not written is removed again.
    static func create(_ directory: String, sequence: UInt64, _ fileSystem: any DiskFileSystem)
        throws(DiskQueueError) -> any DiskFile
    {
        let path = path(directory, sequence)
        let file = try fileSystem.open(path, mode: .createAppend)
        do throws(DiskQueueError) {
            try file.append(DiskRecord.magic)
        } catch {
            fileSystem.remove(path)
            throw error
        }
        return file
    }
}
