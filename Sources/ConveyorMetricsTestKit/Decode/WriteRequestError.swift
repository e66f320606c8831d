/// Why a request body was refused.
public struct WriteRequestError: Error, Equatable, CustomStringConvertible {
    /// What is wrong, as the receiver answers it.
    public let description: String
    /// The request is well formed but over a ``WriteRequestLimits`` limit (answered 413;
    /// everything else is answered 400).
    public let isTooLarge: Bool

    /// An error with its description.
    public init(_ description: String, isTooLarge: Bool = false) {
        self.description = description
        self.isTooLarge = isTooLarge
    }

    /// The status a receiver answers it with: 413 or 400.
    public var status: Int { isTooLarge ? 413 : 400 }
}
