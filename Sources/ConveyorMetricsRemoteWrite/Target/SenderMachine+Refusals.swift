import ConveyorMetrics

/// Answers that make the sender send a request again in another shape at once: a receiver
/// that does not take remote write 2.0, and one that refuses native histograms.
extension SenderMachine {
    /// The request of stream `index` goes again as 1.0, at once (nothing counted as sent or
    /// failed): the target fell back.
    func resendAsV1(_ index: Int) {
        guard let request = streams[index].active?.request else { return }
        var again = request
        again.format = .v1
        switch request.origin {
        case .memory(let chunks):
            again.body = encoder.encode(chunks, as: .v1)
        case .disk:
            do throws(RequestEncoder.TranscodeError) {
                again.body = try RequestEncoder.v1(fromV2: request.body)
            } catch {
                target.metrics.dropped(request.samples, reason: "corrupt")
                target.logLimited("a stored request could not be turned into 1.0; dropped", ["error": "\(error)"])
                release(index)
                return
            }
        case .metadata:
            break
        }
        replace(index, with: again)
    }

    /// What Prometheus answers (500) to native histograms when they are not enabled; it
    /// stores nothing of that request.
    static let nativeHistogramsDisabled = "native histograms are disabled"

    /// The receiver refused the native histograms of stream `index`'s request: they are
    /// dropped (counted), the rest goes again at once, and snapshots from now on carry
    /// classic buckets instead. False when the request held no histograms (the 500 is then
    /// an ordinary failure).
    func refuseNativeHistograms(_ index: Int) -> Bool {
        guard let request = streams[index].active?.request else { return false }
        var again = request
        let dropped: Int
        switch request.origin {
        case .memory(let chunks):
            let stripped = HistogramStripping.withoutHistograms(chunks)
            dropped = stripped.dropped
            guard dropped > 0 else { return false }
            again = OutgoingRequest(
                body: stripped.chunks.isEmpty ? [] : encoder.encode(stripped.chunks, as: request.format),
                format: request.format, samples: request.samples - dropped, oldestTimestamp: request.oldestTimestamp,
                newestTimestamp: request.newestTimestamp, origin: .memory(stripped.chunks))
        case .disk:
            do throws(RequestEncoder.TranscodeError) {
                let stripped = try HistogramStripping.withoutHistograms(body: request.body, format: request.format)
                dropped = stripped.dropped
                guard dropped > 0 else { return false }
                again = OutgoingRequest(
                    body: stripped.body, format: request.format, samples: request.samples - dropped,
                    oldestTimestamp: request.oldestTimestamp, newestTimestamp: request.newestTimestamp,
                    origin: request.origin)
            } catch {
                return false
            }
        case .metadata:
            return false
        }
        if target.nativeHistograms.exchange(false, ordering: .relaxed) {
            target.metrics.nativeHistogramsRefused.increment()
            target.logger.warning(
                "the receiver refused native histograms; sending classic buckets from now on",
                metadata: [
                    "answer": "HTTP 500: \(Self.nativeHistogramsDisabled)",
                    "hint": "enable native histograms on the receiver, or set send_native_histograms: false",
                ])
        }
        target.metrics.dropped(dropped, reason: "native_histograms_refused")
        // The histograms leave the request (and what the sender holds) as dropped.
        switch request.origin {
        case .memory: target.heldMemory.subtract(dropped, ordering: .relaxed)
        case .disk: target.settledOnDisk.add(dropped, ordering: .relaxed)
        case .metadata: break
        }
        replace(index, with: again)
        if again.samples <= 0 { release(index) }
        return true
    }
}
