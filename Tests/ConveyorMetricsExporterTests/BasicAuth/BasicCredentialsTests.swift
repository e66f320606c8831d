import Testing

@testable import ConveyorMetricsExporter

@Suite("Basic credentials")
struct BasicCredentialsTests {
    private func parse(_ values: [String]) -> (user: String, password: String)? {
        guard case .success(let credentials) = BasicCredentials.parse(values) else { return nil }
        return (
            String(decoding: credentials.user, as: UTF8.self), String(decoding: credentials.password, as: UTF8.self)
        )
    }

    @Test func wellFormedHeaders() {
        // base64("prometheus:pw:with:colons") — the password may hold colons.
        let parsed = parse(["Basic cHJvbWV0aGV1czpwdzp3aXRoOmNvbG9ucw=="])
        #expect(parsed?.user == "prometheus")
        #expect(parsed?.password == "pw:with:colons")
        #expect(parse(["basic   YTpi  "])?.user == "a", "scheme case-insensitive, spaces around the token")
        #expect(parse(["BASIC Og=="]).map { $0.user + "|" + $0.password } == "|", "empty user and password")
        #expect(parse(["Basic YWxpY2U6"])?.password == "", "alice: with an empty password")
    }

    @Test func missingAndMalformedHeaders() {
        #expect(BasicCredentials.parse([]).failure == .missing)
        for malformed: [String] in [
            ["Bearer abc"], ["Basic"], ["Basic "], ["BasicYTpi"], ["Basic YTpi", "Basic YTpi"],
            ["Basic !!!!"], ["Basic YTpi="], ["Basic YTp"], ["Basic ===="], ["Basic Y=pi"],
            ["Basic bm9jb2xvbg=="],  // "nocolon"
            ["Basic " + String(repeating: "QUFB", count: 400)],  // over 1 KiB
            ["Digest username=\"a\""], ["Basic YTpi YTpi"],
        ] {
            #expect(BasicCredentials.parse(malformed).failure == .malformed, "\(malformed.map { $0.prefix(40) })")
        }
    }

    @Test func base64DecodesStrictly() {
        #expect(Base64.decode(Array("TWFu".utf8)) == Array("Man".utf8))
        #expect(Base64.decode(Array("TWE=".utf8)) == Array("Ma".utf8))
        #expect(Base64.decode(Array("TQ==".utf8)) == Array("M".utf8))
        #expect(Base64.decode(Array("+/+/".utf8)) == [0xFB, 0xFF, 0xBF])
        for bad in ["", "TQ=", "T===", "TQ==TWFu", "TW-u", "TWFu\n"] {
            #expect(Base64.decode(Array(bad.utf8)) == nil, "\(bad)")
        }
    }
}

extension Result {
    fileprivate var failure: Failure? {
        if case .failure(let failure) = self { return failure }
        return nil
    }
}
