import CProtobufC

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A protobuf-c allocator that counts what one decode allocates and refuses (returns NULL,
/// which protobuf-c turns into a failed unpack) once `limit` would be passed. The second
/// line behind ``WriteRequestScan``: whatever the scan missed, a decode cannot allocate
/// more than the limit. Counts as the scan does: size plus
/// ``WriteRequestScan/allocationOverhead`` per allocation, never decreased by a free.
final class DecodeAllocationBudget {
    let limit: Int
    private(set) var allocated = 0
    private(set) var refused = false

    init(limit: Int) { self.limit = limit }

    /// Calls `body` with an allocator bound to this budget (valid only inside `body`).
    func withAllocator<Result>(_ body: (UnsafeMutablePointer<ProtobufCAllocator>) -> Result) -> Result {
        withExtendedLifetime(self) {
            var allocator = ProtobufCAllocator(
                alloc: { data, size in
                    guard let data else { return nil }
                    return Unmanaged<DecodeAllocationBudget>.fromOpaque(data).takeUnretainedValue().allocate(size)
                },
                free: { _, pointer in free(pointer) },
                allocator_data: Unmanaged.passUnretained(self).toOpaque())
            return body(&allocator)
        }
    }

    private func allocate(_ size: Int) -> UnsafeMutableRawPointer? {
        let (cost, overflow) = size.addingReportingOverflow(WriteRequestScan.allocationOverhead)
        guard !overflow, cost <= limit - allocated else {
            refused = true
            return nil
        }
        allocated += cost
        return malloc(max(size, 1))
    }
}
