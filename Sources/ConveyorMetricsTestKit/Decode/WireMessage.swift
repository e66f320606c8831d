import CRemoteWriteProto

/// The messages of remote write 1.0 (Proto/prometheus_remote_write.proto) and 2.0
/// (Proto/io_prometheus_write_v2.proto), with what ``WriteRequestScan`` needs to know of
/// each field: how protobuf-c stores it.
enum WireMessage: CustomStringConvertible {
    // Remote write 1.0.
    case request, series, label, sample, exemplar, metadata, histogram, bucketSpan
    // Remote write 2.0.
    case v2Request, v2Series, v2Sample, v2Histogram, v2BucketSpan, v2Exemplar, v2Metadata

    /// How protobuf-c stores a field. `slot` numbers the repeated fields of one message
    /// (each gets one array of `elementBytes` per element).
    enum Field {
        /// A repeated message field: an array of pointers, a struct per element.
        case messages(WireMessage, slot: Int)
        /// A singular message field. Each occurrence is unpacked on its own; from the second
        /// on protobuf-c merges the previous one into it (repeated fields concatenated into a
        /// new array, nothing else allocated) and frees it.
        case message(WireMessage)
        /// A repeated string: an array of pointers, a NUL-terminated copy per element.
        case strings(slot: Int)
        /// A singular string: a NUL-terminated copy per occurrence.
        case string
        /// A repeated varint scalar, packed (one LEN field) or not (a varint field per
        /// element); `elementBytes` per element in its array.
        case varints(slot: Int, elementBytes: Int)
        /// `labels_refs` (remote write 2.0): repeated uint32, packed or not, 4 bytes an
        /// element; a name/value pair of them is a label.
        case labelRefs(slot: Int)
        /// A repeated 64-bit scalar (double), packed or not; 8 bytes per element.
        case fixed64s(slot: Int)
        case fixed64, varint

        /// The wire types protobuf-c accepts for the field.
        func accepts(wireType: UInt64) -> Bool {
            switch self {
            case .messages, .message, .strings, .string: wireType == 2
            case .varints, .labelRefs: wireType == 0 || wireType == 2
            case .fixed64s: wireType == 1 || wireType == 2
            case .fixed64: wireType == 1
            case .varint: wireType == 0
            }
        }
    }

    /// The most repeated fields one message has (Histogram's seven).
    static let maxRepeatedFields = 7

    func field(_ number: UInt64) -> Field? {
        switch (self, number) {
        case (.request, 1): .messages(.series, slot: 0)
        case (.request, 3): .messages(.metadata, slot: 1)
        case (.series, 1): .messages(.label, slot: 0)
        case (.series, 2): .messages(.sample, slot: 1)
        case (.series, 3): .messages(.exemplar, slot: 2)
        case (.series, 4): .messages(.histogram, slot: 3)
        case (.label, 1), (.label, 2): .string
        case (.sample, 1): .fixed64
        case (.sample, 2): .varint
        case (.exemplar, 1): .messages(.label, slot: 0)
        case (.exemplar, 2): .fixed64
        case (.exemplar, 3): .varint
        case (.metadata, 1): .varint
        case (.metadata, 2), (.metadata, 4), (.metadata, 5): .string
        default: v2Field(number)
        }
    }

    private func v2Field(_ number: UInt64) -> Field? {
        switch (self, number) {
        case (.v2Request, 4): .strings(slot: 0)
        case (.v2Request, 5): .messages(.v2Series, slot: 1)
        case (.v2Series, 1): .labelRefs(slot: 0)
        case (.v2Series, 2): .messages(.v2Sample, slot: 1)
        case (.v2Series, 3): .messages(.v2Histogram, slot: 2)
        case (.v2Series, 4): .messages(.v2Exemplar, slot: 3)
        case (.v2Series, 5): .message(.v2Metadata)
        case (.v2Sample, 1): .fixed64
        case (.v2Sample, 2), (.v2Sample, 3): .varint
        case (.v2Exemplar, 1): .labelRefs(slot: 0)
        case (.v2Exemplar, 2): .fixed64
        case (.v2Exemplar, 3): .varint
        case (.v2Metadata, 1), (.v2Metadata, 3), (.v2Metadata, 4): .varint
        case (.v2Histogram, 16): .fixed64s(slot: 6)
        case (.v2Histogram, 17): .varint
        case (.v2Histogram, let number): Self.histogramField(number, span: .v2BucketSpan)
        case (.v2BucketSpan, 1), (.v2BucketSpan, 2): .varint
        case (.histogram, let number): Self.histogramField(number, span: .bucketSpan)
        case (.bucketSpan, 1), (.bucketSpan, 2): .varint
        default: nil
        }
    }

    /// Fields 1–15 of `Histogram`, the same in 1.0 (Prometheus' extension) and 2.0.
    private static func histogramField(_ number: UInt64, span: WireMessage) -> Field? {
        switch number {
        case 1, 4, 6, 14, 15: .varint
        case 2, 3, 5, 7: .fixed64
        case 8: .messages(span, slot: 0)
        case 9: .varints(slot: 1, elementBytes: 8)
        case 10: .fixed64s(slot: 2)
        case 11: .messages(span, slot: 3)
        case 12: .varints(slot: 4, elementBytes: 8)
        case 13: .fixed64s(slot: 5)
        default: nil
        }
    }

    /// What protobuf-c allocates for the message's struct (`sizeof_message` of its descriptor).
    var structBytes: Int {
        switch self {
        case .request: prometheus__write_request__descriptor.sizeof_message
        case .series: prometheus__time_series__descriptor.sizeof_message
        case .label: prometheus__label__descriptor.sizeof_message
        case .sample: prometheus__sample__descriptor.sizeof_message
        case .exemplar: prometheus__exemplar__descriptor.sizeof_message
        case .metadata: prometheus__metric_metadata__descriptor.sizeof_message
        case .histogram: prometheus__histogram__descriptor.sizeof_message
        case .bucketSpan: prometheus__bucket_span__descriptor.sizeof_message
        case .v2Request: io__prometheus__write__v2__request__descriptor.sizeof_message
        case .v2Series: io__prometheus__write__v2__time_series__descriptor.sizeof_message
        case .v2Sample: io__prometheus__write__v2__sample__descriptor.sizeof_message
        case .v2Histogram: io__prometheus__write__v2__histogram__descriptor.sizeof_message
        case .v2BucketSpan: io__prometheus__write__v2__bucket_span__descriptor.sizeof_message
        case .v2Exemplar: io__prometheus__write__v2__exemplar__descriptor.sizeof_message
        case .v2Metadata: io__prometheus__write__v2__metadata__descriptor.sizeof_message
        }
    }

    var description: String {
        switch self {
        case .request: "WriteRequest"
        case .series, .v2Series: "TimeSeries"
        case .label: "Label"
        case .sample, .v2Sample: "Sample"
        case .exemplar, .v2Exemplar: "Exemplar"
        case .metadata: "MetricMetadata"
        case .v2Request: "Request"
        case .histogram, .v2Histogram: "Histogram"
        case .bucketSpan, .v2BucketSpan: "BucketSpan"
        case .v2Metadata: "Metadata"
        }
    }
}
