import ConveyorMetrics

/// Builds a chunk's series list, reusing the previous list (no copy, no retains) as long
/// as the new one matches it element by element.
struct OrderBuilder {
    private let previous: [RemoteSeries]
    private var matched = 0
    private var diverged: [RemoteSeries]?

    init(previous: [RemoteSeries]) { self.previous = previous }

    @inline(__always)
    mutating func append(_ series: RemoteSeries) {
        if diverged == nil {
            if matched < previous.count && previous[matched] === series {
                matched += 1
                return
            }
            var copy = Array(previous.prefix(matched))
            copy.reserveCapacity(previous.count + 16)
            diverged = copy
        }
        diverged?.append(series)
    }

    func finish() -> [RemoteSeries] {
        if let diverged { return diverged }
        return matched == previous.count ? previous : Array(previous.prefix(matched))
    }
}
