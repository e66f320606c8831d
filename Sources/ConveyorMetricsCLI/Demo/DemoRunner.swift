import ConveyorMetrics
import ConveyorMetricsExporter
import ConveyorMetricsRemoteWrite
import ConveyorMetricsTestKit
import Logging
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs the demo: the simulated router recording into its own registry, the exporter
/// serving it, the remote writer pushing it (to `push`, or to an embedded receiver on
/// loopback when `push` has no targets), a status line every `statusInterval`; stops on
/// SIGINT/SIGTERM or after `duration`, always gracefully.
package struct DemoRunner: Sendable {
    package var listen: ListenAddress
    package var metricsPath: String
    /// TLS, basic auth and response headers of the exporter (`exporter.web_config_file`).
    package var web = WebConfig()
    /// Where to push; with no targets the demo pushes to its own embedded receiver.
    package var push: RemoteWriteConfiguration = RemoteWriteConfiguration(targets: [])
    /// The push interval for the embedded receiver.
    package var embeddedPushInterval: Duration = .seconds(5)
    package var duration: Duration?
    package var statusInterval: Duration
    package var tick: Duration
    package var handleSignals: Bool
    /// Whether the registry also exports the standard `process_*` metrics.
    package var processMetrics = true
    /// The routing latency's native histogram (config `native_histograms`): by default the
    /// demo records both representations, so a Prometheus with native histograms enabled
    /// sees them with no set-up; the text formats keep the classic buckets.
    package var routingLatencyNative: NativeHistogramOptions? = NativeHistogramOptions(keepClassicBuckets: true)

    package init(
        listen: ListenAddress, metricsPath: String = "/metrics", duration: Duration? = nil,
        statusInterval: Duration = .seconds(5), tick: Duration = .milliseconds(100), handleSignals: Bool = true
    ) {
        self.listen = listen
        self.metricsPath = metricsPath
        self.duration = duration
        self.statusInterval = statusInterval
        self.tick = tick
        self.handleSignals = handleSignals
    }

    /// Runs until a signal or the duration; `onListening` receives the bound port.
    package func run(
        registry: MetricsRegistry = MetricsRegistry(), logger: Logger = Logger(label: "conveyor-metrics.demo"),
        onListening: @Sendable (Int) -> Void = { _ in }
    ) async throws {
        if processMetrics { registry.registerProcessMetrics() }
        let metrics = ConveyorRouterMetrics(registry: registry, routingLatencyNative: routingLatencyNative)
        let simulation = RouterSimulation(metrics: metrics, tick: tick)
        simulation.recordFirstTick()
        var configuration = MetricsExporter.Configuration(host: listen.host, port: listen.port, path: metricsPath)
        web.apply(to: &configuration)
        let exporter = MetricsExporter(configuration: configuration, registry: registry, logger: logger)
        try await exporter.start()
        let port = exporter.boundPort ?? listen.port
        var push = push
        var receiver: RemoteWriteReceiver?
        if push.targets.isEmpty {
            let embedded = RemoteWriteReceiver(host: "127.0.0.1", port: 0, keepRequests: false)
            try await embedded.start()
            receiver = embedded
            var target = RemoteWriteTargetConfiguration(url: embedded.url)
            target.name = "embedded"
            target.pushInterval = embeddedPushInterval
            push.targets = [target]
            if push.externalLabels.isEmpty { push.externalLabels = ["instance": "demo-router"] }
        }
        let writer = try RemoteWriter(configuration: push, registry: registry, logger: logger)
        onListening(port)
        logger.info(
            "demo router running",
            metadata: [
                "metrics":
                    "\(web.tls == nil ? "http" : "https")://\(ListenAddress(host: listen.host, port: port))\(metricsPath)",
                "remote_write": "\(push.targets.map(\.resolvedName).joined(separator: ","))",
            ])

        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: exporter),
            .init(service: simulation),
            .init(service: writer),
            .init(
                service: StatusReporter(
                    registry: registry, exporter: exporter, writer: writer, receiver: receiver, interval: statusInterval
                )),
        ]
        if let duration {
            services.append(
                .init(service: Deadline(after: duration), successTerminationBehavior: .gracefullyShutdownGroup))
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services, gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [],
                logger: logger))
        try await group.run()
        await exporter.shutdown()
        await receiver?.shutdown()
        logger.info("demo router stopped", metadata: ["scrapes": "\(exporter.scrapeCount)"])
    }
}
