import Foundation
import Synchronization

/// CPU-heavy test loops (property tests over thousands of seeds): run on a thread of their
/// own, never on the Swift concurrency pool (two threads here; a loop there starves every
/// test that awaits meanwhile), and shorter under a sanitizer (`CONVEYOR_SANITIZER`, set by
/// `make test-tsan` and `make test-asan`), where each iteration costs 5–20×.
package enum HeavyTestWork {
    /// Whether the suite runs under a sanitizer.
    package static var sanitized: Bool { ProcessInfo.processInfo.environment["CONVEYOR_SANITIZER"] != nil }

    /// `full` iterations normally, a tenth (at least 1) under a sanitizer.
    package static func iterations(_ full: Int) -> Int { sanitized ? max(1, full / 10) : full }

    /// Runs `body` on a new thread at a lower priority and waits for it. The waiting task is
    /// resumed from a second thread at normal priority: threads inherit their creator's nice
    /// value, and the resume may start a pool thread.
    package static func run(_ body: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let waiter = Thread {
                let done = DispatchSemaphore(value: 0)
                let worker = Thread {
                    lowerPriority()
                    body()
                    done.signal()
                }
                worker.stackSize = 8 << 20
                worker.start()
                done.wait()
                continuation.resume()
            }
            waiter.start()
        }
    }

    /// Makes the calling thread yield to the rest of the process: nice 10 (Linux's nice
    /// value is per thread). With two cores and a dozen property loops at once, the
    /// concurrency pool and the servers' event loops would otherwise get a sixth of a core
    /// each and time-bound tests (keep-alive deadlines, slow clients) would miss theirs.
    private static func lowerPriority() {
        #if os(Linux)
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
        #endif
    }

    /// Runs a throwing `body` on a new thread; what it throws is thrown here (as its
    /// description: an expectation that failed there is already recorded).
    package static func runThrowing(_ body: @escaping @Sendable () throws -> Void) async throws {
        let failure = Mutex<String?>(nil)
        await run {
            do { try body() } catch { failure.withLock { $0 = String(describing: error) } }
        }
        if let description = failure.withLock({ $0 }) { throw Failure(description: description) }
    }

    /// What a body run by ``runThrowing(_:)`` threw.
    package struct Failure: Error, CustomStringConvertible {
        package let description: String
    }
}
