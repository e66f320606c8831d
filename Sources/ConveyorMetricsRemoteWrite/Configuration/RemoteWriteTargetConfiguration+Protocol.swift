extension RemoteWriteTargetConfiguration {
    /// Which remote-write protocol a target speaks: Prometheus' `protobuf_message` setting,
    /// plus ``auto``.
    public enum ProtobufMessage: String, Sendable, CaseIterable {
        /// Remote write 1.0 (`prometheus.WriteRequest`): every receiver takes it.
        case v1 = "prometheus.WriteRequest"
        /// Remote write 2.0 (`io.prometheus.write.v2.Request`): symbols, metadata inline,
        /// start timestamps; 0.6× the bytes of 1.0 for large registries, about the same for
        /// small ones. A 1.x receiver answers it 204 and stores nothing, so choose it only for
        /// receivers known to speak 2.0 (or use ``auto``).
        case v2 = "io.prometheus.write.v2.Request"
        /// Sends 2.0, and falls back to 1.0 for this target when the receiver answers 415, or
        /// answers 2xx without `X-Prometheus-Remote-Write-Samples-Written` (a 1.x receiver that
        /// stored nothing): the same samples are sent again as 1.0, so nothing is lost. 2.0 is
        /// tried again after ``RemoteWriteTargetConfiguration/protocolProbeInterval``.
        case auto
    }
}
