import ConveyorMetrics

/// How many requests a target keeps in flight, between `min_shards` and `max_shards`.
///
/// As in Prometheus, the shards that keep up are the time a sample takes to send (measured
/// from delivered requests) times the samples to send per second; here those are the
/// samples coming in plus the backlog spread over ``catchUpSeconds``, so a backlog after an
/// outage is gone within seconds rather than drained at the margin.
///
/// Beyond keeping up, a snapshot's requests go out side by side when one after another they
/// would take more than ``busyShare`` of the push interval: the shards are then those full
/// requests' time (one push interval's samples in requests of `max_samples_per_send`, each
/// taking the measured request time) over a fifth of the interval, at most one per full
/// request. The snapshot reaches the receiver sooner, and the sender wakes once for several
/// answers instead of once for each (a wake-up after a request's wait costs more CPU than
/// sending it). This term counts requests, not samples: smaller requests after a split take
/// about as long (the receiver's latency), so a per-sample figure would ask for ever more
/// shards. A registry that fits in one request keeps one shard, and so does a router of some
/// ten thousand series against a receiver that answers within a few milliseconds.
///
/// More shards are taken at once; fewer only after ``lowerAfterNanoseconds`` of wanting
/// clearly fewer (hysteresis). The sender asks between waves only, when no request is in
/// flight or being retried.
struct ShardController {
    let minShards: Int
    let maxShards: Int
    let maxSamplesPerSend: Int
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

    init(minShards: Int, maxShards: Int, maxSamplesPerSend: Int) {
        self.minShards = max(1, minShards)
        self.maxSamplesPerSend = max(1, maxSamplesPerSend)
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
        let keepUp = perSample * (rate + backlog / Self.catchUpSeconds) * 1.1
        let fullRequests = rate * pushIntervalSeconds / Double(maxSamplesPerSend)
        let sideBySide =
            pushIntervalSeconds > 0
            ? min(fullRequests.rounded(.up), fullRequests * secondsPerRequest / (Self.busyShare * pushIntervalSeconds))
            : 0
        let wanted = max(keepUp, sideBySide)
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
