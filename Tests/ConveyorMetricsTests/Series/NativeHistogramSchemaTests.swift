import ConveyorMetricsTestSupport
import Foundation
import Testing

@testable import ConveyorMetrics

@Suite("Native histogram schema")
struct NativeHistogramSchemaTests {
    @Test func bucketFactorPicksTheSchemaAsClientGolang() {
        let cases: [(factor: Double, schema: Int)] = [
            (1.1, 3), (2, 0), (1.5, 1), (1.0905, 4), (1.0906, 3), (1.0001, 8), (1.000_000_1, 8), (4, -1), (3.9, 0),
            (16, -2), (256, -3), (65_536, -4), (1e10, -4), (.infinity, -4), (1.0.nextUp, 8),
        ]
        for (factor, schema) in cases {
            #expect(NativeHistogramSchema.pick(bucketFactor: factor) == schema, "factor \(factor)")
        }
    }

    @Test func boundFractionsAreWithinOneUlpOfClientGolangsConstants() {
        // From client_golang's nativeHistogramBounds (schemas 2 and 3), which are not the
        // exact (rounded-down) bounds in every entry: 2^(1/8 − 1) is 0.54525386633262882960…,
        // their 0.5452538663326288 is above it.
        let schema2: [Double] = [0.5, 0.5946035575013605, 0.7071067811865475, 0.8408964152537144]
        let schema3: [Double] = [
            0.5, 0.5452538663326288, 0.5946035575013605, 0.6484197773255048,
            0.7071067811865475, 0.7711054127039704, 0.8408964152537144, 0.9170040432046711,
        ]
        for (schema, expected) in [(2, schema2), (3, schema3)] {
            let offset = NativeHistogramSchema.boundsOffset(schema)
            let table = (0..<expected.count).map { NativeHistogramSchema.bounds[offset + $0] }
            #expect(table.count == expected.count)
            for (ours, theirs) in zip(table, expected) {
                #expect(ours == theirs || ours.nextUp == theirs || ours.nextDown == theirs, "schema \(schema)")
            }
        }
    }

    #if arch(x86_64) && !os(Windows)
        @Test func boundFractionsAreTheLargestDoublesNotAboveTheBounds() {
            var checked = 0
            for schema in 1...NativeHistogramSchema.maximum {
                let perPower = 1 << schema
                for index in 0..<perPower {
                    let wide = Foundation.exp2(Float80(index) / Float80(perPower) - 1)
                    let table = NativeHistogramSchema.bounds[NativeHistogramSchema.boundsOffset(schema) + index]
                    #expect(Float80(table) <= wide, "schema \(schema) index \(index)")
                    #expect(Float80(table.nextUp) > wide, "schema \(schema) index \(index)")
                    checked += 1
                }
            }
            #expect(checked == 510)
        }
    #endif

    @Test func keyMatchesTheExactReferenceOnRandomAndEdgeValues() async {
        let seed = UInt64.random(in: 0...UInt64.max)
        let iterations = HeavyTestWork.iterations(40_000)
        await HeavyTestWork.run {
            var random = SplitMix64(seed: seed)
            var values = Self.edgeValues()
            for _ in 0..<iterations {
                values.append(Self.randomMagnitude(&random))
            }
            #expect(!values.isEmpty)
            var mismatches: [String] = []
            var compared = 0
            for schema in NativeHistogramSchema.minimum...NativeHistogramSchema.maximum {
                for value in values where value > 0 && !value.isNaN {
                    let fast = NativeHistogramSchema.key(
                        forMagnitude: value, schema: schema)
                    let exact = NativeHistogramReference.key(value, schema: schema)
                    compared += 1
                    if fast != exact && mismatches.count < 5 {
                        mismatches.append(
                            "schema \(schema) value \(value) (bits \(value.bitPattern)): \(fast) ≠ \(exact)")
                    }
                }
            }
            #expect(compared > iterations * 13)
            #expect(mismatches.isEmpty, "seed \(seed): \(mismatches)")
        }
    }

    @Test func halvingTheResolutionMergesPairsOfBuckets() async {
        let seed = UInt64.random(in: 0...UInt64.max)
        let iterations = HeavyTestWork.iterations(20_000)
        await HeavyTestWork.run {
            var random = SplitMix64(seed: seed)
            var failures: [String] = []
            for _ in 0..<iterations {
                let value = Self.randomMagnitude(&random)
                for schema in (NativeHistogramSchema.minimum + 1)...NativeHistogramSchema.maximum {
                    let fine = NativeHistogramSchema.key(forMagnitude: value, schema: schema)
                    let coarse = NativeHistogramSchema.key(forMagnitude: value, schema: schema - 1)
                    if NativeHistogramSchema.halved(fine, times: 1) != coarse && failures.count < 5 {
                        failures.append("schema \(schema) value \(value): \(fine) → \(coarse)")
                    }
                }
            }
            #expect(failures.isEmpty, "seed \(seed): \(failures)")
        }
    }

    @Test func exactBoundsEndTheirBucket() {
        var checked = 0
        for schema in NativeHistogramSchema.minimum...NativeHistogramSchema.maximum {
            for key in stride(from: -4000, through: 4000, by: 7) {
                let (fraction, exponent) = NativeHistogramReference.upperBound(key, schema: schema)
                let bound = scalbn(fraction, Int32(exponent))
                guard bound.isNormal else { continue }
                #expect(NativeHistogramSchema.key(bound, schema: schema) == key, "\(schema) \(key)")
                #expect(NativeHistogramSchema.key(bound.nextUp, schema: schema) == key + 1)
                checked += 1
            }
        }
        #expect(checked > 1000)
        // 1 ends bucket 0 and 2 bucket 2^schema, at every schema ≥ 0.
        for schema in 0...NativeHistogramSchema.maximum {
            #expect(NativeHistogramSchema.key(1, schema: schema) == 0)
            #expect(NativeHistogramSchema.key(2, schema: schema) == 1 << schema)
        }
    }

    /// Powers of two over the whole range, the extremes, subnormals and their neighbours.
    static func edgeValues() -> [Double] {
        var values: [Double] = [
            .leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude, .infinity, 1, 2, 0.5,
            Double.leastNormalMagnitude.nextDown, 3 * .leastNonzeroMagnitude, 1e-310, 1e300, 1.0905, 0.999_999,
        ]
        for exponent in -1074...1023 {
            let power = scalbn(1.0, Int32(exponent))
            values += [power, power.nextUp, power.nextDown, power * 1.5]
        }
        return values.filter { $0 > 0 }
    }

    /// A positive double: any bit pattern (subnormals and huge values included) half of the
    /// time, else one near 1 (where latencies are).
    static func randomMagnitude(_ random: inout SplitMix64) -> Double {
        while true {
            let value: Double
            if random.next() & 1 == 0 {
                value = Double(bitPattern: random.next() & ~(1 << 63))
            } else {
                value = exp(random.unit() * 40 - 20)
            }
            if value > 0 && value.isFinite { return value }
        }
    }
}
