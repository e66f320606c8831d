import ConveyorMetrics
import CoreMetrics

@testable import ConveyorMetricsRemoteWrite

/// The registry a simulation churns: series added, bumped, removed, destroyed and
/// re-created, with empty label values and label sets that collide once empty values are
/// dropped (`{zone=""}` and `{}`), across counters, gauges and histograms.
final class ChurnedRegistry {
    let registry = MetricsRegistry()
    private let routes: CounterFamily
    private let depth: GaugeFamily
    private let latency: HistogramFamily
    /// swift-metrics handles by slot (destroyed and re-created).
    private var handles: [Int: any CounterHandler] = [:]
    static let slots = 16

    init() {
        routes = registry.counterFamily(name: "sim_routed_total", help: "Routed", labelNames: ["route", "code"])
        depth = registry.gaugeFamily(name: "sim_depth", help: "Depth", labelNames: ["stage"])
        latency = registry.histogramFamily(
            name: "sim_latency_seconds", help: "Latency", labelNames: ["route"], buckets: [0.1, 1])
    }

    /// swift-metrics dimensions of slots 8…15: pairs that collide once empty values go.
    private static let dimensions: [[(String, String)]] = [
        [], [("zone", "")], [("zone", "eu")], [("worker", "w1")], [("worker", "w1"), ("zone", "")],
        [("worker", "")], [("worker", "w2")], [("zone", "us")],
    ]

    func bump(_ slot: Int, by amount: Int) {
        switch slot {
        case 0..<4: routes.series(["a", "", "b", "c"][slot], slot % 2 == 0 ? "200" : "").increment(by: UInt64(amount))
        case 4..<6: depth.series(["in", ""][slot - 4]).set(Double(amount))
        case 6..<8: latency.series(["a", ""][slot - 6]).observe(Double(amount) / 4)
        default: handle(slot).increment(by: Int64(amount))
        }
    }

    func remove(_ slot: Int) {
        switch slot {
        case 0..<4: _ = routes.remove([["a", "", "b", "c"][slot], slot % 2 == 0 ? "200" : ""])
        case 4..<6: _ = depth.remove([["in", ""][slot - 4]])
        case 6..<8: _ = latency.remove([["a", ""][slot - 6]])
        default:
            if let handle = handles.removeValue(forKey: slot) { registry.destroyCounter(handle) }
        }
    }

    /// Destroys and re-creates the series (same labels), then bumps it.
    func recreate(_ slot: Int) {
        remove(slot)
        bump(slot, by: 1)
    }

    private func handle(_ slot: Int) -> any CounterHandler {
        if let handle = handles[slot] { return handle }
        let made = registry.makeCounter(label: "sim_events_total", dimensions: Self.dimensions[slot - 8])
        handles[slot] = made
        return made
    }

    /// The series keys (as the receiver sees them) a snapshot holds, with the external labels.
    static func liveKeys(_ snapshot: MetricsSnapshot, external: [Label]) -> Set<String> {
        var keys: Set<String> = []
        for family in snapshot.families {
            for series in family.series {
                var own = series.labels.filter { !$0.value.isEmpty }
                for label in external where !own.contains(where: { $0.name == label.name }) { own.append(label) }
                func key(_ name: String, _ extra: Label? = nil) -> String {
                    var labels = own + [Label(name: "__name__", value: name)]
                    if let extra { labels.append(extra) }
                    return SimulatedReceiver.key(labels)
                }
                switch series.value {
                case .counter, .gauge: keys.insert(key(family.name))
                case .histogram(let histogram):
                    for bound in histogram.upperBounds {
                        keys.insert(
                            key(family.name + "_bucket", Label(name: "le", value: FloatFormatting.goStyle(bound))))
                    }
                    keys.insert(key(family.name + "_bucket", Label(name: "le", value: "+Inf")))
                    keys.insert(key(family.name + "_sum"))
                    keys.insert(key(family.name + "_count"))
                }
            }
        }
        return keys
    }
}
