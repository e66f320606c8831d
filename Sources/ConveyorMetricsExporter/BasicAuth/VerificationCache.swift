import Synchronization

/// Outcomes of bcrypt checks, keyed by user, stored hash and password, as exporter-toolkit
/// keeps them: Prometheus scrapes every 15 s with the same credentials and should pay bcrypt
/// once, not on every scrape. Holds at most `capacity` entries; when full, the least
/// recently used one goes. A changed hash or password is a different key, so an entry can
/// never vouch for credentials other than the ones it was computed for.
final class VerificationCache: Sendable {
    struct Key: Hashable, Sendable {
        let user: [UInt8]
        let hash: String
        let password: [UInt8]

        /// The password is compared in constant time (the other fields are not secret).
        static func == (lhs: Key, rhs: Key) -> Bool {
            lhs.user == rhs.user && lhs.hash == rhs.hash && Bcrypt.constantTimeEqual(lhs.password, rhs.password)
        }

        func hash(into hasher: inout Hasher) {
            hasher.combine(user)
            hasher.combine(hash)
            hasher.combine(password)
        }
    }

    private struct Entry {
        var allowed: Bool
        var lastUse: UInt64
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        var clock: UInt64 = 0
    }

    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// The stored outcome for `key`, or nil.
    func outcome(for key: Key) -> Bool? {
        state.withLock { state in
            guard var entry = state.entries[key] else { return nil }
            state.clock &+= 1
            entry.lastUse = state.clock
            state.entries[key] = entry
            return entry.allowed
        }
    }

    func store(_ allowed: Bool, for key: Key) {
        state.withLock { state in
            state.clock &+= 1
            if state.entries[key] == nil && state.entries.count >= capacity,
                let oldest = state.entries.min(by: { $0.value.lastUse < $1.value.lastUse })?.key
            {
                state.entries[oldest] = nil
            }
            state.entries[key] = Entry(allowed: allowed, lastUse: state.clock)
        }
    }

    var count: Int { state.withLock { $0.entries.count } }
}
