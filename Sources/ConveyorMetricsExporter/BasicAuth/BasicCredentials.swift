/// The user and password of an `Authorization: Basic <base64(user:password)>` header (RFC 7617).
///
/// Parsing never traps and never keeps more than ``maxHeaderBytes``: anything that is not
/// exactly one well-formed Basic header is ``Problem/malformed``.
struct BasicCredentials {
    let user: [UInt8]
    let password: [UInt8]

    /// No user name and password together come near this; longer headers are refused unread.
    static let maxHeaderBytes = 1024

    enum Problem: Error, Equatable {
        /// No Authorization header.
        case missing
        /// More than one, another scheme, bad base64, no colon, too long.
        case malformed
    }

    /// The credentials in `values` (every `Authorization` header of the request).
    static func parse(_ values: [String]) -> Result<BasicCredentials, Problem> {
        guard let value = values.first else { return .failure(.missing) }
        guard values.count == 1 else { return .failure(.malformed) }
        let bytes = value.utf8
        guard bytes.count <= maxHeaderBytes else { return .failure(.malformed) }
        // The scheme is case-insensitive; one or more spaces separate it from the token.
        let scheme = Array("basic".utf8)
        guard bytes.count > scheme.count,
            zip(bytes.prefix(scheme.count), scheme).allSatisfy({ lowercased($0) == $1 })
        else { return .failure(.malformed) }
        var token = bytes.dropFirst(scheme.count)
        guard token.first == UInt8(ascii: " ") else { return .failure(.malformed) }
        while token.first == UInt8(ascii: " ") { token = token.dropFirst() }
        while token.last == UInt8(ascii: " ") { token = token.dropLast() }
        guard let decoded = Base64.decode(Array(token)),
            let colon = decoded.firstIndex(of: UInt8(ascii: ":"))
        else { return .failure(.malformed) }
        return .success(
            BasicCredentials(user: Array(decoded[..<colon]), password: Array(decoded[(colon + 1)...])))
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
    }
}

/// Standard base64 (RFC 4648 §4) with padding, strictly: a length that is not a multiple of
/// four, a character outside the alphabet, or padding anywhere but the end is nil.
enum Base64 {
    static func decode(_ text: [UInt8]) -> [UInt8]? {
        guard !text.isEmpty, text.count % 4 == 0 else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(text.count / 4 * 3)
        var index = 0
        while index < text.count {
            let isLast = index + 4 == text.count
            let padding = isLast ? text[index...].reversed().prefix { $0 == UInt8(ascii: "=") }.count : 0
            guard padding <= 2 else { return nil }
            var group: UInt32 = 0
            for offset in 0..<4 {
                let byte = text[index + offset]
                let value: UInt8
                if offset >= 4 - padding {
                    value = 0
                } else if let decoded = sextet(byte) {
                    value = decoded
                } else {
                    return nil
                }
                group = group << 6 | UInt32(value)
            }
            output.append(UInt8(truncatingIfNeeded: group >> 16))
            if padding < 2 { output.append(UInt8(truncatingIfNeeded: group >> 8)) }
            if padding < 1 { output.append(UInt8(truncatingIfNeeded: group)) }
            index += 4
        }
        return output
    }

    private static func sextet(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): byte - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): byte - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): 62
        case UInt8(ascii: "/"): 63
        default: nil
        }
    }
}
