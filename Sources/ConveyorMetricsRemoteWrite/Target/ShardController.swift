import ConveyorMetrics

/// How many requests a target keeps in flight, between `min_shards` and `max_shards`.
///
/// As in Prometheus, the wanted number is the time a sample takes to send (measured from
/// delivered requests) times the samples to send per second. Two things differ:
/// - Prometheus takes just the shards that keep up with the samples coming in; here sending
///   one push interval's samples may take only ``busyShare`` of the interval. A snapshot's
///   requests then go out side by side rather than one after another: it reaches the
///   receiver within a fifth of the interval (or one request's time, if longer), and the
///   sender wakes once for several answers instead of once for each (a wake-up after a
///   request's wait costs more CPU than sending it). A receiver that answers within a few
///   milliseconds still gets one shard.
/// - The backlog is spread over ``catchUpSeconds``, so a backlog after an outage is gone
///   within seconds rather than drained at the margin.
///
/// More shards are taken at once; fewer only after ``lowerAfterNanoseconds`` of wanting
/// clearly fewer (hysteresis). The sender asks between waves only, when no request is in
/// flight or being retried.
struct ShardController {
    let minShards: Int
    let maxShards: Int
    private(set) var shards: Int
    /// The last number computed (a self-metric).
    private(set) var desired: Int

    /// Seconds a request took and samples it held, smoothed over delivered requests.
    private var secondsPerRequest: Double?
    private var samplesPerRequest: Double = 0
    /// Samples coming in per second, smoothed.
    private var incomingRate: Double?
    private var lastProduced: Int?
    private var lastRateAt: Int64 = 0
    /// Since when fewer shards have been wanted (monotonic ns), nil when not.
    private var lowSince: Int64?

    static let catchUpSeconds = 2.0
    static let busyShare = 0.2
    static let lowerAfterNanoseconds: Int64 = 10_000_000_000
    static let smoothing = 0.3

    init(minShards: Int, maxShards: Int) {
        self.minShards = max(1, minShards)
        self.maxShards = max(self.minShards, maxShards)
        shards = self.minShards
        desired = self.minShards
    }

    /// A request was delivered after `nanoseconds` with `samples` samples.
    mutating func delivered(samples: Int, nanoseconds: Int64) {
        guard samples > 0 else { return }
        let seconds = Double(max(0, nanoseconds)) / 1e9
        if let previous = secondsPerRequest {
            secondsPerRequest = previous + Self.smoothing * (seconds - previous)
            samplesPerRequest += Self.smoothing * (Double(samples) - samplesPerRequest)
        } else {
            secondsPerRequest = seconds
            samplesPerRequest = Double(samples)
        }
    }

    /// The shards for the next wave, given the samples produced so far, those pending, the
    /// push interval (one interval's samples in the queue are no backlog) and now.
    mutating func update(produced: Int, pending: Int, pushIntervalSeconds: Double, now: Int64) -> Int {
        if let last = lastProduced {
            let elapsed = Double(now - lastRateAt) / 1e9
            if elapsed >= 1 {
                let rate = Double(max(0, produced - last)) / elapsed
                incomingRate = incomingRate.map { $0 + Self.smoothing * (rate - $0) } ?? rate
                lastProduced = produced
                lastRateAt = now
            }
        } else {
            lastProduced = produced
            lastRateAt = now
        }
        guard let secondsPerRequest, samplesPerRequest > 0 else { return shards }
        let rate = incomingRate ?? 0
        let backlog = max(0, Double(pending) - rate * pushIntervalSeconds)
        let perSample = secondsPerRequest / samplesPerRequest
        let wanted = perSample * (rate / Self.busyShare + backlog / Self.catchUpSeconds)
        desired = Int(min(Double(maxShards), max(Double(minShards), wanted.rounded(.up))))
        if desired > shards {
            shards = desired
            lowSince = nil
        } else if Double(desired) <= Double(shards) * 0.7 {
            if let since = lowSince {
                if now - since >= Self.lowerAfterNanoseconds {
                    shards = desired
                    lowSince = nil
                }
            } else {
                lowSince = now
            }
        } else {
            lowSince = nil
        }
        return shards
    }
}
