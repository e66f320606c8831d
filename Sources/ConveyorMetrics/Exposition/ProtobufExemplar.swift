/// `io.prometheus.client.Exemplar` messages of the protobuf exposition: labels as
/// `LabelPair`s, the value, the timestamp.
enum ProtobufExemplar {
    /// Appends `exemplar` as message field `field` of the message `out` holds.
    static func append(_ field: UInt64, _ exemplar: RecordedExemplar, to out: inout [UInt8]) {
        var message: [UInt8] = []
        for label in exemplar.labels {
            var pair: [UInt8] = []
            ProtobufWire.appendString(1, label.name, to: &pair)
            ProtobufWire.appendString(2, label.value, to: &pair)
            ProtobufWire.appendLengthDelimited(1, pair, to: &message)
        }
        ProtobufWire.appendDouble(2, exemplar.value, to: &message)
        if exemplar.timestampMilliseconds > 0 {
            ProtobufFamilyWriter.appendCreated(3, exemplar.timestampMilliseconds, to: &message)
        }
        ProtobufWire.appendLengthDelimited(field, message, to: &out)
    }
}
