import ConveyorMetrics
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Decides whether a request's `Authorization: Basic` credentials match one of
/// ``MetricsExporter/Configuration/basicAuthUsers`` (bcrypt hashes).
///
/// - A missing or malformed header is refused at once.
/// - Otherwise a success for (user, stored hash, password) comes from the cache when it is
///   there (only successes are cached); if not, bcrypt runs on NIO's thread pool (never on an event loop or the Swift
///   concurrency pool), one check at a time, and the answer comes back on the connection's
///   event loop. At most ``maxWaiting`` checks wait; beyond that a request is refused as
///   `overloaded` (503) rather than queued without bound.
/// - An unknown user is checked against a dummy hash of the highest configured cost, so
///   the time of a refusal does not tell whether the user exists.
///
/// Refusals are counted in `conveyor_metrics_exporter_auth_failures_total{reason}`.
/// Nothing here logs, and no password or hash reaches a metric or an error.
final class BasicAuthenticator: Sendable {
    enum Reason: String, CaseIterable {
        /// No Authorization header.
        case missing
        /// Not one well-formed Basic header.
        case malformed
        /// Unknown user or wrong password.
        case invalid
        /// Too many checks waiting for bcrypt.
        case overloaded
    }

    enum Outcome: Equatable {
        case allowed
        case denied(Reason)
    }

    enum Check {
        case decided(Outcome)
        /// bcrypt runs; the future completes on the event loop that was passed in.
        case pending(EventLoopFuture<Outcome>)
    }

    static let maxWaiting = 32
    static let cacheCapacity = 256

    private let users: [String: String]
    private let dummyHash: String
    private let threadPool: NIOThreadPool
    private let cache = VerificationCache(capacity: BasicAuthenticator.cacheCapacity)
    private let failures: [Reason: CounterSeries]
    private let queue = Mutex(Queue())
    private let bcryptRuns = Atomic<UInt64>(0)

    private struct Job {
        let key: VerificationCache.Key
        let userKnown: Bool
        let promise: EventLoopPromise<Outcome>
    }

    private struct Queue {
        var running = false
        var waiting: [Job] = []
    }

    /// `users` must hold valid bcrypt hashes (``validate(_:)``).
    init(users: [String: String], registry: MetricsRegistry, threadPool: NIOThreadPool = .singleton) {
        self.users = users
        let cost = users.values.compactMap(Bcrypt.cost(of:)).max() ?? 10
        self.dummyHash = Self.dummyHash(cost: cost)
        self.threadPool = threadPool
        let family = registry.counterFamily(
            name: "conveyor_metrics_exporter_auth_failures_total",
            help: "Requests refused by basic auth, by reason (missing, malformed, invalid, overloaded)",
            labelNames: ["reason"])
        var failures: [Reason: CounterSeries] = [:]
        for reason in Reason.allCases { failures[reason] = family.series(reason.rawValue) }
        self.failures = failures
    }

    /// A well-formed hash of `cost` (a canonical 22-character salt, then 31 characters) that
    /// no password is known to produce; only its cost matters.
    static func dummyHash(cost: Int) -> String {
        "$2b$" + (cost < 10 ? "0\(cost)" : "\(cost)") + "$" + "ConveyorMetricsDummySu"
            + "NeverMatchesAnyPasswordAtAllXYZ"
    }

    /// Checks that every entry is a bcrypt hash; the error names the user, never the hash.
    static func validate(_ users: [String: String]) throws(MetricsExporter.ConfigurationError) {
        #if !os(Linux)
            if !users.isEmpty {
                throw MetricsExporter.ConfigurationError(
                    setting: "basicAuthUsers", reason: "bcrypt comes from Linux' libcrypt; not available on this system"
                )
            }
        #endif
        for (user, hash) in users.sorted(by: { $0.key < $1.key }) where Bcrypt.cost(of: hash) == nil {
            throw MetricsExporter.ConfigurationError(
                setting: "basicAuthUsers[\"\(user)\"]",
                reason: "not a bcrypt hash ($2y$, $2b$ or $2a$, cost 04 to 31, 60 characters)")
        }
        for user in users.keys where user.utf8.contains(UInt8(ascii: ":")) {
            throw MetricsExporter.ConfigurationError(
                setting: "basicAuthUsers[\"\(user)\"]", reason: "a user name cannot contain a colon")
        }
    }

    /// The decision for a request with `headers`, or the future one (on `eventLoop`).
    func check(_ headers: HTTPHeaders, on eventLoop: any EventLoop) -> Check {
        let credentials: BasicCredentials
        switch BasicCredentials.parse(headers["authorization"]) {
        case .failure(.missing): return .decided(deny(.missing))
        case .failure(.malformed): return .decided(deny(.malformed))
        case .success(let parsed): credentials = parsed
        }
        let stored = String(validating: credentials.user, as: UTF8.self).flatMap { users[$0] }
        let key = VerificationCache.Key(
            user: credentials.user, hash: stored ?? dummyHash, password: credentials.password)
        if let allowed = cache.outcome(for: key) { return .decided(decide(allowed && stored != nil)) }
        let promise = eventLoop.makePromise(of: Outcome.self)
        let job = Job(key: key, userKnown: stored != nil, promise: promise)
        let startNow = queue.withLock { queue -> Bool? in
            if !queue.running {
                queue.running = true
                return true
            }
            guard queue.waiting.count < Self.maxWaiting else { return nil }
            queue.waiting.append(job)
            return false
        }
        switch startNow {
        case nil:
            promise.succeed(deny(.overloaded))
        case true?:
            run(job)
        case false?:
            break
        }
        return .pending(promise.futureResult)
    }

    /// How many times bcrypt ran (for tests: cache hits do not run it).
    var bcryptRunCount: UInt64 { bcryptRuns.load(ordering: .relaxed) }

    /// Runs `job` on the thread pool, then the next waiting one, so one check at a time
    /// holds a pool thread and a core.
    private func run(_ job: Job) {
        let key = job.key
        threadPool.runIfActive(eventLoop: job.promise.futureResult.eventLoop) { () -> Bool in
            self.bcryptRuns.wrappingAdd(1, ordering: .relaxed)
            return Bcrypt.verify(password: key.password, hash: key.hash)
        }.whenComplete { result in
            switch result {
            case .success(let matches):
                // Only successes are kept: wrong passwords, however many, cannot push a
                // scraper's verified credentials out of the cache.
                if matches && job.userKnown { self.cache.store(true, for: key) }
                job.promise.succeed(self.decide(matches && job.userKnown))
            case .failure:
                job.promise.succeed(self.deny(.overloaded))
            }
            let next = self.queue.withLock { queue -> Job? in
                guard !queue.waiting.isEmpty else {
                    queue.running = false
                    return nil
                }
                return queue.waiting.removeFirst()
            }
            if let next { self.run(next) }
        }
    }

    private func decide(_ allowed: Bool) -> Outcome {
        allowed ? .allowed : deny(.invalid)
    }

    private func deny(_ reason: Reason) -> Outcome {
        failures[reason]?.increment()
        return .denied(reason)
    }
}
