#if os(Linux)
    import CCrypt
#endif

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// bcrypt password hashes (`$2y$`, `$2b$`, `$2a$`) checked with libcrypt's reentrant
/// `crypt_r`. A check takes tens of milliseconds at cost 10 and blocks its thread: call
/// ``verify(password:hash:)`` on NIO's thread pool, never on an event loop or the Swift
/// concurrency pool.
package enum Bcrypt {
    /// bcrypt uses at most 72 bytes of a password; longer ones are refused rather than cut.
    package static let maxPasswordBytes = 72

    /// The cost of a well-formed hash, or nil when `hash` is not a bcrypt hash:
    /// `$2y$`, `$2b$` or `$2a$`, a two-digit cost from 04 to 31, `$`, then 53 characters of
    /// bcrypt's base64 (22 of salt, 31 of hash).
    package static func cost(of hash: String) -> Int? {
        let bytes = Array(hash.utf8)
        guard bytes.count == 60, bytes[0] == UInt8(ascii: "$"), bytes[1] == UInt8(ascii: "2"),
            [UInt8(ascii: "a"), UInt8(ascii: "b"), UInt8(ascii: "y")].contains(bytes[2]),
            bytes[3] == UInt8(ascii: "$"), bytes[6] == UInt8(ascii: "$"),
            let tens = digit(bytes[4]), let ones = digit(bytes[5])
        else { return nil }
        let cost = tens * 10 + ones
        guard (4...31).contains(cost), bytes[7...].allSatisfy(isBcryptBase64) else { return nil }
        return cost
    }

    /// Whether `password` hashes to `hash`. The computed hash is compared with the stored one
    /// in constant time. False for a malformed hash, a password with a NUL byte or one longer
    /// than ``maxPasswordBytes``. Blocking (see the type's note).
    package static func verify(password: [UInt8], hash: String) -> Bool {
        guard cost(of: hash) != nil, password.count <= maxPasswordBytes, !password.contains(0) else {
            return false
        }
        guard let computed = crypt(password: password, setting: hash) else { return false }
        return constantTimeEqual(computed, Array(hash.utf8))
    }

    /// `crypt_r(password, setting)`, or nil when libcrypt refuses (it returns a failure token
    /// starting with `*`). `struct crypt_data` is 32 KiB: it lives on the heap, zeroed, and is
    /// zeroed again before it is freed (it held the password's key schedule).
    static func crypt(password: [UInt8], setting: String) -> [UInt8]? {
        #if os(Linux)
            return cryptR(password: password, setting: setting)
        #else
            return nil  // no crypt_r or bcrypt outside Linux' libcrypt: every check fails closed
        #endif
    }

    #if os(Linux)
        private static func cryptR(password: [UInt8], setting: String) -> [UInt8]? {
            let size = MemoryLayout<crypt_data>.size
            let data = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: MemoryLayout<crypt_data>.alignment)
            data.initializeMemory(as: UInt8.self, repeating: 0, count: size)
            defer {
                data.initializeMemory(as: UInt8.self, repeating: 0, count: size)
                data.deallocate()
            }
            let typed = data.bindMemory(to: crypt_data.self, capacity: 1)
            var phrase = password.map { CChar(bitPattern: $0) }
            phrase.append(0)
            defer {
                for index in phrase.indices { phrase[index] = 0 }
            }
            guard let output = crypt_r(phrase, setting, typed) else { return nil }
            let result = Array(UnsafeRawBufferPointer(start: output, count: strlen(output)))
            guard let first = result.first, first != UInt8(ascii: "*") else { return nil }
            return result
        }
    #endif

    /// Equal length and bytes, in time that depends on the length only.
    package static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }

    private static func digit(_ byte: UInt8) -> Int? {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) ? Int(byte - UInt8(ascii: "0")) : nil
    }

    private static func isBcryptBase64(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: ".")
            || byte == UInt8(ascii: "/")
    }
}
