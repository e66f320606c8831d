import CRemoteWriteProto
import ConveyorMetrics

/// A growable block of C values whose addresses stay fixed between `reset`s: it is sized up
/// front for one request, so pointers handed to protobuf-c stay valid until packing is done.
struct Arena<Element> {
    private(set) var base: UnsafeMutablePointer<Element>?
    private var capacity = 0
    private(set) var count = 0

    mutating func reset(capacity needed: Int) {
        if needed > capacity {
            base?.deallocate()
            capacity = max(needed, capacity * 2, 16)
            base = .allocate(capacity: capacity)
        }
        count = 0
    }

    /// Appends one element, initialized by `initialize`, and returns its address.
    mutating func append(_ initialize: (UnsafeMutablePointer<Element>) -> Void) -> UnsafeMutablePointer<Element> {
        // reset(capacity:) sized the arena for this request, so count < capacity here.
        let pointer = base.unsafelyUnwrapped + count
        initialize(pointer)
        count += 1
        return pointer
    }

    func release() { base?.deallocate() }
}

extension Arena where Element == CChar {
    /// Copies `string` with a NUL terminator and returns its address.
    mutating func appendCString(_ string: String) -> UnsafeMutablePointer<CChar> {
        let start = base.unsafelyUnwrapped + count
        var offset = 0
        for byte in string.utf8 {
            start[offset] = CChar(bitPattern: byte)
            offset += 1
        }
        start[offset] = 0
        count += offset + 1
        return start
    }
}
