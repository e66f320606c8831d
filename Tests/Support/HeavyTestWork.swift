import Foundation

/// CPU-heavy test loops (property tests over thousands of seeds): run on a thread of their
/// own, never on the Swift concurrency pool (two threads here; a loop there starves every
/// test that awaits meanwhile), and shorter under a sanitizer (`CONVEYOR_SANITIZER`, set by
/// `make test-tsan` and `make test-asan`), where each iteration costs 5–20×.
package enum HeavyTestWork {
    /// Whether the suite runs under a sanitizer.
    package static var sanitized: Bool { ProcessInfo.processInfo.environment["CONVEYOR_SANITIZER"] != nil }

    /// `full` iterations normally, a tenth (at least 1) under a sanitizer.
    package static func iterations(_ full: Int) -> Int { sanitized ? max(1, full / 10) : full }

    /// Runs `body` on a new thread and waits for it.
    package static func run(_ body: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let thread = Thread {
                body()
                continuation.resume()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }
}
