import ConveyorMetrics

/// What the remote writer pushes, where and how. Mirrors Prometheus' `remote_write` block.
///
/// ```swift
/// var target = RemoteWriteTargetConfiguration(url: "https://metrics.example/api/v1/write")
/// target.headers = ["X-Scope-OrgID": "tenant-a"]
/// let configuration = RemoteWriteConfiguration(
///     targets: [target], externalLabels: ["cluster": "edge-eu-1", "instance": "router-7"])
/// ```
public struct RemoteWriteConfiguration: Sendable {
    /// Where to push; each target has its own queue and sender thread.
    public var targets: [RemoteWriteTargetConfiguration]
    /// Labels added to every series (a series' own label of the same name wins).
    public var externalLabels: [String: String]
    /// Whether family metadata (type, help, unit) is sent, in sample-free requests
    /// (Prometheus' `metadata_config.send`).
    public var sendMetadata = true
    /// How often metadata is sent.
    public var metadataInterval: Duration = .seconds(60)
    /// On shutdown, how long the final snapshot and stale markers may take to deliver.
    public var shutdownTimeout: Duration = .seconds(10)

    /// A configuration; 1-minute metadata and a 10-second shutdown deadline unless changed.
    public init(targets: [RemoteWriteTargetConfiguration], externalLabels: [String: String] = [:]) {
        self.targets = targets
        self.externalLabels = externalLabels
    }

    /// Checks every target and the external labels; the error names the setting.
    public func validate() throws(RemoteWriteConfigurationError) {
        for (name, _) in externalLabels where !NameValidation.isValidLabelName(name) {
            throw RemoteWriteConfigurationError(key: "external_labels.\(name)", reason: "invalid label name")
        }
        var names = Set<String>()
        for (index, target) in targets.enumerated() {
            try target.validate(index: index)
            guard names.insert(target.resolvedName).inserted else {
                throw RemoteWriteConfigurationError(
                    key: "remote_write[\(index)].name", reason: "name '\(target.resolvedName)' is used twice")
            }
        }
    }
}
