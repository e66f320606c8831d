import ConveyorMetricsTestSupport
import Foundation
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsCLI
@testable import ConveyorMetricsFuzzing

@Suite("Config file")
struct ConfigFileTests {
    @Test func parsesTheExporterBlock() throws {
        let config = try ConfigFile.parse("exporter:\n  listen: 127.0.0.1:9191\n  path: /m\n", file: "c.yml")
        #expect(config.listen == ListenAddress(host: "127.0.0.1", port: 9191))
        #expect(config.metricsPath == "/m")
        let empty = try ConfigFile.parse("", file: "empty.yml")
        #expect(empty.listen == ListenAddress(host: "0.0.0.0", port: 9090))
        #expect(empty.remoteWrite.isEmpty)
    }

    @Test func theExampleConfigIsValid() throws {
        let config = try ConfigFile.load(path: PackagePaths.file("config/conveyor-metrics.yml").path)
        #expect(config.listen.port == 9090)
        #expect(!config.remoteWrite.isEmpty)
    }

    @Test func remoteWriteInPrometheusVocabulary() throws {
        let yaml = """
            external_labels: { cluster: edge-eu-1, instance: router-7 }
            remote_write:
              - url: https://metrics.example/api/v1/write
                name: central
                push_interval: 15s
                remote_timeout: 30s
                headers: { X-Scope-OrgID: tenant-a }
                basic_auth: { username: edge, password_file: /run/secrets/rw }
                tls_config: { ca_file: /etc/ssl/ca.pem, server_name: metrics.internal, insecure_skip_verify: false }
                proxy_url: http://proxy:3128
                queue_config: { capacity: 100000, max_samples_per_send: 2000,
                                min_backoff: 30ms, max_backoff: 5s, retry_on_http_429: true }
              - url: http://127.0.0.1:8428/api/v1/write
                authorization: { credentials: hunter2 }
            """
        let config = try ConfigFile.parse(yaml, file: "r.yml")
        #expect(config.externalLabels == ["cluster": "edge-eu-1", "instance": "router-7"])
        #expect(config.remoteWrite.count == 2)
        let central = config.remoteWrite[0]
        #expect(central.resolvedName == "central")
        #expect(central.pushInterval == .seconds(15))
        #expect(central.headers == ["X-Scope-OrgID": "tenant-a"])
        #expect(central.basicAuth?.username == "edge" && central.basicAuth?.passwordFile == "/run/secrets/rw")
        #expect(central.tls?.caFile == "/etc/ssl/ca.pem" && central.tls?.serverName == "metrics.internal")
        #expect(central.proxyURL == "http://proxy:3128")
        #expect(central.queue.capacity == 100_000 && central.queue.minBackoff == .milliseconds(30))
        #expect(config.remoteWrite[1].resolvedName == "127.0.0.1:8428/api/v1/write", "host and path, never the query")
        #expect(config.remoteWrite[1].authorization?.credentials?.value == "hunter2")
        #expect("\(config.remoteWrite[1].authorization!.credentials!)" == "<secret>")
    }

    @Test(arguments: [
        ("remote_write:\n  - name: x\n", "remote_write[0].url", "required"),
        ("remote_write:\n  - url: ftp://x/\n", "remote_write[0].url", "http:// or https://"),
        (
            "remote_write:\n  - url: http://x/\n    push_interval: 5 seconds\n", "remote_write[0].push_interval",
            "duration"
        ),
        (
            "remote_write:\n  - url: http://x/\n    headers: { User-Agent: me }\n",
            "remote_write[0].headers.User-Agent", "protocol"
        ),
        (
            "remote_write:\n  - url: http://x/\n    queue_config: { capacity: 0 }\n",
            "remote_write[0].queue_config.capacity", "whole number"
        ),
        (
            "remote_write:\n  - url: http://x/\n    queue_config: { max_backof: 1s }\n",
            "remote_write[0].queue_config.max_backof", "unknown key"
        ),
        (
            "remote_write:\n  - url: http://x/\n    basic_auth: { username: u }\n", "remote_write[0].basic_auth",
            "exactly one"
        ),
        ("remote_write:\n  - url: http://x/\n  - url: http://x/\n", "remote_write[1].name", "used twice"),
        (
            "remote_write:\n  - url: http://x/\n    queue_config: { fsync: sometimes }\n",
            "remote_write[0].queue_config.fsync", "every_write or interval"
        ),
        (
            "remote_write:\n  - url: http://x/\n    queue_config: { max_disk_bytes: 1GB }\n",
            "remote_write[0].queue_config.max_disk_bytes", "size in bytes"
        ),
        (
            "remote_write:\n  - url: http://x/\n    queue_config: { storage_path: /q, max_disk_bytes: 1KiB }\n",
            "remote_write[0].queue_config.max_disk_bytes", "at least 1 MiB"
        ),
        ("external_labels: { bad-name: x }\n", "external_labels.bad-name", "invalid label name"),
        (
            "remote_write:\n  - url: http://x/\n    protobuf_message: v2\n", "remote_write[0].protobuf_message",
            "io.prometheus.write.v2.Request"
        ),
        (
            "remote_write:\n  - url: http://x/\n    protobuf_message_probe_interval: 0s\n",
            "remote_write[0].protobuf_message_probe_interval", "positive"
        ),
        (
            "remote_write:\n  - url: http://x/\n    queue_config: { min_shards: 0 }\n",
            "remote_write[0].queue_config.min_shards", "whole number"
        ),
        (
            "remote_write:\n  - url: http://x/\n    queue_config: { max_shards: 1001 }\n",
            "remote_write[0].queue_config.max_shards", "whole number"
        ),
        (
            "remote_write:\n  - url: http://x/\n    queue_config: { min_shards: 5, max_shards: 4 }\n",
            "remote_write[0].queue_config.max_shards", "at most max_shards"
        ),
        (
            "remote_write:\n  - url: http://x/\n    queue_config: { batch_send_deadline: soon }\n",
            "remote_write[0].queue_config.batch_send_deadline", "duration"
        ),
    ])
    func remoteWriteErrorsNameTheKey(yaml: String, key: String, reason: String) {
        do {
            _ = try ConfigFile.parse(yaml, file: "r.yml")
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect(error.key == key)
            #expect(error.description.contains(reason), "\(error.description)")
        }
    }

    @Test func shardsAndTheBatchDeadlineInPrometheusVocabulary() throws {
        let defaults = try ConfigFile.parse("remote_write:\n  - url: http://x/\n", file: "r.yml").remoteWrite[0]
        #expect(defaults.queue.minShards == 1 && defaults.queue.maxShards == 50)
        #expect(defaults.queue.batchSendDeadline == .zero)
        let yaml = """
            remote_write:
              - url: http://x/
                queue_config: { min_shards: 2, max_shards: 16, batch_send_deadline: 5s }
            """
        let queue = try ConfigFile.parse(yaml, file: "r.yml").remoteWrite[0].queue
        #expect(queue.minShards == 2 && queue.maxShards == 16 && queue.batchSendDeadline == .seconds(5))
    }

    @Test func protobufMessageInPrometheusVocabularyPlusAuto() throws {
        let yaml = """
            remote_write:
              - url: http://a/
              - url: http://b/
                protobuf_message: io.prometheus.write.v2.Request
              - url: http://c/
                protobuf_message: auto
                protobuf_message_probe_interval: 10m
              - url: http://d/
                protobuf_message: prometheus.WriteRequest
            """
        let targets = try ConfigFile.parse(yaml, file: "r.yml").remoteWrite
        #expect(targets.map(\.protobufMessage) == [.v1, .v2, .auto, .v1])
        #expect(targets[2].protocolProbeInterval == .seconds(600) && targets[0].protocolProbeInterval == .seconds(3600))
    }

    @Test func diskQueueSettings() throws {
        let yaml = """
            remote_write:
              - url: http://x/
                queue_config: { storage_path: /var/lib/conveyor/queue, max_disk_bytes: 512MiB,
                                fsync: interval, fsync_interval: 250ms, sample_age_limit: 2h }
              - url: http://y/
                queue_config: { storage_path: /q, max_disk_bytes: 2000000, fsync: every_write }
            """
        let config = try ConfigFile.parse(yaml, file: "d.yml")
        let first = config.remoteWrite[0].queue
        #expect(first.storagePath == "/var/lib/conveyor/queue")
        #expect(first.maxDiskBytes == 512 << 20)
        #expect(first.fsync == .interval(.milliseconds(250)))
        #expect(first.sampleAgeLimit == .seconds(7200))
        let second = config.remoteWrite[1].queue
        #expect(second.maxDiskBytes == 2_000_000 && second.fsync == .everyWrite && second.sampleAgeLimit == nil)
    }

    @Test func secretsNeverAppearInConfigErrors() {
        let yaml =
            "remote_write:\n  - url: http://x/\n    basic_auth: { username: u, password: topsecret, password_file: /f }\n"
        do {
            _ = try ConfigFile.parse(yaml, file: "r.yml")
            Issue.record("accepted both password and password_file")
        } catch {
            #expect(!error.description.contains("topsecret"))
        }
    }

    @Test(arguments: [
        ("exporter:\n  listne: 1.2.3.4:9\n", "exporter.listne", "unknown key", "2:3"),
        ("exporter:\n  listen: nope\n", "exporter.listen", "expected HOST:PORT", "2:3"),
        ("exporter:\n  listen: 1.2.3.4:99999\n", "exporter.listen", "port must be", "2:3"),
        ("exporter:\n  path: metrics\n", "exporter.path", "must start with /", "2:3"),
        ("exporter: [1, 2]\n", "exporter", "expected a mapping", "1:1"),
        ("remote_writ: {}\n", "remote_writ", "unknown key", "1:1"),
        ("exporter: {listen: \"a:1\", listen: \"b:2\"}\n", "", "given twice", ""),
        (": : :\n  - [\n", "", "not valid YAML", ""),
        (
            "remote_write:\n  - url: http://x/api\n    push_interval: 0s\n", "remote_write[0].push_interval",
            "must be positive", "3:5"
        ),
        (
            "native_histograms:\n  conveyor_router_records_received_total: true\n",
            "native_histograms.conveyor_router_records_received_total", "unknown key", "2:3"
        ),
        (
            "native_histograms:\n  conveyor_router_routing_latency_ms: { bucket_factor: 1 }\n",
            "native_histograms.conveyor_router_routing_latency_ms.bucket_factor", "expected a number", "2:41"
        ),
        (
            "native_histograms:\n  conveyor_router_routing_latency_ms: { max_bucket_count: -1 }\n",
            "native_histograms.conveyor_router_routing_latency_ms.max_bucket_count", "expected a whole number", ""
        ),
        (
            "remote_write:\n  - url: http://x/api\n    send_native_histograms: maybe\n",
            "remote_write[0].send_native_histograms", "expected true or false", "3:5"
        ),
    ])
    func errorsNameFileLineColumnKeyAndReason(yaml: String, key: String, reason: String, position: String) {
        do {
            _ = try ConfigFile.parse(yaml, file: "router.yml")
            Issue.record("accepted invalid config: \(yaml)")
        } catch {
            #expect(error.file == "router.yml")
            #expect(error.key == key || key.isEmpty)
            #expect(error.line != nil, "every error has a position: \(error)")
            if !position.isEmpty { #expect(error.description.hasPrefix("router.yml:\(position): "), "\(error)") }
            #expect(error.description.contains(reason), "\(error)")
        }
    }

    /// `native_histograms`: per histogram family of the metric set, native options in
    /// client_golang's terms, or `false`; and `send_native_histograms` per target.
    @Test func nativeHistogramsPerFamilyAndPerTarget() throws {
        let yaml = """
            native_histograms:
              conveyor_router_routing_latency_ms:
                bucket_factor: 1.05
                zero_threshold: 0.001
                max_bucket_count: 100
                min_reset_duration: 1h
                keep_classic_buckets: false
            remote_write:
              - url: http://127.0.0.1:9090/api/v1/write
                send_native_histograms: true
            """
        let config = try ConfigFile.parse(yaml, file: "native.yml")
        let options = try #require(config.nativeHistograms["conveyor_router_routing_latency_ms"] ?? nil)
        #expect(options.bucketFactor == 1.05 && options.zeroThreshold == 0.001 && options.maxBucketCount == 100)
        #expect(options.minResetDuration == .seconds(3600) && !options.keepClassicBuckets)
        #expect(config.remoteWrite.first?.sendNativeHistograms == true)
        let off = try ConfigFile.parse("native_histograms: { conveyor_router_routing_latency_ms: false }\n", file: "o")
        #expect(off.nativeHistograms.count == 1 && off.nativeHistograms["conveyor_router_routing_latency_ms"]! == nil)
        let on = try ConfigFile.parse("native_histograms: { conveyor_router_routing_latency_ms: true }\n", file: "o")
        #expect(on.nativeHistograms["conveyor_router_routing_latency_ms"]??.keepClassicBuckets == true)
        #expect(try ConfigFile.parse("", file: "e").nativeHistograms.isEmpty)
        #expect(
            try ConfigFile.parse("remote_write: [{ url: http://x/api }]\n", file: "e").remoteWrite.first?
                .sendNativeHistograms == false)
    }

    @Test func missingFileIsAClearError() {
        #expect(throws: ConfigError.self) { try ConfigFile.load(path: "/nonexistent/conveyor.yml") }
    }

    @Test(arguments: [
        ("0.0.0.0:9090", "0.0.0.0", 9090), (":9090", "0.0.0.0", 9090), ("[::1]:80", "::1", 80),
        ("localhost:0", "localhost", 0),
    ])
    func listenAddresses(text: String, host: String, port: Int) throws {
        #expect(try ListenAddress(parsing: text) == ListenAddress(host: host, port: port))
    }

    @Test(arguments: ["9090", "::1:80", "host:-1", "host:http"])
    func badListenAddresses(text: String) {
        #expect(throws: ListenAddressError.self) { try ListenAddress(parsing: text) }
    }

    @Test(arguments: [
        ("30ms", 30), ("5s", 5000), ("1m", 60_000), ("1h30m", 5_400_000), ("2d", 172_800_000), ("1m30s500ms", 90_500),
    ])
    func prometheusDurations(text: String, milliseconds: Int64) {
        #expect(PrometheusDuration.parse(text) == .milliseconds(milliseconds))
    }

    @Test(arguments: ["", "5", "s", "1.5s", "5sec", "1s1m", "1m1m", "-5s", "99999999999999999y"])
    func badDurations(text: String) {
        #expect(PrometheusDuration.parse(text) == nil)
    }
}
