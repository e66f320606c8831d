import ConveyorMetricsRemoteWrite

/// Reads the remote-write protocol a request's `Content-Type` announces, as an HTTP media
/// type (RFC 9110 §8.3.1): type, subtype and parameter names case-insensitive, optional
/// whitespace around each `;`, a parameter value a token or a quoted string (compared
/// exactly). `application/x-protobuf` without `proto=` is remote write 1.0.
package enum RemoteWriteContentType {
    /// The protocol `contentType` announces, or why it announces none this package knows
    /// (an error answered 415).
    package static func protocolVersion(of contentType: String?)
        -> Result<DecodedWriteRequest.ProtocolVersion, WriteRequestError>
    {
        guard let contentType, !contentType.isEmpty else {
            return .failure(
                unsupported(
                    "no Content-Type: send \(RemoteWriteProtocol.contentType) (remote write 1.0) or"
                        + " \(RemoteWriteProtocol.v2ContentType) (remote write 2.0)"))
        }
        guard let mediaType = MediaType(parsing: Array(contentType.utf8)) else {
            return .failure(unsupported("Content-Type \(quoted(contentType)) is not a media type"))
        }
        guard mediaType.type == "application", mediaType.subtype == "x-protobuf" else {
            return .failure(
                unsupported("Content-Type \(quoted(contentType)) is not \(RemoteWriteProtocol.contentType)"))
        }
        let messages = mediaType.parameters.filter { $0.name == "proto" }.map(\.value)
        switch messages.count {
        case 0: return .success(.v1)
        case 1: break
        default: return .failure(unsupported("Content-Type \(quoted(contentType)) has more than one proto parameter"))
        }
        switch messages[0] {
        case RemoteWriteProtocol.v1Message: return .success(.v1)
        case RemoteWriteProtocol.v2Message: return .success(.v2)
        default:
            return .failure(
                unsupported(
                    "proto=\(quoted(messages[0])) is not accepted: send proto=\(RemoteWriteProtocol.v1Message)"
                        + " or proto=\(RemoteWriteProtocol.v2Message)"))
        }
    }

    static func unsupported(_ reason: String) -> WriteRequestError {
        WriteRequestError("unsupported media type: \(reason)", status: 415)
    }

    /// A peer's text in an answer: quoted and cut short.
    private static func quoted(_ text: String) -> String {
        text.count > 80 ? "'\(text.prefix(80))…'" : "'\(text)'"
    }
}

/// `type/subtype *(OWS ";" OWS [name=value])`, names lowercased, values unquoted.
private struct MediaType {
    var type = ""
    var subtype = ""
    var parameters: [(name: String, value: String)] = []

    init?(parsing bytes: [UInt8]) {
        var position = 0
        Self.skipWhitespace(bytes, &position)
        guard let type = Self.token(bytes, &position), position < bytes.count, bytes[position] == UInt8(ascii: "/")
        else { return nil }
        position += 1
        guard let subtype = Self.token(bytes, &position) else { return nil }
        self.type = type.lowercased()
        self.subtype = subtype.lowercased()
        while true {
            Self.skipWhitespace(bytes, &position)
            guard position < bytes.count else { return }
            guard bytes[position] == UInt8(ascii: ";") else { return nil }
            position += 1
            Self.skipWhitespace(bytes, &position)
            guard position < bytes.count, bytes[position] != UInt8(ascii: ";") else { continue }  // empty parameter
            guard let name = Self.token(bytes, &position), position < bytes.count,
                bytes[position] == UInt8(ascii: "=")
            else { return nil }
            position += 1
            guard let value = Self.quotedString(bytes, &position) ?? Self.token(bytes, &position) else { return nil }
            parameters.append((name.lowercased(), value))
        }
    }

    private static func skipWhitespace(_ bytes: [UInt8], _ position: inout Int) {
        while position < bytes.count, bytes[position] == 0x20 || bytes[position] == 0x09 { position += 1 }
    }

    /// RFC 9110 `token`: one or more `tchar`.
    private static func token(_ bytes: [UInt8], _ position: inout Int) -> String? {
        let start = position
        while position < bytes.count, isTokenCharacter(bytes[position]) { position += 1 }
        return position > start ? String(decoding: bytes[start..<position], as: UTF8.self) : nil
    }

    private static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default: Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }

    /// RFC 9110 `quoted-string`, unescaped; nil when there is none at `position`.
    private static func quotedString(_ bytes: [UInt8], _ position: inout Int) -> String? {
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { return nil }
        var index = position + 1
        var value: [UInt8] = []
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\""):
                position = index + 1
                return String(decoding: value, as: UTF8.self)
            case UInt8(ascii: "\\") where index + 1 < bytes.count:
                value.append(bytes[index + 1])
                index += 2
            case let byte where byte == 0x09 || byte >= 0x20 && byte != 0x7F:
                value.append(byte)
                index += 1
            default: return nil
            }
        }
        return nil
    }
}
