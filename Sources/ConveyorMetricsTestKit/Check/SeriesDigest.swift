import ConveyorMetrics
import ConveyorMetricsRemoteWrite

/// A series' identity for the order check: 128 bits of its label bytes, so what the checker
/// remembers per series has a fixed size however long a peer makes its labels. Hashed with
/// the process's random seed (two differently salted passes), so a peer cannot aim two
/// label sets at one digest; two sets sharing one would only share their order check.
struct SeriesDigest: Hashable {
    let first: Int
    let second: Int

    init(_ labels: [Label]) {
        var first = Hasher()
        var second = Hasher()
        second.combine(0x5EED_0F_D16E57 as UInt64)
        for label in labels {
            first.combine(label.name)
            first.combine(label.value)
            second.combine(label.name)
            second.combine(label.value)
        }
        self.first = first.finalize()
        self.second = second.finalize()
    }
}
