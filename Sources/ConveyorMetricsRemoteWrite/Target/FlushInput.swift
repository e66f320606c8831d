import ConveyorMetrics

/// What a flush samples: a snapshot, or the registry itself, whose values the sampler reads
/// straight while its series are those of the previous flush (no snapshot built) and which
/// it snapshots when they are not.
enum FlushInput {
    case snapshot(MetricsSnapshot)
    case registry(MetricsRegistry)
}
