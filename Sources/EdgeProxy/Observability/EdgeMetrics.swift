import CoreMetrics
public import Prometheus
import Synchronization

/// One server's metrics: its own Prometheus registry, so several servers in one process (tests) never share
/// counters, and no global `MetricsSystem.bootstrap` is needed.
///
/// Event loops record through a `LoopMetrics` each (`makeLoopMetrics()`), which caches the labelled handles so
/// the request path only does atomic increments and histogram observations; creating a handle goes through the
/// factory, which locks. The ledger's threads record through `ledgerBatchCommitted(size:commitNanoseconds:)`,
/// `ledgerJournalWritten(nanoseconds:)` and `ledgerCheckpointed(nanoseconds:)`.
///
/// Families (names as exposed at `/metrics`):
/// - `edge_requests_total{route,status}`, `edge_request_duration_seconds{route}` (edge total time),
///   `edge_upstream_duration_seconds{route}` (request sent → response end);
/// - `edge_tokens_charged_total{operation}`, `edge_holds_released_total`;
/// - `edge_security_events_total{kind}` (see `SecurityEventKind`);
/// - `edge_ledger_batch_size`, `edge_ledger_commit_seconds`; `edge_ledger_journal_write_seconds` (what each
///   round of charges waited to be durable: the tail a paid response's last byte waits behind),
///   `edge_ledger_checkpoint_seconds`;
/// - `edge_open_connections`, `edge_upstream_connect_failures_total{upstream}`.
///
/// Label values come from the policy (route ids, operations, upstream names) and are bounded anyway: past
/// `maxLabelValues` distinct values per family, further values are counted under `EdgeMetrics.overflowLabel`.
public final class EdgeMetrics: Sendable {
    /// Prometheus family names.
    enum Name {
        static let requests = "edge_requests_total"
        static let requestDuration = "edge_request_duration_seconds"
        static let upstreamDuration = "edge_upstream_duration_seconds"
        static let tokensCharged = "edge_tokens_charged_total"
        static let holdsReleased = "edge_holds_released_total"
        static let securityEvents = "edge_security_events_total"
        static let ledgerBatchSize = "edge_ledger_batch_size"
        static let ledgerCommit = "edge_ledger_commit_seconds"
        static let ledgerJournalWrite = "edge_ledger_journal_write_seconds"
        static let ledgerCheckpoint = "edge_ledger_checkpoint_seconds"
        static let openConnections = "edge_open_connections"
        static let upstreamConnectFailures = "edge_upstream_connect_failures_total"
    }

    /// Label families whose values are bounded by `maxLabelValues`.
    enum LabelFamily: Hashable {
        case route
        case operation
        case upstream
    }

    /// The label value that stands in for every value past a family's budget.
    public static let overflowLabel = "_other"

    /// Request and upstream latency buckets: 0.5 ms to 60 s, roughly 1–2.5–5 per decade.
    static let latencyBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .microseconds(2500), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
    ]
    /// Ledger commit buckets: an LMDB commit with fsync takes from ~0.1 ms (no-sync) to tens of ms (disk).
    static let commitBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .microseconds(2500),
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(10),
    ]
    /// Ledger batch size buckets: powers of two from 1 to 4096 (the writer's largest batch).
    static let batchSizeBuckets: [Double] = (0...12).map { Double(1 << $0) }

    /// The registry `/metrics` renders; other components may register their own families here.
    public let registry: PrometheusCollectorRegistry
    /// A swift-metrics factory over `registry`, with this type's histogram buckets; pass it as `factory:`.
    public let factory: PrometheusMetricsFactory
    /// The most distinct values a labelled family (route, operation, upstream) takes before overflowing.
    public let maxLabelValues: Int

    // Unlabelled or fixed-label handles, shared by every loop (their updates are atomic).
    let holdsReleased: CoreMetrics.Counter
    let securityEvents: [CoreMetrics.Counter]
    let openConnections: CoreMetrics.Meter
    private let ledgerBatchSize: CoreMetrics.Recorder
    private let ledgerCommit: CoreMetrics.Timer
    private let ledgerJournalWrite: CoreMetrics.Timer
    private let ledgerCheckpoint: CoreMetrics.Timer

    /// Label values admitted so far per family (touched only when a loop's cache misses).
    private let admitted = Mutex<[LabelFamily: Set<String>]>([:])

    /// Creates an empty registry and the families that have no per-request labels (so they read 0 at once).
    /// - Parameter maxLabelValues: Distinct values per labelled family before `overflowLabel` is used.
    public init(maxLabelValues: Int = 256) {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = Self.latencyBuckets
        factory.durationHistogramBuckets = [Name.ledgerCommit: Self.commitBuckets, Name.ledgerJournalWrite: Self.commitBuckets,
                                            Name.ledgerCheckpoint: Self.commitBuckets]
        factory.defaultValueHistogramBuckets = Self.batchSizeBuckets
        self.registry = registry
        self.factory = factory
        self.maxLabelValues = max(1, maxLabelValues)
        holdsReleased = CoreMetrics.Counter(label: Name.holdsReleased, factory: factory)
        securityEvents = SecurityEventKind.allCases.map { kind in
            CoreMetrics.Counter(label: Name.securityEvents, dimensions: [("kind", kind.rawValue)], factory: factory)
        }
        openConnections = CoreMetrics.Meter(label: Name.openConnections, factory: factory)
        ledgerBatchSize = CoreMetrics.Recorder(label: Name.ledgerBatchSize, aggregate: true, factory: factory)
        ledgerCommit = CoreMetrics.Timer(label: Name.ledgerCommit, factory: factory)
        ledgerJournalWrite = CoreMetrics.Timer(label: Name.ledgerJournalWrite, factory: factory)
        ledgerCheckpoint = CoreMetrics.Timer(label: Name.ledgerCheckpoint, factory: factory)
    }

    /// A handle cache for one event loop; create one per loop and use it only on that loop.
    public func makeLoopMetrics() -> LoopMetrics {
        LoopMetrics(metrics: self)
    }

    /// Records one committed ledger batch. Safe from any thread (the ledger writer calls it).
    /// - Parameters:
    ///   - size: Mutations in the batch.
    ///   - commitNanoseconds: Time from opening the write transaction to the end of its commit.
    public func ledgerBatchCommitted(size: Int, commitNanoseconds: Int64) {
        ledgerBatchSize.record(max(0, size))
        ledgerCommit.recordNanoseconds(max(0, commitNanoseconds))
    }

    /// Records how long one round of charges waited to become durable (the ledger's flusher thread).
    public func ledgerJournalWritten(nanoseconds: Int64) {
        ledgerJournalWrite.recordNanoseconds(max(0, nanoseconds))
    }

    /// Records how long one checkpoint took (the ledger's checkpoint thread).
    public func ledgerCheckpointed(nanoseconds: Int64) {
        ledgerCheckpoint.recordNanoseconds(max(0, nanoseconds))
    }

    /// The Prometheus text exposition (format 0.0.4) of every family in `registry`.
    public func render() -> String {
        var buffer: [UInt8] = []
        emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }

    /// Appends the Prometheus text exposition to `buffer`.
    public func emit(into buffer: inout [UInt8]) {
        registry.emit(into: &buffer)
    }

    /// Whether `value` may be a label value of `family`: true if already admitted or if the budget has room.
    func admit(_ value: String, family: LabelFamily) -> Bool {
        admitted.withLock { admitted in
            if admitted[family, default: []].contains(value) { return true }
            guard admitted[family, default: []].count < maxLabelValues else { return false }
            admitted[family, default: []].insert(value)
            return true
        }
    }
}
