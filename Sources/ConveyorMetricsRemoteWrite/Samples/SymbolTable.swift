import ConveyorMetrics

/// Interns the strings of one sampler's series (label names and values, help, units) so
/// that series sharing a string share one ``Symbol``. Strings no series uses any more are
/// let go when the table has doubled since its last sweep (amortized O(1) per string).
/// Used by one thread at a time, like its sampler.
final class SymbolTable {
    /// Keyed by UTF-8 bytes, not `String`: two strings that are canonically equivalent but
    /// differ in bytes (NFC and NFD "é") are different labels to a receiver.
    private var symbols: [[UInt8]: Symbol] = [:]
    private var sweepAt = 1024

    /// The symbol of `string`; nil for the empty string (index 0 of every request).
    func symbol(_ string: String) -> Symbol? {
        guard !string.isEmpty else { return nil }
        let bytes = Array(string.utf8)
        if let existing = symbols[bytes] { return existing }
        if symbols.count >= sweepAt { sweep() }
        let symbol = Symbol(string)
        symbols[bytes] = symbol
        return symbol
    }

    /// Drops the symbols only this table still holds.
    func sweep() {
        var index = symbols.values.startIndex
        var unused: [[UInt8]] = []
        while index != symbols.values.endIndex {
            if isKnownUniquelyReferenced(&symbols.values[index]) { unused.append(symbols.keys[index]) }
            index = symbols.values.index(after: index)
        }
        for string in unused { symbols[string] = nil }
        sweepAt = max(1024, 2 * symbols.count)
    }
}
