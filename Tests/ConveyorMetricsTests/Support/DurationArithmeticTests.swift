import Testing

@testable import ConveyorMetrics

@Suite("Duration arithmetic")
struct DurationArithmeticTests {
    @Test(arguments: [
        (Duration.seconds(1), Int64(1_000_000_000)),
        (.milliseconds(-250), -250_000_000),
        (.zero, 0),
        (.seconds(Int64.max), Int64.max),
        (.seconds(Int64.min), Int64.min),
        (.seconds(9_223_372_036), 9_223_372_036_000_000_000),
        (.seconds(9_223_372_037), Int64.max),
    ])
    func nanosecondsSaturateInsteadOfWrapping(duration: Duration, expected: Int64) {
        #expect(duration.nanoseconds == expected)
    }

    @Test func deadlinesSaturate() {
        #expect(Int64.max.saturatingAdding(1) == .max)
        #expect((Int64.max - 5).saturatingAdding(5) == .max)
        #expect(Int64.min.saturatingAdding(-1) == .min)
        #expect(Int64(40).saturatingAdding(2) == 42)
        #expect(Int64(-40).saturatingAdding(-2) == -42)
        let now = MonotonicClock.nanoseconds()
        #expect(now.saturatingAdding(Duration.seconds(Int64.max).nanoseconds) == .max)
    }
}
