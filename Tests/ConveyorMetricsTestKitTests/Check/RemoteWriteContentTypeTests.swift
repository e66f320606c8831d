import Testing

@testable import ConveyorMetricsTestKit

/// `Content-Type` as HTTP allows it: the protocol it announces, or a 415 with the reason.
@Suite("Remote-write content type")
struct RemoteWriteContentTypeTests {
    @Test(arguments: [
        ("application/x-protobuf", DecodedWriteRequest.ProtocolVersion.v1),
        ("application/x-protobuf;proto=prometheus.WriteRequest", .v1),
        ("application/x-protobuf;proto=io.prometheus.write.v2.Request", .v2),
        ("Application/X-Protobuf ; Proto=io.prometheus.write.v2.Request", .v2),
        ("application/x-protobuf; proto=\"io.prometheus.write.v2.Request\"", .v2),
        ("application/x-protobuf; charset=utf-8;proto=io.prometheus.write.v2.Request ", .v2),
        ("application/x-protobuf;;proto=io.prometheus.write.v2.Request;", .v2),
        ("\tapplication/x-protobuf;\tproto=prometheus.WriteRequest", .v1),
        ("application/x-protobuf; q=\"a;b\"; proto=io.prometheus.write.v2.Request", .v2),
    ])
    func announcedProtocols(contentType: String, expected: DecodedWriteRequest.ProtocolVersion) throws {
        #expect(try RemoteWriteContentType.protocolVersion(of: contentType).get() == expected)
    }

    @Test(
        arguments: [
            (nil, "no Content-Type"),
            ("", "no Content-Type"),
            ("application/json", "is not application/x-protobuf"),
            ("text/plain;proto=io.prometheus.write.v2.Request", "is not application/x-protobuf"),
            ("application/x-protobuf;proto=io.prometheus.write.v3.Request", "proto='io.prometheus.write.v3.Request'"),
            ("application/x-protobuf;proto=IO.Prometheus.Write.V2.Request", "is not accepted"),
            ("application/x-protobuf;proto=", "is not a media type"),
            ("application/x-protobuf; proto = io.prometheus.write.v2.Request", "is not a media type"),
            ("application/x-protobuf;proto=\"io.prometheus.write.v2.Request", "is not a media type"),
            ("application/x-protobuf/v2", "is not a media type"),
            (
                "application/x-protobuf;proto=prometheus.WriteRequest;proto=io.prometheus.write.v2.Request",
                "more than one"
            ),
        ] as [(String?, String)])
    func otherMediaTypesAre415WithAReason(contentType: String?, reason: String) {
        let result = RemoteWriteContentType.protocolVersion(of: contentType)
        guard case .failure(let error) = result else {
            Issue.record("\(contentType ?? "nil") was accepted")
            return
        }
        #expect(error.status == 415)
        #expect(error.description.contains(reason), "\(error)")
    }

    @Test func aLongContentTypeIsCutShortInTheReason() {
        let long = "application/" + String(repeating: "x", count: 5_000)
        guard case .failure(let error) = RemoteWriteContentType.protocolVersion(of: long) else {
            Issue.record("accepted")
            return
        }
        #expect(error.status == 415 && error.description.count < 300, "\(error.description.count) characters")
    }
}
