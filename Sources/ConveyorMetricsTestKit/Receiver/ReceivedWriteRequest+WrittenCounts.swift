import ConveyorMetricsRemoteWrite

extension ReceivedWriteRequest {
    /// What a remote write 2.0 answer reports as written.
    public struct WrittenCounts: Sendable, Equatable {
        /// `X-Prometheus-Remote-Write-Samples-Written`.
        public var samples: Int
        /// `X-Prometheus-Remote-Write-Histograms-Written`.
        public var histograms: Int
        /// `X-Prometheus-Remote-Write-Exemplars-Written`.
        public var exemplars: Int

        /// Counts as an answer reports them.
        public init(samples: Int, histograms: Int, exemplars: Int) {
            self.samples = samples
            self.histograms = histograms
            self.exemplars = exemplars
        }

        /// The three response headers.
        package var headers: [(String, String)] {
            [
                (RemoteWriteProtocol.samplesWrittenHeader, "\(samples)"),
                (RemoteWriteProtocol.histogramsWrittenHeader, "\(histograms)"),
                (RemoteWriteProtocol.exemplarsWrittenHeader, "\(exemplars)"),
            ]
        }
    }
}
