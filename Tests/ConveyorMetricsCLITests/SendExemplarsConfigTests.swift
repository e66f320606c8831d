import Testing

@testable import ConveyorMetricsCLI

/// `send_exemplars` in a `remote_write` entry, Prometheus' key: off unless set.
@Suite("Config file, send_exemplars")
struct SendExemplarsConfigTests {
    @Test func sendExemplarsIsReadAndOffByDefault() throws {
        let yaml = """
            remote_write:
              - url: http://a/
              - url: http://b/
                send_exemplars: true
              - url: http://c/
                send_exemplars: false
            """
        let targets = try ConfigFile.parse(yaml, file: "r.yml").remoteWrite
        #expect(targets.map(\.sendExemplars) == [false, true, false])
    }

    @Test func aNonBooleanIsAnError() {
        #expect(throws: (any Error).self) {
            try ConfigFile.parse("remote_write:\n  - url: http://a/\n    send_exemplars: maybe\n", file: "r.yml")
        }
    }
}
