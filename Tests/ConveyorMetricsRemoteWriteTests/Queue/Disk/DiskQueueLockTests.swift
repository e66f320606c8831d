import ConveyorMetricsTestSupport
import Foundation
import Synchronization
import Testing

@testable import ConveyorMetricsRemoteWrite

#if canImport(Glibc)
    import Glibc
#endif

/// The directory lock: one queue a directory, and a queue reopened in the same process
/// takes it again even while other threads start child processes (each child holds a copy
/// of the lock's descriptor until its exec closes it).
@Suite("Disk queue lock")
struct DiskQueueLockTests {
    private static func open(_ path: String) throws -> DiskQueue {
        try DiskQueue(settings: .init(directory: path, maxBytes: 1 << 30, sync: .everyWrite))
    }

    @Test func aSecondOpenOfTheSameDirectoryIsRefused() async throws {
        let directory = TemporaryDirectory()
        let path = directory.path
        let outcome = Mutex<String?>(nil)
        // On a thread of its own: a held lock is tried again for half a second.
        await HeavyTestWork.run {
            do {
                let first = try Self.open(path)
                do {
                    _ = try Self.open(path)
                    outcome.withLock { $0 = "opened twice" }
                } catch {
                    outcome.withLock { $0 = "\(error)" }
                }
                _ = first
            } catch {
                outcome.withLock { $0 = "first open: \(error)" }
            }
        }
        let description = try #require(outcome.withLock { $0 })
        #expect(description.contains("in use by another process"), "\(description)")
    }

    /// Before a held lock was tried again, most runs of this test saw dozens to hundreds of
    /// its reopens fail with "in use by another process".
    @Test func aQueueReopenedWhileChildProcessesStartTakesItsLock() async throws {
        #if canImport(Glibc)
            let directory = TemporaryDirectory()
            let path = directory.path
            let reopens = HeavyTestWork.iterations(300)
            let failures = Mutex<[String]>([])
            let spawned = Atomic<Int>(0)
            let spawnedDuringReopens = Atomic<Int>(0)
            await HeavyTestWork.run {
                let stop = Atomic<Bool>(false)
                let spawner = Thread {
                    let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/true"), nil]
                    defer { argv.forEach { free($0) } }
                    while !stop.load(ordering: .relaxed) {
                        var pid: pid_t = 0
                        guard posix_spawn(&pid, "/bin/true", nil, nil, argv, environ) == 0 else { return }
                        var status: Int32 = 0
                        waitpid(pid, &status, 0)
                        spawned.wrappingAdd(1, ordering: .relaxed)
                    }
                }
                spawner.start()
                let deadline = ContinuousClock.now + .seconds(10)
                while spawned.load(ordering: .relaxed) == 0 && ContinuousClock.now < deadline { usleep(1_000) }
                let before = spawned.load(ordering: .relaxed)
                for attempt in 0..<reopens {
                    do {
                        _ = try Self.open(path)
                    } catch {
                        failures.withLock { $0.append("reopen \(attempt): \(error)") }
                    }
                }
                spawnedDuringReopens.store(spawned.load(ordering: .relaxed) - before, ordering: .relaxed)
                stop.store(true, ordering: .relaxed)
            }
            let children = spawnedDuringReopens.load(ordering: .relaxed)
            #expect(children >= 1, "child processes were started during the reopens: \(children)")
            let (failed, first) = failures.withLock { ($0.count, $0.first ?? "") }
            #expect(failed == 0, "\(failed) of \(reopens) reopens failed, first: \(first)")
        #endif
    }
}
