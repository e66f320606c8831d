import ConveyorMetricsTestSupport
import Testing

@testable import ConveyorMetrics

/// OpenMetrics' exemplar rules: valid label names, each once, at most 128 code points of
/// names and values in all; a broken exemplar is dropped and counted, never a crash, and the
/// value it came with is recorded all the same.
@Suite("Exemplar validation")
struct ExemplarValidationTests {
    /// Labels of exactly `codePoints` code points: `trace_id` (8) and a value of `🙂` (one
    /// code point, four UTF-8 bytes) and `é` (precomposed, one code point, two bytes).
    static func labels(codePoints: Int) -> [Label] {
        let value = (0..<(codePoints - 8)).map { $0 % 2 == 0 ? "🙂" : "é" }.joined()
        return [Label(name: "trace_id", value: value)]
    }

    @Test(arguments: [0, 1, 127, 128])
    func upTo128CodePointsIsValid(codePoints: Int) {
        let labels = codePoints < 8 ? [] : Self.labels(codePoints: codePoints)
        #expect(Exemplar(labels: labels).problem == nil)
    }

    @Test(arguments: [129, 130, 500])
    func past128CodePointsIsRejected(codePoints: Int) {
        let problem = Exemplar(labels: Self.labels(codePoints: codePoints)).problem
        #expect(problem?.contains("\(codePoints) code points") == true, "\(problem ?? "accepted")")
    }

    @Test func codePointsAreCountedNotBytesOrCharacters() {
        // "e" + combining acute: one Character, two code points, three bytes.
        let combining = String(repeating: "e\u{301}", count: 60)  // 120 code points, 60 characters
        #expect(Exemplar(labels: [Label(name: "a", value: combining)]).problem == nil)  // 121
        #expect(Exemplar(labels: [Label(name: "abcdefghi", value: combining)]).problem != nil)  // 129
        // 128 bytes of 🙂 are 32 code points: fine.
        #expect(Exemplar(labels: [Label(name: "x", value: String(repeating: "🙂", count: 32))]).problem == nil)
    }

    @Test(arguments: ["", "1abc", "trace-id", "__reserved", "a b", "é"])
    func invalidLabelNamesAreRejected(name: String) {
        #expect(Exemplar(labels: [Label(name: name, value: "v")]).problem?.contains("invalid label name") == true)
    }

    @Test func aRepeatedLabelNameIsRejected() {
        let exemplar = Exemplar(labels: [Label(name: "a", value: "1"), Label(name: "a", value: "2")])
        #expect(exemplar.problem?.contains("repeated") == true)
    }

    @Test func rejectedExemplarsAreCountedAndTheirValuesStillRecorded() {
        let registry = MetricsRegistry()
        let counter = registry.counterFamily(name: "jobs_total", help: "Jobs").series()
        let histogram = registry.histogramFamily(name: "wait_seconds", help: "Wait", buckets: [1]).series()
        let tooLong = Exemplar(labels: Self.labels(codePoints: 129))
        counter.increment(by: 2, exemplar: tooLong)
        counter.increment(by: 0.5, exemplar: Exemplar(labels: [Label(name: "bad-name", value: "")]))
        histogram.observe(0.5, exemplar: tooLong)
        #expect(registry.rejectedCount(.invalidExemplar) == 3)
        #expect(counter.value == 2.5)
        #expect(histogram.value.count == 1)
        #expect(counter.exemplars == nil && histogram.exemplars == nil, "no store made for rejected exemplars")
        #expect(registry.exposition().contains("conveyor_metrics_rejected_values_total{reason=\"invalid_exemplar\"} 3"))
    }

    /// Random label sets: valid exactly when the names are valid and distinct and the code
    /// points add up to at most 128; the boundary is hit on purpose.
    @Test func randomLabelSetsAreJudgedByTheRule() async {
        let seed = UInt64.random(in: 0...UInt64.max)
        let runs = HeavyTestWork.iterations(20_000)
        await HeavyTestWork.run {
            let outcome = Self.judgeRandomLabelSets(seed: seed, runs: runs)
            #expect(outcome.failure == nil, "seed \(seed): \(outcome.failure ?? "")")
            #expect(
                outcome.seen.allSatisfy { $0 > 0 }, "seed \(seed): valid, too long, near 128, bad name: \(outcome.seen)"
            )
        }
    }

    /// The first wrong judgement, and how many label sets were valid, too long, within one
    /// of 128 code points, and badly named.
    static func judgeRandomLabelSets(seed: UInt64, runs: Int) -> (failure: String?, seen: [Int]) {
        var random = SplitMix64(seed: seed)
        let pieces = ["a", "é", "e\u{301}", "🙂", "\"", "\\", "\n", "中"]
        let names = ["trace_id", "span_id", "x", "bad-name", "1st", "__x", "trace_id"]
        var seen = [0, 0, 0, 0]
        for run in 0..<runs {
            var labels: [Label] = []
            for _ in 0..<Int(random.next() % 4) {
                let name = names[Int(random.next() % UInt64(names.count))]
                var value = ""
                for _ in 0..<Int(random.next() % 70) { value += pieces[Int(random.next() % UInt64(pieces.count))] }
                labels.append(Label(name: name, value: value))
            }
            if run % 10 == 0 {  // the boundary on purpose: 127, 128 and 129 code points
                labels = [Label(name: "trace_id", value: String(repeating: "a", count: 119 + (run / 10) % 3))]
            }
            var codePoints = 0
            for label in labels { codePoints += label.name.unicodeScalars.count + label.value.unicodeScalars.count }
            let namesOK =
                labels.allSatisfy { NameValidation.isValidLabelName($0.name) }
                && Set(labels.map(\.name)).count == labels.count
            let problem = Exemplar(labels: labels).problem
            if (problem == nil) != (namesOK && codePoints <= 128) {
                return ("run \(run): \(labels) (\(codePoints) code points): \(problem ?? "valid")", seen)
            }
            if problem == nil { seen[0] += 1 }
            if namesOK && codePoints > 128 { seen[1] += 1 }
            if namesOK && (127...129).contains(codePoints) { seen[2] += 1 }
            if !namesOK { seen[3] += 1 }
        }
        return (nil, seen)
    }
}
