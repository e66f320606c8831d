import ConveyorMetricsTestSupport
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsRemoteWrite

@Suite("Retry policy and queue")
struct RetryPolicyTests {
    private let policy = RetryPolicy(minBackoff: .milliseconds(30), maxBackoff: .seconds(5), retryOnHTTP429: true)

    @Test(arguments: [
        (200, RetryPolicy.Decision.delivered), (204, .delivered), (400, .drop), (401, .drop), (404, .drop),
        (409, .drop), (429, .retry(after: nil)), (500, .retry(after: nil)), (503, .retry(after: nil)),
        (301, .drop), (999, .drop),
    ])
    func statusClassification(status: Int, decision: RetryPolicy.Decision) {
        #expect(policy.decide(.response(status: status, retryAfter: nil, body: "")) == decision)
    }

    @Test func networkErrorsRetryAnd429OnlyWhenEnabled() {
        #expect(policy.decide(.failure("refused")) == .retry(after: nil))
        let strict = RetryPolicy(minBackoff: .milliseconds(30), maxBackoff: .seconds(5), retryOnHTTP429: false)
        #expect(strict.decide(.response(status: 429, retryAfter: nil, body: "")) == .drop)
    }

    @Test func backoffDoublesToTheCapWithJitter() {
        #expect(policy.backoff(attempt: 0, random: 1) == .milliseconds(30))
        #expect(policy.backoff(attempt: 3, random: 1) == .milliseconds(240))
        #expect(policy.backoff(attempt: 50, random: 1) == .seconds(5))
        #expect(policy.backoff(attempt: 1, random: 0.5) == .milliseconds(30))
    }

    @Test func aHugeMaximumBackoffIsClampedNotATrap() {
        let huge = RetryPolicy(minBackoff: .milliseconds(30), maxBackoff: .seconds(Int64.max), retryOnHTTP429: true)
        for random in [0.5, 0.999_999_999, 1.0] {
            let wait = huge.backoff(attempt: 62, random: random)
            #expect(wait > .seconds(1_000_000) && wait.nanoseconds < Int64.max)
        }
    }

    @Test func retryAfterInSecondsAndAsHTTPDate() {
        #expect(policy.decide(.response(status: 503, retryAfter: " 7\r\n", body: "")) == .retry(after: .seconds(7)))
        let now: Int64 = 1_445_412_470_000  // 2015-10-21 07:27:50 UTC
        #expect(RetryPolicy.parseRetryAfter(" Wed, 21 Oct 2015 07:28:00 GMT\r\n", nowMilliseconds: now) == .seconds(10))
        #expect(RetryPolicy.parseRetryAfter("soon", nowMilliseconds: now) == nil)
        #expect(RetryPolicy.parseRetryAfter("999999", nowMilliseconds: now) == .seconds(3600), "capped at an hour")
    }

    @Test func queueDropsTheOldestWhenFullAndSlicesChunks() {
        let queue = RemoteWriteQueue(capacity: 5)
        let series = RemoteSeries(labels: [Label(name: "__name__", value: "x")])
        func chunk(_ range: Range<Int>) -> [SampleChunk] {
            [
                SampleChunk(
                    series: Array(repeating: series, count: range.count), values: range.map(Double.init),
                    timestamp: Int64(range.lowerBound))
            ]
        }
        func values(_ batch: [SampleChunk]) -> [Double] { batch.flatMap(\.samples).map(\.sample.value) }
        #expect(queue.append(chunk(0..<3)) == 0)
        #expect(queue.append(chunk(3..<6)) == 1)
        #expect(values(queue.take(upTo: 2)) == [1, 2])
        #expect(queue.count == 3)
        #expect(queue.append(chunk(6..<20)) == 3 + 9, "3 queued plus 9 of the 14 new do not fit")
        let batch = queue.take(upTo: 3)
        #expect(values(batch) == [15, 16, 17])
        #expect(batch.first?.timestamp == 6, "a slice keeps its snapshot's timestamp")
        #expect(values(queue.take(upTo: 100)) == [18, 19])
        #expect(queue.count == 0)
        #expect(queue.take(upTo: 10).isEmpty)
    }
}
