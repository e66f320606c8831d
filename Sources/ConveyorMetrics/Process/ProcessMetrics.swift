import Synchronization

extension MetricsRegistry {
    /// Adds the standard process metrics every Prometheus client exports, with
    /// client_golang's names: `process_cpu_seconds_total`, `process_resident_memory_bytes`,
    /// `process_virtual_memory_bytes`, `process_open_fds`, `process_max_fds` and
    /// `process_start_time_seconds`. They are read from `/proc` each time the registry is
    /// rendered or snapshotted (a scrape, a push), so they cost nothing in between.
    ///
    /// Calling it again does nothing. Where `/proc` is missing (not Linux), nothing is added.
    ///
    /// ```swift
    /// let registry = MetricsRegistry()
    /// registry.registerProcessMetrics()
    /// ```
    public func registerProcessMetrics() {
        guard ProcessStats.current() != nil else { return }
        guard processMetricsRegistered.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged
        else { return }
        let cpu = counterFamily(
            name: "process_cpu_seconds_total", help: "Total user and system CPU time spent in seconds.",
            unit: "seconds"
        ).series()
        let resident = gaugeFamily(
            name: "process_resident_memory_bytes", help: "Resident memory size in bytes.", unit: "bytes"
        ).series()
        let virtual = gaugeFamily(
            name: "process_virtual_memory_bytes", help: "Virtual memory size in bytes.", unit: "bytes"
        ).series()
        let openFDs = gaugeFamily(name: "process_open_fds", help: "Number of open file descriptors.").series()
        let maxFDs = gaugeFamily(name: "process_max_fds", help: "Maximum number of open file descriptors.").series()
        let start = gaugeFamily(
            name: "process_start_time_seconds", help: "Start time of the process since unix epoch in seconds.",
            unit: "seconds"
        ).series()
        addCollector {
            guard let stats = ProcessStats.current() else { return }
            cpu.setTotal(stats.cpuSeconds)
            resident.set(stats.residentBytes)
            virtual.set(stats.virtualBytes)
            openFDs.set(stats.openFileDescriptors)
            maxFDs.set(stats.maxFileDescriptors)
            if let started = stats.startTimeSeconds { start.set(started) }
        }
    }
}
