/// The registry's families by name, and the same families sorted by name for rendering,
/// kept until a family comes or goes (a render no longer sorts 100 names every scrape).
struct FamilyIndex {
    private var byName: [String: any RegisteredFamily]
    private var sortedCache: [any RegisteredFamily]?

    init(_ byName: [String: any RegisteredFamily]) { self.byName = byName }

    subscript(name: String) -> (any RegisteredFamily)? {
        get { byName[name] }
        set {
            byName[name] = newValue
            sortedCache = nil
        }
    }

    var count: Int { byName.count }

    /// The families sorted by name (by their UTF-8 bytes, as Prometheus sorts).
    mutating func sorted() -> [any RegisteredFamily] {
        if let sortedCache { return sortedCache }
        let sorted = byName.values.sorted {
            $0.descriptor.name.utf8.lexicographicallyPrecedes($1.descriptor.name.utf8)
        }
        sortedCache = sorted
        return sorted
    }
}
