import ConveyorMetrics
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import Testing

@testable import ConveyorMetricsExporter

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Basic authenticator")
struct BasicAuthenticatorTests {
    static let users = ["alice": "$2y$04$8ajJ3lvlcgFioFu0feEY4epWBZDypnzXt1WO3IlwkOo5TcAYR9EGK"]  // "correct horse"

    private func headers(_ user: String, _ password: String) -> HTTPHeaders {
        HTTPHeaders([("Authorization", "Basic " + base64(Array("\(user):\(password)".utf8)))])
    }

    private func outcome(_ check: BasicAuthenticator.Check) async throws -> BasicAuthenticator.Outcome {
        switch check {
        case .decided(let outcome): outcome
        case .pending(let future): try await future.get()
        }
    }

    @Test func cachedVerificationsSkipBcryptAndUnknownUsersStillPayIt() async throws {
        let registry = MetricsRegistry()
        let authenticator = BasicAuthenticator(users: Self.users, registry: registry)
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        #expect(try await outcome(authenticator.check(headers("alice", "correct horse"), on: loop)) == .allowed)
        #expect(authenticator.bcryptRunCount == 1)
        guard case .decided(.allowed) = authenticator.check(headers("alice", "correct horse"), on: loop) else {
            Issue.record("the second check is answered from the cache, synchronously")
            return
        }
        #expect(authenticator.bcryptRunCount == 1)
        #expect(
            try await outcome(authenticator.check(headers("mallory", "correct horse"), on: loop)) == .denied(.invalid))
        #expect(authenticator.bcryptRunCount == 2, "an unknown user runs bcrypt against the dummy hash")
        #expect(try await outcome(authenticator.check(headers("alice", "wrong"), on: loop)) == .denied(.invalid))
        #expect(authenticator.bcryptRunCount == 3)
        #expect(try await outcome(authenticator.check(HTTPHeaders(), on: loop)) == .denied(.missing))
        #expect(authenticator.bcryptRunCount == 3, "no header, no bcrypt")
        let exposition = registry.exposition()
        #expect(exposition.contains("conveyor_metrics_exporter_auth_failures_total{reason=\"invalid\"} 2\n"))
        #expect(exposition.contains("conveyor_metrics_exporter_auth_failures_total{reason=\"missing\"} 1\n"))
        #expect(exposition.contains("conveyor_metrics_exporter_auth_failures_total{reason=\"overloaded\"} 0\n"))
        #expect(!exposition.contains("correct horse") && !exposition.contains("$2y$"))
    }

    /// Only successes are cached: a flood of distinct wrong passwords (more than the cache
    /// holds) leaves the scraper's verified credentials answered from the cache.
    @Test func wrongPasswordsCannotEvictAVerifiedScraper() async throws {
        let authenticator = BasicAuthenticator(users: Self.users, registry: MetricsRegistry())
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        #expect(try await outcome(authenticator.check(headers("alice", "correct horse"), on: loop)) == .allowed)
        for attempt in 0..<(BasicAuthenticator.cacheCapacity + 20) {
            #expect(
                try await outcome(authenticator.check(headers("alice", "guess \(attempt)"), on: loop))
                    == .denied(.invalid))
        }
        let runs = authenticator.bcryptRunCount
        #expect(runs == BasicAuthenticator.cacheCapacity + 21)
        guard case .decided(.allowed) = authenticator.check(headers("alice", "correct horse"), on: loop) else {
            Issue.record("the verified credentials were pushed out of the cache")
            return
        }
        // A wrong password is not cached either: it pays bcrypt every time.
        _ = try await outcome(authenticator.check(headers("alice", "guess 0"), on: loop))
        #expect(authenticator.bcryptRunCount == runs + 1)
    }

    /// One check runs at a time on the pool; 32 more may wait; the rest are refused at once.
    /// The pool's only thread is held by a blocker, so nothing finishes while the checks queue.
    @Test func checksBeyondTheWaitingBoundAreRefusedAsOverloaded() async throws {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        let registry = MetricsRegistry()
        let authenticator = BasicAuthenticator(users: Self.users, registry: registry, threadPool: pool)
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let gate = Mutex(false)
        let blocker = pool.runIfActive(eventLoop: loop) {
            while !gate.withLock({ $0 }) { usleep(1000) }
        }
        let checks = (0..<40).map { authenticator.check(headers("alice", "guess-\($0)"), on: loop) }
        gate.withLock { $0 = true }
        try await blocker.get()
        var outcomes: [BasicAuthenticator.Outcome] = []
        for check in checks { outcomes.append(try await outcome(check)) }
        #expect(outcomes.filter { $0 == .denied(.invalid) }.count == 1 + BasicAuthenticator.maxWaiting)
        #expect(outcomes.filter { $0 == .denied(.overloaded) }.count == 40 - 1 - BasicAuthenticator.maxWaiting)
        #expect(authenticator.bcryptRunCount == UInt64(1 + BasicAuthenticator.maxWaiting))
        // Once the queue drained, checks run again.
        #expect(try await outcome(authenticator.check(headers("alice", "correct horse"), on: loop)) == .allowed)
        try await pool.shutdownGracefully()
    }

    @Test func invalidEntriesAreNamedByUserNeverByHash() {
        let secretHash = "$2y$10$notAValidHashS3CRET"
        #expect(throws: MetricsExporter.ConfigurationError.self) {
            try BasicAuthenticator.validate(["ops": secretHash])
        }
        do {
            try BasicAuthenticator.validate(["alice": Self.users["alice"] ?? "", "ops": secretHash])
        } catch {
            #expect(error.setting == "basicAuthUsers[\"ops\"]")
            #expect(!error.description.contains("S3CRET"))
        }
        #expect(throws: MetricsExporter.ConfigurationError.self) {
            try BasicAuthenticator.validate(["a:b": Self.users["alice"] ?? ""])
        }
    }
}

/// Standard base64 with padding (the tests' encoder).
func base64(_ bytes: [UInt8]) -> String {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
    var output = ""
    var index = 0
    while index < bytes.count {
        let chunk = Array(bytes[index..<min(index + 3, bytes.count)])
        let value = chunk.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (16 - 8 * UInt32($1.offset)) }
        for position in 0..<4 {
            output.append(position <= chunk.count ? alphabet[Int(value >> (18 - 6 * UInt32(position)) & 0x3F)] : "=")
        }
        index += 3
    }
    return output
}
