import ConveyorMetrics

/// Segment files: `<20-digit sequence>.seg` in the queue's directory, in append order.
enum SegmentFile {
    static func path(_ directory: String, _ sequence: UInt64) -> String {
        let digits = String(sequence)
        return directory + "/" + String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".seg"
    }

    /// The sequence numbers of the segments in `directory`, oldest first.
    static func sequences(in directory: String) throws(DiskQueueError) -> [UInt64] {
        try QueueDirectory.entries(directory).compactMap { name -> UInt64? in
            guard name.hasSuffix(".seg"), name.utf8.count == 24 else { return nil }
            return UInt64(name.dropLast(4))
        }.sorted()
    }

    /// A new, empty segment (its magic written), open for appends.
    static func create(_ directory: String, sequence: UInt64) throws(DiskQueueError) -> PosixFile {
        let file = try PosixFile(path: path(directory, sequence), mode: .createAppend)
        try file.append(DiskRecord.magic)
        return file
    }
}
