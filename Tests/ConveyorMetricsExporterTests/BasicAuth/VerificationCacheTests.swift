import Testing

@testable import ConveyorMetricsExporter

@Suite("Verification cache")
struct VerificationCacheTests {
    private func key(_ user: String, _ password: String, hash: String = "h") -> VerificationCache.Key {
        .init(user: Array(user.utf8), hash: hash, password: Array(password.utf8))
    }

    @Test func aKeyMatchesOnlyTheSameUserHashAndPassword() {
        let cache = VerificationCache(capacity: 8)
        cache.store(true, for: key("alice", "pw"))
        #expect(cache.outcome(for: key("alice", "pw")) == true)
        #expect(cache.outcome(for: key("alice", "pW")) == nil)
        #expect(cache.outcome(for: key("alice", "pw", hash: "other")) == nil, "a changed hash is not vouched for")
        #expect(cache.outcome(for: key("bob", "pw")) == nil)
        cache.store(false, for: key("alice", "wrong"))
        #expect(cache.outcome(for: key("alice", "wrong")) == false)
    }

    @Test func itHoldsAtMostItsCapacityAndDropsTheLeastRecentlyUsed() {
        let cache = VerificationCache(capacity: 3)
        cache.store(true, for: key("a", "1"))
        cache.store(true, for: key("b", "2"))
        cache.store(true, for: key("c", "3"))
        #expect(cache.outcome(for: key("a", "1")) == true)  // a is now the most recent
        cache.store(true, for: key("d", "4"))
        #expect(cache.count == 3)
        #expect(cache.outcome(for: key("b", "2")) == nil, "b was the least recently used")
        #expect(cache.outcome(for: key("a", "1")) == true)
        for index in 0..<100 { cache.store(false, for: key("flood", "\(index)")) }
        #expect(cache.count == 3)
    }
}
