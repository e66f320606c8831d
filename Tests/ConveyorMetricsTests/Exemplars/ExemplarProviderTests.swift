import ServiceContextModule
import Synchronization
import Testing

@testable import ConveyorMetrics

/// The registry's exemplar provider: a traced service gets `trace_id`/`span_id` from its
/// `ServiceContext` on every increment and observation, without passing them.
@Suite("Exemplar provider")
struct ExemplarProviderTests {
    static func registry(_ provider: ExemplarProvider?) -> MetricsRegistry {
        var configuration = MetricsRegistry.Configuration()
        configuration.exemplarProvider = provider
        return MetricsRegistry(configuration: configuration)
    }

    static func traced(trace: String, span: String?) -> ServiceContext {
        var context = ServiceContext.topLevel
        context.exemplarTraceID = trace
        context.exemplarSpanID = span
        return context
    }

    @Test func theServiceContextProviderReadsTraceAndSpanIDs() async throws {
        let registry = Self.registry(.serviceContext)
        let counter = registry.counterFamily(name: "jobs_total", help: "").series()
        let histogram = registry.histogramFamily(name: "wait_seconds", help: "", buckets: [1]).series()
        counter.increment()
        histogram.observe(0.5)
        #expect(counter.exemplars == nil && histogram.exemplars == nil, "no context, no exemplar")
        ServiceContext.withValue(Self.traced(trace: "4bf92f3577b34da6", span: "00f067aa0ba902b7")) {
            counter.increment(by: 3 as UInt64)
            histogram.observe(2)
        }
        let expected = [
            Label(name: "trace_id", value: "4bf92f3577b34da6"), Label(name: "span_id", value: "00f067aa0ba902b7"),
        ]
        #expect(counter.exemplars?.slot(0)?.labels == expected && counter.exemplars?.slot(0)?.value == 3)
        #expect(histogram.exemplars?.slot(1)?.labels == expected && histogram.exemplars?.slot(1)?.value == 2)
        // Across an await, in a task: the task-local context travels along.
        await ServiceContext.withValue(Self.traced(trace: "abc", span: nil)) {
            await Task { counter.increment(by: 1.5) }.value
        }
        #expect(counter.exemplars?.slot(0)?.labels == [Label(name: "trace_id", value: "abc")])
        #expect(counter.exemplars?.slot(0)?.value == 1.5)
        // Outside any context again: the latest stays.
        counter.increment()
        #expect(counter.exemplars?.slot(0)?.labels.first?.value == "abc")
        let text = registry.exposition(format: .openMetrics)
        #expect(text.contains("jobs_total 6.5 # {trace_id=\"abc\"} 1.5 "), "\(text)")
    }

    @Test func anExplicitExemplarWinsAndTheProviderIsAskedOnlyWithout() {
        final class Calls: Sendable { let count = Atomic<Int>(0) }
        let calls = Calls()
        let registry = Self.registry(
            ExemplarProvider {
                calls.count.add(1, ordering: .relaxed)
                return Exemplar(labels: [Label(name: "trace_id", value: "provided")])
            })
        let counter = registry.counterFamily(name: "jobs_total", help: "").series()
        counter.increment(by: 1, exemplar: Exemplar(labels: [Label(name: "trace_id", value: "explicit")]))
        #expect(calls.count.load(ordering: .relaxed) == 0)
        #expect(counter.exemplars?.slot(0)?.labels.first?.value == "explicit")
        counter.increment()
        counter.increment(by: 2 as Int64)
        counter.increment(by: -1 as Int64)  // rejected: not asked
        counter.increment(by: 0.5, exemplar: nil)
        #expect(calls.count.load(ordering: .relaxed) == 3)
        #expect(counter.exemplars?.slot(0)?.labels.first?.value == "provided")
        #expect(counter.exemplars?.slot(0)?.value == 0.5)
    }

    @Test func aCustomServiceContextMappingAndInvalidProvidedExemplarsAreCounted() {
        enum TracerKey: ServiceContextKey { typealias Value = UInt64 }
        let registry = Self.registry(
            .serviceContext { context in
                context[TracerKey.self].map { [Label(name: "trace_id", value: String($0, radix: 16))] }
            })
        let histogram = registry.histogramFamily(name: "h", help: "", buckets: [1]).series()
        var context = ServiceContext.topLevel
        context[TracerKey.self] = 0xBEEF
        ServiceContext.withValue(context) { histogram.observe(0.5) }
        #expect(histogram.exemplars?.slot(0)?.labels == [Label(name: "trace_id", value: "beef")])

        let broken = Self.registry(ExemplarProvider { Exemplar(labels: [Label(name: "no good", value: "")]) })
        broken.counterFamily(name: "c_total", help: "").series().increment()
        #expect(broken.rejectedCount(.invalidExemplar) == 1)
    }
}
