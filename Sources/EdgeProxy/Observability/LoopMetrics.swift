import CoreMetrics
import Prometheus

/// The request path's view of `EdgeMetrics` for one event loop: labelled handles cached in plain dictionaries,
/// so recording an event is a dictionary lookup plus an atomic increment (counters, gauges) or a short
/// per-series critical section (histogram observations) — never the factory's registry lock.
///
/// Confined to one event loop: create it with `EdgeMetrics.makeLoopMetrics()` on (or for) that loop, keep it
/// next to the loop's other per-loop state (e.g. in a `NIOLoopBound`), and call it only from that loop.
public final class LoopMetrics {
    /// Handles of one route label.
    private final class RouteHandles {
        let route: String
        let duration: CoreMetrics.Timer
        let upstreamDuration: CoreMetrics.Timer
        /// `edge_requests_total` by status: 100...599 as is, anything else under key 0 (label `_other`).
        var requests: [Int: CoreMetrics.Counter] = [:]

        init(route: String, factory: PrometheusMetricsFactory) {
            self.route = route
            duration = CoreMetrics.Timer(
                label: EdgeMetrics.Name.requestDuration, dimensions: [("route", route)], factory: factory)
            upstreamDuration = CoreMetrics.Timer(
                label: EdgeMetrics.Name.upstreamDuration, dimensions: [("route", route)], factory: factory)
        }
    }

    private let metrics: EdgeMetrics
    private let factory: PrometheusMetricsFactory
    private var routes: BoundedHandleCache<RouteHandles>
    private var tokens: BoundedHandleCache<CoreMetrics.Counter>
    private var connectFailures: BoundedHandleCache<CoreMetrics.Counter>
    private let holdsReleased: CoreMetrics.Counter
    private let securityEvents: [CoreMetrics.Counter]
    private let openConnections: CoreMetrics.Meter

    init(metrics: EdgeMetrics) {
        self.metrics = metrics
        factory = metrics.factory
        routes = BoundedHandleCache(family: .route, limit: metrics.maxLabelValues)
        tokens = BoundedHandleCache(family: .operation, limit: metrics.maxLabelValues)
        connectFailures = BoundedHandleCache(family: .upstream, limit: metrics.maxLabelValues)
        holdsReleased = metrics.holdsReleased
        securityEvents = metrics.securityEvents
        openConnections = metrics.openConnections
    }

    /// Records one finished exchange: `edge_requests_total`, the edge duration and, if the request reached an
    /// upstream, the upstream duration.
    /// - Parameters:
    ///   - route: The policy's route id (never a raw path).
    ///   - status: The status the client received.
    ///   - edgeNanoseconds: Request head received → response end written (or exchange abandoned).
    ///   - upstreamNanoseconds: Request sent upstream → upstream response end; nil when no upstream was used.
    public func requestFinished(route: String, status: Int, edgeNanoseconds: Int64, upstreamNanoseconds: Int64?) {
        // The closures run only on a cache miss; the hit path copies nothing.
        let handles = routes.handle(for: route, metrics: metrics) { RouteHandles(route: $0, factory: self.factory) }
        let statusKey = (100...599).contains(status) ? status : 0
        let counter: CoreMetrics.Counter
        if let cached = handles.requests[statusKey] {
            counter = cached
        } else {
            counter = CoreMetrics.Counter(
                label: EdgeMetrics.Name.requests,
                dimensions: [("route", handles.route), ("status", statusKey == 0 ? EdgeMetrics.overflowLabel : String(statusKey))],
                factory: factory)
            handles.requests[statusKey] = counter
        }
        counter.increment()
        handles.duration.recordNanoseconds(max(0, edgeNanoseconds))
        if let upstreamNanoseconds {
            handles.upstreamDuration.recordNanoseconds(max(0, upstreamNanoseconds))
        }
    }

    /// Adds tokens charged to an account for `operation` (`edge_tokens_charged_total`). Amounts ≤ 0 are ignored:
    /// a counter only goes up.
    public func tokensCharged(operation: String, amount: Int64) {
        guard amount > 0 else { return }
        tokens.handle(for: operation, metrics: metrics) { operation in
            CoreMetrics.Counter(label: EdgeMetrics.Name.tokensCharged, dimensions: [("operation", operation)], factory: self.factory)
        }.increment(by: amount)
    }

    /// Counts a hold released without a charge (`edge_holds_released_total`).
    public func holdReleased() {
        holdsReleased.increment()
    }

    /// Counts one security event (`edge_security_events_total{kind}`).
    public func securityEvent(_ kind: SecurityEventKind) {
        securityEvents[kind.index].increment()
    }

    /// A client connection was accepted (`edge_open_connections` + 1).
    public func connectionOpened() {
        openConnections.increment()
    }

    /// A client connection closed (`edge_open_connections` − 1); call exactly once per `connectionOpened()`.
    public func connectionClosed() {
        openConnections.decrement()
    }

    /// Counts a failed connection attempt to an upstream (`edge_upstream_connect_failures_total{upstream}`).
    /// - Parameter upstream: The upstream's name from the policy (e.g. its endpoint id or `host:port`).
    public func upstreamConnectFailed(upstream: String) {
        connectFailures.handle(for: upstream, metrics: metrics) { upstream in
            CoreMetrics.Counter(
                label: EdgeMetrics.Name.upstreamConnectFailures, dimensions: [("upstream", upstream)], factory: self.factory)
        }.increment()
    }
}

@available(*, unavailable)
extension LoopMetrics: Sendable {}

/// Handles cached by one label value, bounded like the family's label budget in `EdgeMetrics`.
///
/// A miss asks `EdgeMetrics.admit` (a lock) whether the value gets its own series; if the budget is spent the
/// value is cached with the shared overflow handle. The cache holds at most `limit + 1` entries: once it has
/// more than `limit`, the global budget is necessarily spent, so further misses take the overflow handle
/// without locking.
private struct BoundedHandleCache<Handle> {
    let family: EdgeMetrics.LabelFamily
    let limit: Int
    private var handles: [String: Handle] = [:]
    private var overflow: Handle?

    init(family: EdgeMetrics.LabelFamily, limit: Int) {
        self.family = family
        self.limit = limit
    }

    mutating func handle(for value: String, metrics: EdgeMetrics, make: (String) -> Handle) -> Handle {
        if let handle = handles[value] { return handle }
        if handles.count > limit { return overflowHandle(make) }
        let handle = metrics.admit(value, family: family) ? make(value) : overflowHandle(make)
        handles[value] = handle
        return handle
    }

    private mutating func overflowHandle(_ make: (String) -> Handle) -> Handle {
        if let overflow { return overflow }
        let handle = make(EdgeMetrics.overflowLabel)
        overflow = handle
        return handle
    }
}
