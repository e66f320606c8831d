import ConveyorMetrics
import Foundation

/// Reads a disk queue directory without opening the queue, as an operator's tool would:
/// what tests check after a `kill -9`.
enum DiskQueueInspector {
    /// The records of `directory` that are not acknowledged yet, oldest first.
    static func pendingRecords(in directory: String) throws -> [DiskRecord.Info] {
        let ackBytes = FileManager.default.contents(atPath: directory + "/" + AckPosition.fileName).map { [UInt8]($0) }
        let ack = ackBytes.flatMap { AckPosition(bytes: $0) } ?? AckPosition(segment: 0, offset: 0)
        var records: [DiskRecord.Info] = []
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".seg") }
        for name in names.sorted() {
            guard let sequence = UInt64(name.dropLast(4)), sequence >= ack.segment,
                let bytes = FileManager.default.contents(atPath: directory + "/" + name)
            else { continue }
            records += DiskRecord.scan([UInt8](bytes)).records.filter {
                sequence > ack.segment || $0.offset >= ack.offset
            }
        }
        return records
    }
}
