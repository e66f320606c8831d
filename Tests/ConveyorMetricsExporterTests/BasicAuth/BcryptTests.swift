import Testing

@testable import ConveyorMetricsExporter

/// bcrypt through libcrypt's crypt_r, against hashes made by other implementations.
@Suite("bcrypt")
struct BcryptTests {
    /// (password, hash, maker): Apache's htpasswd (`htpasswd -nbBC`), Go's x/crypto/bcrypt
    /// (exporter-toolkit's dummy hash), and OpenWall's crypt_blowfish test vectors.
    static let vectors: [(String, String, String)] = [
        ("scrape-S3CRET-pw", "$2y$10$Ty5la3g9FfQLc4iHs0SAyOv2hVyE0V0cn10cjXb2d3Kax0ws6hDwC", "htpasswd, $2y$, cost 10"),
        ("correct horse", "$2y$04$8ajJ3lvlcgFioFu0feEY4epWBZDypnzXt1WO3IlwkOo5TcAYR9EGK", "htpasswd, $2y$, cost 4"),
        ("fakepassword", "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi", "Go, $2y$"),
        ("U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "crypt_blowfish, $2a$"),
        ("U*U*", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.VGOzA784oUp/Z0DY336zx7pLYAy0lwK", "crypt_blowfish, $2a$"),
        ("", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.7uG0VCzI2bS7j6ymqJi9CdcdxiRTWNy", "crypt_blowfish, empty"),
        ("U*U", "$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "$2b$ (same as $2a$ below 255 bytes)"),
    ]

    @Test(arguments: vectors.indices)
    func knownHashesVerifyAndOtherPasswordsDoNot(index: Int) {
        let (password, hash, maker) = Self.vectors[index]
        #expect(Bcrypt.verify(password: Array(password.utf8), hash: hash), "\(maker)")
        #expect(!Bcrypt.verify(password: Array((password + "x").utf8), hash: hash), "\(maker): longer")
        #expect(!Bcrypt.verify(password: Array("wrong".utf8), hash: hash), "\(maker): other")
        // The last hash character changed: the computed hash no longer equals the stored one.
        var tampered = Array(hash.utf8)
        tampered[tampered.count - 1] = tampered.last == UInt8(ascii: "a") ? UInt8(ascii: "b") : UInt8(ascii: "a")
        #expect(!Bcrypt.verify(password: Array(password.utf8), hash: String(decoding: tampered, as: UTF8.self)))
    }

    @Test func costIsReadFromWellFormedHashesOnly() {
        #expect(Bcrypt.cost(of: Self.vectors[0].1) == 10)
        #expect(Bcrypt.cost(of: Self.vectors[1].1) == 4)
        #expect(Bcrypt.cost(of: Self.vectors[3].1) == 5)
        let valid = Self.vectors[0].1
        for malformed in [
            "", "secret", "$2x$10$Ty5la3g9FfQLc4iHs0SAyOv2hVyE0V0cn10cjXb2d3Kax0ws6hDwC",  // $2x$ is not accepted
            "$2y$03$Ty5la3g9FfQLc4iHs0SAyOv2hVyE0V0cn10cjXb2d3Kax0ws6hDwC",  // cost below 4
            "$2y$32$Ty5la3g9FfQLc4iHs0SAyOv2hVyE0V0cn10cjXb2d3Kax0ws6hDwC",  // cost above 31
            "$2y$1a$Ty5la3g9FfQLc4iHs0SAyOv2hVyE0V0cn10cjXb2d3Kax0ws6hDwC",
            String(valid.dropLast()), valid + "x",
            "$2y$10$Ty5la3g9FfQLc4iHs0SAyOv2hVyE0V0cn10cjXb2d3Kax0ws6hDw!",  // outside bcrypt's base64
            "$1$saltsalt$qjXMvbEw8oaL.CzflDugX/",  // MD5-crypt
            "$6$rounds=5000$usesomesillystri$D4IrlXatmP7rx3P3InaxBeoomnAihCKRVQP22JZ6EY47Wc6BkroIuUUBOov1i.S5KPgErtP/EN5mcO.ChWQW21",
        ] {
            #expect(Bcrypt.cost(of: malformed) == nil, "\(malformed)")
            #expect(!Bcrypt.verify(password: Array("secret".utf8), hash: malformed))
        }
    }

    @Test func passwordsWithANulByteOrOver72BytesAreRefusedNotTruncated() throws {
        let hash = Self.vectors[1].1  // "correct horse"
        #expect(!Bcrypt.verify(password: Array("correct horse".utf8) + [0] + Array("tail".utf8), hash: hash))
        // bcrypt reads 72 bytes; libcrypt would accept any longer password with the same
        // first 72 bytes, so longer ones are refused.
        let seventyTwo = String(repeating: "a", count: 72)
        let computed = try #require(
            Bcrypt.crypt(password: Array(seventyTwo.utf8), setting: "$2b$04$CCCCCCCCCCCCCCCCCCCCC."))
        let stored = String(decoding: computed, as: UTF8.self)
        #expect(Bcrypt.verify(password: Array(seventyTwo.utf8), hash: stored))
        #expect(!Bcrypt.verify(password: Array((seventyTwo + "b").utf8), hash: stored))
    }

    @Test func constantTimeEqualCompares() {
        #expect(Bcrypt.constantTimeEqual([], []))
        #expect(Bcrypt.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!Bcrypt.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!Bcrypt.constantTimeEqual([0, 2, 3], [1, 2, 3]))
        #expect(!Bcrypt.constantTimeEqual([1, 2, 3], [1, 2]))
        #expect(!Bcrypt.constantTimeEqual([1, 2], [1, 2, 3]))
    }

    @Test func theDummyHashForUnknownUsersIsComputedAtTheGivenCost() {
        for cost in [4, 9, 10, 12] {
            let dummy = BasicAuthenticator.dummyHash(cost: cost)
            #expect(Bcrypt.cost(of: dummy) == cost)
            // libcrypt accepts it (a failure would skip the work an unknown user must cost).
            let computed = Bcrypt.crypt(password: Array("x".utf8), setting: dummy)
            #expect(computed?.count == 60)
            #expect(!Bcrypt.verify(password: Array("fakepassword".utf8), hash: dummy))
        }
    }
}
