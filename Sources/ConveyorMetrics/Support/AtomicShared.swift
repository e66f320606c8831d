import Synchronization

extension Atomic where Value: AtomicRepresentable & Sendable {
    /// An atomic on the heap, so it can live in a dictionary or be shared by closures.
    package final class Shared: Sendable {
        package let value: Atomic<Value>
        package init(_ initial: Value) { value = Atomic(initial) }
    }
}
