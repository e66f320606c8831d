@testable import ConveyorMetrics

/// Random damage to wire-format bytes: what a broken or hostile peer sends.
enum WireMutation {
    /// A byte changed, the tail cut, a few random bytes inserted, or a slice appended
    /// (repeated fields and messages).
    static func mutate(_ bytes: [UInt8], _ random: inout SplitMix64) -> [UInt8] {
        var mutant = bytes
        switch Int.random(in: 0..<4, using: &random) {
        case 0 where !mutant.isEmpty:
            mutant[Int.random(in: 0..<mutant.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
        case 1 where !mutant.isEmpty: mutant.removeLast(Int.random(in: 1...mutant.count, using: &random))
        case 2:
            let at = Int.random(in: 0...mutant.count, using: &random)
            mutant.insert(
                contentsOf: (0..<Int.random(in: 1...4, using: &random)).map { _ in
                    UInt8.random(in: 0...255, using: &random)
                }, at: at)
        default:
            guard !mutant.isEmpty else { break }
            let start = Int.random(in: 0..<mutant.count, using: &random)
            mutant.append(contentsOf: mutant[start...])
        }
        return mutant
    }
}
