import Foundation

/// A temporary queue directory, removed at the end of the test.
package struct TemporaryDirectory: ~Copyable {
    package let path: String
    package init() {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("cm-disk-\(UUID().uuidString)").path
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }

    package func segments() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasSuffix(".seg") }.sorted()
            .map { path + "/" + $0 }
    }
}
