#if canImport(Glibc)
    import Glibc

    @_silgen_name("malloc_usable_size")
    private func mallocUsableSize(_ pointer: UnsafeMutableRawPointer?) -> Int

    /// The usable bytes of the heap block holding `object` (glibc's `malloc_usable_size`): a
    /// field more can move an object into the next block size, per object kept.
    package func heapBlockSize(of object: AnyObject) -> Int {
        mallocUsableSize(Unmanaged.passUnretained(object).toOpaque())
    }
#endif
