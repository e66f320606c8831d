import ConveyorMetrics
import NIOCore
import Synchronization

/// Renders the registry for one scrape, sized by the previous scrape so the buffer is
/// allocated once at the right capacity; counts scrapes.
final class ScrapeRenderer: Sendable {
    let registry: MetricsRegistry
    private let lastSize = Atomic<Int>(16 * 1024)
    private let scrapes = Atomic<UInt64>(0)

    init(registry: MetricsRegistry) {
        self.registry = registry
    }

    func render(format: ExpositionFormat) -> ByteBuffer {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(lastSize.load(ordering: .relaxed) + 1024)
        registry.emit(into: &bytes, format: format)
        lastSize.store(bytes.count, ordering: .relaxed)
        scrapes.wrappingAdd(1, ordering: .relaxed)
        return ByteBuffer(bytes: bytes)
    }

    var scrapeCount: UInt64 { scrapes.load(ordering: .relaxed) }
}
