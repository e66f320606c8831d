// Resident memory of 100k series of one family, measured in a fresh process (inside the
// benchmark runner, memory freed by earlier benchmarks is reused and hides growth).
// `make bench` runs it and feeds the figure to summarize.py.
import ConveyorMetrics

#if canImport(Glibc)
    import Glibc
#endif

func residentBytes() -> Int {
    guard let file = fopen("/proc/self/statm", "r") else { return 0 }
    defer { fclose(file) }
    var line = [CChar](repeating: 0, count: 256)
    guard fgets(&line, Int32(line.count), file) != nil else { return 0 }
    let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

let labels = (0..<100_000).map { "router-series-\($0)" }
var configuration = MetricsRegistry.Configuration()
configuration.seriesLimitPerFamily = 200_000
let registry = MetricsRegistry(configuration: configuration)
let family = registry.counterFamily(name: "many_total", help: "Many", labelNames: ["id"])
let before = residentBytes()
for label in labels { family.series(label).increment() }
let after = residentBytes()
print("resident_kib=\((after - before) / 1024)")
