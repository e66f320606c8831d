import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Reading a child's output without Foundation's `readDataToEndOfFile()` / `availableData`,
/// which trap (`try!`) when `read` is interrupted by a signal (EINTR: a child exiting while
/// another test waits on its pipe), taking the whole test run down.
package enum PipeReading {
    /// Everything until end of file, retrying interrupted reads.
    package static func readToEnd(_ handle: FileHandle) -> Data {
        var data = Data()
        while let chunk = readSome(handle), !chunk.isEmpty { data.append(chunk) }
        return data
    }

    /// One read (what is available when the handle is readable); empty at end of file, nil
    /// on an error other than EINTR.
    package static func readSome(_ handle: FileHandle) -> Data? {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(handle.fileDescriptor, $0.baseAddress, $0.count) }
            if count >= 0 { return Data(buffer[0..<count]) }
            if errno != EINTR { return nil }
        }
    }
}
