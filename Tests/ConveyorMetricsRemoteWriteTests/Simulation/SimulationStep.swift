/// One step of a simulated run. A run is a seed (its configuration) and a list of steps,
/// so a failing run can be shrunk to the fewest steps that still fail, and replayed.
enum SimulationStep: Equatable, CustomStringConvertible {
    /// Bumps (creating if needed), removes, or destroys and re-creates series `slot` of the
    /// churned registry.
    case bump(slot: Int, by: Int)
    case remove(slot: Int)
    case recreate(slot: Int)
    /// Takes a snapshot into the queue (what the flush loop or the persister does).
    case flush
    /// Queues the families' metadata (a sample-free request).
    case metadata
    /// One sender step; a request it posts is answered so.
    case send(SimulatedReceiver.Answer)
    /// Both clocks forward, or the wall clock back.
    case advance(milliseconds: Int64)
    case stepWallBack(milliseconds: Int64)
    /// The persister's fsync schedule.
    case sync
    /// The disk fills up to its current use plus `bytes` (nil: room again).
    case diskCapacity(bytes: Int?)
    /// Probability of injected write, read, fsync and open errors from now on.
    case diskFaults(write: Double, read: Double, sync: Double, open: Double)
    case readOnly(Bool)
    /// The process dies during the `afterCalls`-th file-system call from now (a torn write if
    /// it is a write); with `powerLoss`, what was not fsynced is lost too. Restarted at once.
    case crash(afterCalls: Int, powerLoss: Bool)
    /// `kill -9` now, and a restart.
    case kill
    /// The receiver is replaced by one that speaks these protocols (an upgrade or a rollback).
    case receiverProtocols(SimulatedReceiver.Protocols)

    var description: String {
        switch self {
        case .bump(let slot, let by): "bump(\(slot), \(by))"
        case .remove(let slot): "remove(\(slot))"
        case .recreate(let slot): "recreate(\(slot))"
        case .flush: "flush"
        case .metadata: "metadata"
        case .send(let answer): "send(\(answer))"
        case .advance(let milliseconds): "advance(\(milliseconds) ms)"
        case .stepWallBack(let milliseconds): "stepWallBack(\(milliseconds) ms)"
        case .sync: "sync"
        case .diskCapacity(let bytes): "diskCapacity(\(bytes.map { "+\($0)" } ?? "unbounded"))"
        case .diskFaults(let write, let read, let sync, let open):
            "diskFaults(write \(write), read \(read), sync \(sync), open \(open))"
        case .readOnly(let on): "readOnly(\(on))"
        case .crash(let calls, let powerLoss): "crash(after \(calls) calls\(powerLoss ? ", power loss" : ""))"
        case .kill: "kill"
        case .receiverProtocols(let protocols): "receiverProtocols(\(protocols))"
        }
    }

    /// A random step, weighted towards the common ones.
    static func random(_ random: inout SimulationRandom, slots: Int, disk: Bool) -> SimulationStep {
        let roll = random.int(in: 0...999)
        switch roll {
        case 0..<140: return .bump(slot: random.int(in: 0...(slots - 1)), by: random.int(in: 1...5))
        case 140..<175: return .remove(slot: random.int(in: 0...(slots - 1)))
        case 175..<210: return .recreate(slot: random.int(in: 0...(slots - 1)))
        case 210..<350: return .flush
        case 350..<360: return .metadata
        case 360..<720: return .send(randomAnswer(&random))
        case 720..<860: return .advance(milliseconds: Int64(random.int(in: 1...3000)))
        case 860..<870: return .stepWallBack(milliseconds: Int64(random.int(in: 1...600_000)))
        case 870..<920: return .sync
        case 920..<945 where disk: return .diskCapacity(bytes: random.chance(0.5) ? random.int(in: 0...4096) : nil)
        case 945..<965 where disk:
            return random.chance(0.5)
                ? .diskFaults(write: 0, read: 0, sync: 0, open: 0)
                : .diskFaults(
                    write: Double(random.int(in: 0...30)) / 100, read: Double(random.int(in: 0...10)) / 100,
                    sync: Double(random.int(in: 0...20)) / 100, open: Double(random.int(in: 0...10)) / 100)
        case 965..<975 where disk: return .readOnly(random.chance(0.5))
        case 975..<990 where disk: return .crash(afterCalls: random.int(in: 1...20), powerLoss: random.chance(0.3))
        case 990..<1000: return .kill
        default: return .flush
        }
    }

    static func randomAnswer(_ random: inout SimulationRandom) -> SimulatedReceiver.Answer {
        let roll = random.int(in: 0...99)
        switch roll {
        case 0..<70: return .accept
        case 70..<73: return .status(400, retryAfter: nil)
        case 73..<75: return .status(413, retryAfter: nil)
        case 75..<79: return .status(429, retryAfter: random.chance(0.5) ? random.int(in: 0...3) : nil)
        case 79..<86: return .status(random.chance(0.5) ? 500 : 503, retryAfter: nil)
        case 86..<91: return .timeout
        case 91..<95: return .storedThenReset
        default: return .slow(milliseconds: Int64(random.int(in: 1...15_000)))
        }
    }
}
