import ConveyorMetricsTestSupport
import CoreMetrics
import Metrics
import Testing

@testable import ConveyorMetrics

@Suite("swift-metrics factory")
struct MetricsFactoryTests {
    @Test func counterGetsAValidNameAndTotalSuffix() {
        let registry = MetricsRegistry()
        let counter = Counter(label: "http.requests", dimensions: [("method", "GET")], factory: registry)
        counter.increment(by: 3)
        let text = registry.exposition(format: .prometheusText)
        #expect(text.contains("# TYPE http_requests_total counter\n"))
        #expect(text.contains("http_requests_total{method=\"GET\"} 3\n"))
    }

    @Test func dimensionOrderDoesNotSplitSeries() {
        let registry = MetricsRegistry()
        Counter(label: "c", dimensions: [("b", "2"), ("a", "1")], factory: registry).increment()
        Counter(label: "c", dimensions: [("a", "1"), ("b", "2")], factory: registry).increment()
        let family = registry.snapshot().family(named: "c_total")
        #expect(family?.series.count == 1)
        #expect(family?.series(["a": "1", "b": "2"])?.value == .counter(2))
    }

    @Test func floatingCounterMeterRecorderAndTimer() {
        let registry = MetricsRegistry()
        FloatingPointCounter(label: "bytes-sent", factory: registry).increment(by: 1.5)
        let meter = Meter(label: "queue.depth", factory: registry)
        meter.set(10)
        meter.increment(by: 2)
        meter.decrement(by: 5)
        Recorder(label: "last_size", aggregate: false, factory: registry).record(7)
        let sizes = Recorder(label: "payload_size", aggregate: true, factory: registry)
        sizes.record(0.2)
        sizes.record(3)
        Timer(label: "db.query", dimensions: [("table", "users")], factory: registry).recordMilliseconds(250)
        let snapshot = registry.snapshot()
        #expect(snapshot.family(named: "bytes_sent_total")?.series.first?.value == .counter(1.5))
        #expect(snapshot.family(named: "queue_depth")?.series.first?.value == .gauge(7))
        #expect(snapshot.family(named: "last_size")?.series.first?.value == .gauge(7))
        guard case .histogram(let recorded) = snapshot.family(named: "payload_size")?.series.first?.value,
            case .histogram(let timer) = snapshot.family(named: "db_query_seconds")?.series(["table": "users"])?.value
        else {
            Issue.record("histograms missing")
            return
        }
        #expect(recorded.count == 2)
        #expect(timer.sum == 0.25, "timers export seconds")
        #expect(snapshot.family(named: "db_query_seconds")?.type == .histogram)
    }

    @Test func destroyRemovesTheSeries() {
        let registry = MetricsRegistry()
        let counter = Counter(label: "gone", dimensions: [("k", "v")], factory: registry)
        counter.increment()
        #expect(registry.snapshot().family(named: "gone_total")?.series.count == 1)
        counter.destroy()
        #expect(registry.snapshot().family(named: "gone_total") == nil, "the series and its empty family go")
    }

    @Test func familiesForEverNewLabelsGoWithTheirLastSeries() {
        let registry = MetricsRegistry()
        let baseline = registry.familyCount
        for request in 0..<5_000 {
            let timer = registry.makeTimer(label: "route.\(request).latency", dimensions: [("status", "200")])
            timer.recordNanoseconds(1_000)
            let counter = registry.makeCounter(label: "route.\(request).calls", dimensions: [])
            counter.increment(by: 1)
            registry.destroyTimer(timer)
            registry.destroyCounter(counter)
        }
        #expect(registry.familyCount == baseline, "no empty family is left behind")
        // A family in use stays; one made again after its retirement is exported again.
        let kept = registry.makeCounter(label: "kept", dimensions: [("a", "1")])
        let gone = registry.makeCounter(label: "kept", dimensions: [("a", "2")])
        registry.destroyCounter(gone)
        kept.increment(by: 2)
        #expect(registry.snapshot().family(named: "kept_total")?.series.count == 1)
        registry.destroyCounter(kept)
        #expect(registry.snapshot().family(named: "kept_total") == nil)
        let again = registry.makeCounter(label: "kept", dimensions: [("a", "3")])
        again.increment(by: 5)
        #expect(registry.snapshot().family(named: "kept_total")?.series.first?.value.scalar == 5)
    }

    @Test func oddNamesAndBadValuesDoNotCrash() {
        let registry = MetricsRegistry()
        Counter(label: "9 weird/name!", dimensions: [("__bad", "x"), ("bad-dim", "y"), ("le", "z")], factory: registry)
            .increment(by: -5)
        Recorder(label: "nan.gauge", factory: registry).record(Double.nan)
        Timer(label: "negative", factory: registry).recordNanoseconds(-10)
        let snapshot = registry.snapshot()
        let weird = snapshot.family(named: "_9_weird_name__total")
        #expect(weird?.series.first?.labels.map(\.name) == ["_bad", "bad_dim", "le_"])
        #expect(registry.rejectedCount(.negativeIncrement) == 1)
        #expect(registry.rejectedCount(.notANumber) == 1)
    }

    @Test func typeConflictWithAnExistingFamilyIsCounted() {
        let registry = MetricsRegistry()
        registry.gaugeFamily(name: "shared_total", help: "a gauge").series().set(1)
        Counter(label: "shared", factory: registry).increment()
        #expect(registry.rejectedCount(.conflictingRegistration) == 1)
        #expect(registry.snapshot().family(named: "shared_total")?.type == .gauge)
    }
}

/// `MetricsSystem.bootstrap` may run once per process: this is the one test that does it.
@Suite("swift-metrics bootstrap")
struct MetricsBootstrapTests {
    @Test func bootstrappedCounterAppearsInTheDefaultExposition() {
        MetricsSystem.bootstrap(MetricsRegistry.default)
        Counter(label: "http.requests", dimensions: [("method", "GET")]).increment()
        let text = MetricsRegistry.default.exposition(format: .prometheusText)
        #expect(text.contains("http_requests_total{method=\"GET\"} 1\n"))
    }
}
