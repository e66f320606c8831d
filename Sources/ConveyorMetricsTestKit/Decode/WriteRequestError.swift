/// Why a request was refused.
public struct WriteRequestError: Error, Equatable, CustomStringConvertible {
    /// What is wrong, as the receiver answers it.
    public let description: String
    /// The status a receiver answers it with: 413 for a request over a ``WriteRequestLimits``
    /// limit, 415 for a `Content-Type` it does not accept, 400 for everything else.
    public let status: Int

    /// An error with its description: 413 when `isTooLarge`, else 400.
    public init(_ description: String, isTooLarge: Bool = false) {
        self.init(description, status: isTooLarge ? 413 : 400)
    }

    package init(_ description: String, status: Int) {
        self.description = description
        self.status = status
    }

    /// The request is well formed but over a ``WriteRequestLimits`` limit (answered 413).
    public var isTooLarge: Bool { status == 413 }
}
