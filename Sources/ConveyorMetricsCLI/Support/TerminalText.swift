/// Peer-chosen text made safe to print on a terminal: control characters (C0, DEL, C1),
/// bidirectional overrides and invisible separators are written as `\u{…}` escapes, a
/// backslash as `\\`, and the result is cut to `maxCharacters` (marked with `…`). A peer
/// cannot move the cursor, recolour, rewrite or hide what the operator reads.
enum TerminalText {
    static func escaped(_ text: String, maxCharacters: Int = 200) -> String {
        var result = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count >= maxCharacters {
                result += "…"
                break
            }
            count += 1
            if scalar == "\\" {
                result += "\\\\"
            } else if isUnsafe(scalar) {
                result += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    private static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: true  // C0, DEL, C1 (ESC and CSI among them)
        case 0x200B...0x200F, 0x2028...0x202E, 0x2060...0x2069, 0xFEFF: true  // zero-width, bidi, separators
        default: false
        }
    }
}
