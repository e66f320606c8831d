import ConveyorMetricsFuzzing

#if FUZZING
    import Glibc

    /// The target, from CONVEYOR_FUZZ_TARGET (receiver, config, exposition), read once.
    nonisolated(unsafe) private var target: FuzzTarget?

    /// libFuzzer's entry point (`make fuzz` builds with `-sanitize=fuzzer -DFUZZING`).
    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
        if target == nil {
            let name = getenv("CONVEYOR_FUZZ_TARGET").map { String(cString: $0) } ?? ""
            guard let chosen = FuzzTarget(rawValue: name) else {
                print("set CONVEYOR_FUZZ_TARGET to one of: receiver, config, exposition")
                exit(2)
            }
            target = chosen
        }
        let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
        do {
            try target?.run(bytes)
        } catch {
            print("finding: \(error)")
            abort()  // how a harness reports a finding to libFuzzer
        }
        return 0
    }

    @_silgen_name("LLVMFuzzerRunDriver")
    private func runDriver(
        _ argc: UnsafeMutablePointer<CInt>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt

    /// SwiftPM links an executable's entry point under this name; hand over to libFuzzer.
    @_cdecl("conveyor_metrics_fuzz_main")
    public func fuzzMain(
        _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
    ) -> CInt {
        var argc = argc
        var argv = argv
        return runDriver(&argc, &argv, fuzzOneInput)
    }
#else
    import Foundation

    /// Without libFuzzer: `conveyor-metrics-fuzz TARGET FILE…` runs each file once (replays
    /// a corpus or a crash).
    @main
    struct FuzzReplay {
        static func main() throws {
            let arguments = CommandLine.arguments.dropFirst()
            if arguments.first == "--write-seeds", let directory = arguments.dropFirst().first {
                for target in FuzzTarget.allCases {
                    let folder = URL(fileURLWithPath: directory).appendingPathComponent(target.rawValue)
                    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                    for (index, seed) in target.seeds.enumerated() {
                        try Data(seed).write(to: folder.appendingPathComponent("seed-\(index)"))
                    }
                }
                return
            }
            guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
                let targets = FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")
                print("usage: conveyor-metrics-fuzz \(targets) FILE… | --write-seeds DIR")
                exit(2)
            }
            for path in arguments.dropFirst() {
                try target.run([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
            }
            print("\(arguments.count - 1) inputs ran clean")
        }
    }
#endif
