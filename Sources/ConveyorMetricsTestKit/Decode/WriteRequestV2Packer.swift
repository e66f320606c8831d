import CRemoteWriteProto
import ConveyorMetrics
import ConveyorMetricsRemoteWrite

/// Remote write 2.0 requests packed by protobuf-c (`io__prometheus__write__v2__request__pack`)
/// from Swift values: the fuzz target's seeds and the tests' round trips through an encoder
/// that is not ours. Labels go out in the order given (so tests can break the rules); the
/// symbol table is `""` followed by every other string once, in order of first use.
package struct WriteRequestV2Packer {
    package struct Series {
        package var labels: [Label]
        package var samples: [RemoteSample] = []
        package var histograms: [Histogram] = []
        package var exemplars: [Exemplar] = []
        package var metadata: Metadata?

        package init(
            labels: [Label], samples: [RemoteSample] = [], histograms: [Histogram] = [],
            exemplars: [Exemplar] = [], metadata: Metadata? = nil
        ) {
            self.labels = labels
            self.samples = samples
            self.histograms = histograms
            self.exemplars = exemplars
            self.metadata = metadata
        }
    }

    /// An integer native histogram (count, sum, schema, positive spans and deltas).
    package struct Histogram {
        package var count: UInt64
        package var sum: Double
        package var schema: Int32
        package var positiveSpans: [(offset: Int32, length: UInt32)]
        package var positiveDeltas: [Int64]
        package var timestampMilliseconds: Int64
        package var startTimestampMilliseconds: Int64 = 0

        package init(
            count: UInt64, sum: Double, schema: Int32, positiveSpans: [(offset: Int32, length: UInt32)],
            positiveDeltas: [Int64], timestampMilliseconds: Int64, startTimestampMilliseconds: Int64 = 0
        ) {
            self.count = count
            self.sum = sum
            self.schema = schema
            self.positiveSpans = positiveSpans
            self.positiveDeltas = positiveDeltas
            self.timestampMilliseconds = timestampMilliseconds
            self.startTimestampMilliseconds = startTimestampMilliseconds
        }
    }

    package struct Exemplar {
        package var labels: [Label]
        package var value: Double
        package var timestampMilliseconds: Int64

        package init(labels: [Label], value: Double, timestampMilliseconds: Int64) {
            self.labels = labels
            self.value = value
            self.timestampMilliseconds = timestampMilliseconds
        }
    }

    package struct Metadata {
        package var type: MetricType
        package var help: String
        package var unit: String

        package init(type: MetricType, help: String, unit: String = "") {
            self.type = type
            self.help = help
            self.unit = unit
        }
    }

    package var series: [Series]

    package init(series: [Series]) { self.series = series }

    /// The symbol table `pack()` writes.
    package var symbols: [String] {
        var table = SymbolTable()
        intern(into: &table)
        return table.strings
    }

    /// The request's protobuf bytes (uncompressed).
    package func pack() -> [UInt8] {
        let memory = CMemory()
        var table = SymbolTable()
        intern(into: &table)
        let timeSeries = memory.array(UnsafeMutablePointer<Io__Prometheus__Write__V2__TimeSeries>?.self, series.count)
        for (index, entry) in series.enumerated() {
            let packed = memory.new(Io__Prometheus__Write__V2__TimeSeries.self)
            io__prometheus__write__v2__time_series__init(packed)
            let refs = entry.labels.flatMap { [table.ref($0.name), table.ref($0.value)] }
            (packed.pointee.n_labels_refs, packed.pointee.labels_refs) = (refs.count, memory.copy(refs))
            let samples = memory.array(
                UnsafeMutablePointer<Io__Prometheus__Write__V2__Sample>?.self, entry.samples.count)
            for (position, sample) in entry.samples.enumerated() {
                let element = memory.new(Io__Prometheus__Write__V2__Sample.self)
                io__prometheus__write__v2__sample__init(element)
                element.pointee.value = sample.value
                element.pointee.timestamp = sample.timestampMilliseconds
                element.pointee.start_timestamp = sample.startTimestampMilliseconds
                samples[position] = element
            }
            (packed.pointee.n_samples, packed.pointee.samples) = (entry.samples.count, samples)
            let histograms = memory.array(
                UnsafeMutablePointer<Io__Prometheus__Write__V2__Histogram>?.self, entry.histograms.count)
            for (position, histogram) in entry.histograms.enumerated() {
                histograms[position] = Self.histogram(histogram, memory)
            }
            (packed.pointee.n_histograms, packed.pointee.histograms) = (entry.histograms.count, histograms)
            let exemplars = memory.array(
                UnsafeMutablePointer<Io__Prometheus__Write__V2__Exemplar>?.self, entry.exemplars.count)
            for (position, exemplar) in entry.exemplars.enumerated() {
                let element = memory.new(Io__Prometheus__Write__V2__Exemplar.self)
                io__prometheus__write__v2__exemplar__init(element)
                let refs = exemplar.labels.flatMap { [table.ref($0.name), table.ref($0.value)] }
                (element.pointee.n_labels_refs, element.pointee.labels_refs) = (refs.count, memory.copy(refs))
                element.pointee.value = exemplar.value
                element.pointee.timestamp = exemplar.timestampMilliseconds
                exemplars[position] = element
            }
            (packed.pointee.n_exemplars, packed.pointee.exemplars) = (entry.exemplars.count, exemplars)
            if let metadata = entry.metadata {
                let element = memory.new(Io__Prometheus__Write__V2__Metadata.self)
                io__prometheus__write__v2__metadata__init(element)
                element.pointee.type = Self.metricType(metadata.type)
                element.pointee.help_ref = table.ref(metadata.help)
                element.pointee.unit_ref = table.ref(metadata.unit)
                packed.pointee.metadata = element
            }
            timeSeries[index] = packed
        }
        let symbols = memory.array(UnsafeMutablePointer<CChar>?.self, table.strings.count)
        for (index, symbol) in table.strings.enumerated() {
            let bytes = Array(symbol.utf8CString)
            let copy = memory.array(CChar.self, bytes.count)
            copy.update(from: bytes, count: bytes.count)
            symbols[index] = copy
        }
        var request = Io__Prometheus__Write__V2__Request()
        io__prometheus__write__v2__request__init(&request)
        (request.n_symbols, request.symbols) = (table.strings.count, symbols)
        (request.n_timeseries, request.timeseries) = (series.count, timeSeries)
        var bytes = [UInt8](repeating: 0, count: io__prometheus__write__v2__request__get_packed_size(&request))
        _ = bytes.withUnsafeMutableBufferPointer { io__prometheus__write__v2__request__pack(&request, $0.baseAddress) }
        return withExtendedLifetime(memory) { bytes }
    }

    /// Every string in order of first use, as `pack()` refers to them.
    private func intern(into table: inout SymbolTable) {
        for entry in series {
            for label in entry.labels {
                _ = table.ref(label.name)
                _ = table.ref(label.value)
            }
            for label in entry.exemplars.flatMap(\.labels) {
                _ = table.ref(label.name)
                _ = table.ref(label.value)
            }
            if let metadata = entry.metadata {
                _ = table.ref(metadata.help)
                _ = table.ref(metadata.unit)
            }
        }
    }

    private static func histogram(_ histogram: Histogram, _ memory: CMemory)
        -> UnsafeMutablePointer<Io__Prometheus__Write__V2__Histogram>
    {
        let element = memory.new(Io__Prometheus__Write__V2__Histogram.self)
        io__prometheus__write__v2__histogram__init(element)
        element.pointee.count_case = IO__PROMETHEUS__WRITE__V2__HISTOGRAM__COUNT_COUNT_INT
        element.pointee.count_int = histogram.count
        element.pointee.sum = histogram.sum
        element.pointee.schema = histogram.schema
        let spans = memory.array(
            UnsafeMutablePointer<Io__Prometheus__Write__V2__BucketSpan>?.self, histogram.positiveSpans.count)
        for (position, span) in histogram.positiveSpans.enumerated() {
            let packed = memory.new(Io__Prometheus__Write__V2__BucketSpan.self)
            io__prometheus__write__v2__bucket_span__init(packed)
            (packed.pointee.offset, packed.pointee.length) = (span.offset, span.length)
            spans[position] = packed
        }
        (element.pointee.n_positive_spans, element.pointee.positive_spans) = (histogram.positiveSpans.count, spans)
        (element.pointee.n_positive_deltas, element.pointee.positive_deltas) = (
            histogram.positiveDeltas.count, memory.copy(histogram.positiveDeltas)
        )
        element.pointee.timestamp = histogram.timestampMilliseconds
        element.pointee.start_timestamp = histogram.startTimestampMilliseconds
        return element
    }

    private static func metricType(_ type: MetricType) -> Io__Prometheus__Write__V2__Metadata__MetricType {
        switch type {
        case .counter: IO__PROMETHEUS__WRITE__V2__METADATA__METRIC_TYPE__METRIC_TYPE_COUNTER
        case .gauge: IO__PROMETHEUS__WRITE__V2__METADATA__METRIC_TYPE__METRIC_TYPE_GAUGE
        case .histogram: IO__PROMETHEUS__WRITE__V2__METADATA__METRIC_TYPE__METRIC_TYPE_HISTOGRAM
        }
    }
}

/// `""` first, then each string once.
private struct SymbolTable {
    private(set) var strings = [""]
    private var refs = ["": UInt32(0)]

    mutating func ref(_ string: String) -> UInt32 {
        if let ref = refs[string] { return ref }
        let ref = UInt32(strings.count)
        strings.append(string)
        refs[string] = ref
        return ref
    }
}

/// The C memory of one packing, freed with it.
private final class CMemory {
    private var blocks: [UnsafeMutableRawPointer] = []

    func new<T>(_ type: T.Type) -> UnsafeMutablePointer<T> { array(type, 1) }

    /// Uninitialized room for `count` values (at least one).
    func array<T>(_ type: T.Type, _ count: Int) -> UnsafeMutablePointer<T> {
        let pointer = UnsafeMutablePointer<T>.allocate(capacity: max(count, 1))
        blocks.append(UnsafeMutableRawPointer(pointer))
        return pointer
    }

    func copy<T>(_ values: [T]) -> UnsafeMutablePointer<T> {
        let pointer = array(T.self, values.count)
        pointer.initialize(from: values, count: values.count)
        return pointer
    }

    deinit {
        for block in blocks { block.deallocate() }
    }
}
