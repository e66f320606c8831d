import ConveyorMetricsTestSupport
import Logging
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsRemoteWrite

/// One target's pipeline parts driven by hand (no threads): a simulated clock, receiver and
/// (optionally) file system, the target and its sender machine.
struct PipelineHarness {
    static let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    let registry = MetricsRegistry()
    let metrics = MetricsRegistry()
    let clock = SimulatedClock()
    let receiver: SimulatedReceiver
    let target: RemoteWriteTarget
    let machine: SenderMachine

    init(
        disk fileSystem: SimulatedFileSystem? = nil, logger: Logger = PipelineHarness.quiet,
        configure: (inout RemoteWriteTargetConfiguration) -> Void = { _ in }
    ) {
        var configuration = RemoteWriteTargetConfiguration(url: "http://receiver.test/api/v1/write")
        configuration.name = "t"
        if fileSystem != nil { configuration.queue.storagePath = "/q" }
        configure(&configuration)
        let receiver = SimulatedReceiver(clock: clock)
        self.receiver = receiver
        target = RemoteWriteTarget(
            configuration: configuration, externalLabels: [:], registry: metrics, logger: logger,
            clock: clock, fileSystem: fileSystem ?? SimulatedFileSystem(seed: 1), makeTransport: { _ in receiver })
        if case .failure(let error) = target.setUp() { Issue.record("set-up failed: \(error)") }
        machine = SenderMachine(target: target.context, memory: target.context.memory)
        if let disk = target.context.disk { machine.attach(disk: disk) }
    }

    /// Sender steps until it waits or finishes; returns the requests posted.
    @discardableResult
    func send(_ answer: SimulatedReceiver.Answer = .accept, limit: Int = 1_000) -> Int {
        receiver.answer = answer
        var posted = 0
        for _ in 0..<limit {
            guard case .post(let id, let body, let format, let timeout) = machine.step() else { return posted }
            posted += 1
            machine.handle(receiver.post(body, format: format, timeout: timeout), id: id)
        }
        return posted
    }

    func gauge(_ name: String) -> Double? {
        metrics.snapshot().family(named: "conveyor_metrics_remote_write_\(name)")?.series.first?.value.scalar
    }
}
