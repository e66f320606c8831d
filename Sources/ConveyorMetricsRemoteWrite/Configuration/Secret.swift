import ConveyorMetrics

/// A password or token: its description never shows the value.
public struct Secret: Sendable, CustomStringConvertible, CustomDebugStringConvertible, ExpressibleByStringLiteral {
    package let value: String

    /// Wraps a secret value.
    public init(_ value: String) { self.value = value }
    /// Wraps a literal (for tests and examples).
    public init(stringLiteral value: String) { self.value = value }

    /// Always `<secret>`.
    public var description: String { "<secret>" }
    /// Always `<secret>`.
    public var debugDescription: String { "<secret>" }
}
