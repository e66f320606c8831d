import ConveyorMetrics

@testable import ConveyorMetricsRemoteWrite

/// Requests in flight: the sender starts as many as its shards allow, and the receiver
/// answers them one at a time in an order drawn from the seed.
extension PushSimulation {
    /// A request the sender started, now in flight.
    func started(_ lifetime: Lifetime, id: Int, body: [UInt8], format: RequestFormat, timeout: Duration) {
        inFlight.append((id, body, format, timeout))
        mostInFlight = max(mostInFlight, inFlight.count)
        mostShards = max(mostShards, lifetime.machine.controller.shards)
    }

    /// Sender steps until it waits or finishes: every request it starts is in flight.
    func startRequests(_ lifetime: Lifetime) {
        while true {
            switch lifetime.machine.step() {
            case .post(let id, let body, let format, let timeout):
                started(lifetime, id: id, body: body, format: format, timeout: timeout)
            case .wait(let until):
                log("  wait \(until.map(String.init) ?? "-"), \(inFlight.count) in flight")
                return
            case .finished:
                log("  finished")
                return
            }
        }
    }

    /// The receiver answers one request in flight, drawn from `answerOrder`.
    func answerOne(_ lifetime: Lifetime) {
        guard !inFlight.isEmpty else { return }
        let request = inFlight.remove(at: answerOrder.int(in: 0...(inFlight.count - 1)))
        let before = receiver.stored.count
        let outcome = receiver.post(request.body, format: request.format, timeout: request.timeout)
        log(
            "  answered \(request.id): \(outcome); stored \(receiver.stored[before...].map { "\($0.key.suffix(30))@\($0.sample.timestampMilliseconds)" })"
        )
        lifetime.machine.handle(outcome, id: request.id)
        if trace, let disk = lifetime.target.context.disk {
            let file = fileSystem.bytes(Self.directory + "/sim/acknowledged").flatMap { AckPosition(bytes: $0) }
            log(
                "  ack \(disk.state.withLock { $0.acknowledged }) file \(file.map { "\($0)" } ?? "-") pending \(disk.pendingSamples)"
            )
        }
    }
}
