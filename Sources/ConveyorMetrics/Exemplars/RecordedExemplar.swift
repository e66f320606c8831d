import Synchronization

/// An exemplar as a series keeps it: its value and timestamp set, and a sequence number
/// (process-wide, increasing) that tells a newer exemplar from one already sent.
package struct RecordedExemplar: Sendable, Equatable {
    package let exemplar: Exemplar
    /// When it was recorded (ms since the epoch): the exemplar's own timestamp if it had one.
    package let timestampMilliseconds: Int64
    package let sequence: UInt64

    private static let nextSequence = Atomic<UInt64>(0)

    /// Stamps `exemplar` with `value`, its timestamp (now when it has none) and the next
    /// sequence number.
    package init(_ exemplar: Exemplar, value: Double) {
        var stamped = exemplar
        stamped.value = value
        let timestamp = exemplar.timestampMilliseconds ?? WallClock.unixMilliseconds()
        stamped.timestampMilliseconds = timestamp
        self.exemplar = stamped
        self.timestampMilliseconds = timestamp
        self.sequence = Self.nextSequence.wrappingAdd(1, ordering: .relaxed).newValue
    }

    /// A recorded exemplar as given (tests, hand-built values).
    package init(exemplar: Exemplar, timestampMilliseconds: Int64, sequence: UInt64) {
        self.exemplar = exemplar
        self.timestampMilliseconds = timestampMilliseconds
        self.sequence = sequence
    }

    package var labels: [Label] { exemplar.labels }
    package var value: Double { exemplar.value }
}
