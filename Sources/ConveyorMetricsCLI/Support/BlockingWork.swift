import Foundation

/// Blocking work (file reads, TLS contexts) from async code, on a thread of its own: never on
/// the Swift concurrency pool, which has two threads on a 2-core machine.
enum BlockingWork {
    static func run<Result: Sendable, Failure: Error>(
        _ work: @escaping @Sendable () throws(Failure) -> Result
    ) async throws(Failure) -> Result {
        let outcome = await withCheckedContinuation {
            (continuation: CheckedContinuation<Swift.Result<Result, Failure>, Never>) in
            Thread { continuation.resume(returning: Swift.Result { () throws(Failure) in try work() }) }.start()
        }
        return try outcome.get()
    }
}
