import NIOCore
import NIOPosix
import NIOSSL
import Policy

/// Keep-alive connections to one upstream, owned by one event loop (no cross-thread hand-off).
///
/// Connections are leased to one exchange at a time and come back when the response ended
/// cleanly; idle ones older than `maxIdleAge` are discarded rather than risk a stale socket.
final class UpstreamPool {
    let endpoint: UpstreamEndpoint
    let eventLoop: any EventLoop
    let limits: Limits
    /// The owning loop's metric handles (connect failures).
    let metrics: LoopMetrics
    private var idle: [UpstreamConnection] = []
    /// Connections open or being opened.
    private(set) var openCount = 0
    /// Discard pooled connections idle longer than this (upstreams commonly close after 60 s or less).
    let maxIdleAge: TimeAmount = .seconds(30)

    init(endpoint: UpstreamEndpoint, eventLoop: any EventLoop, limits: Limits, metrics: LoopMetrics) {
        self.metrics = metrics
        self.endpoint = endpoint
        self.eventLoop = eventLoop
        self.limits = limits
    }

    /// Outcome of asking for a connection.
    enum Lease {
        /// A pooled connection, ready now.
        case ready(UpstreamConnection)
        /// A new connection is being opened; the handler hears `upstreamConnected` or `upstreamFailed`.
        case connecting
        /// The per-loop limit is reached.
        case exhausted
    }

    func lease(for handler: EdgeConnectionHandler) -> Lease {
        let now = NIODeadline.now()
        while let connection = idle.popLast() {
            if connection.isUsable && now - connection.idleSince < maxIdleAge { return .ready(connection) }
            connection.abort()
        }
        guard openCount < endpoint.settings.maxPerLoop else { return .exhausted }
        connect(for: handler)
        return .connecting
    }

    /// Returns a connection after its exchange; keeps it only when it is clean and there is room.
    func release(_ connection: UpstreamConnection, reusable: Bool) {
        guard reusable, connection.isUsable, idle.count < endpoint.settings.maxIdlePerLoop else {
            connection.abort()
            return
        }
        connection.idleSince = .now()
        idle.append(connection)
    }

    func connectionClosed(_ connection: UpstreamConnection) {
        openCount -= 1
        if let index = idle.firstIndex(where: { $0 === connection }) { idle.remove(at: index) }
    }

    /// Closes every idle connection (shutdown); the futures complete when they are closed.
    func closeIdle() -> [EventLoopFuture<Void>] {
        let all = idle
        idle.removeAll()
        return all.compactMap { $0.closeForShutdown() }
    }

    private func connect(for handler: EdgeConnectionHandler) {
        openCount += 1
        let connection = UpstreamConnection(pool: self, maxHeaderBytes: limits.maxHeaderBytes, maxHeaderCount: limits.maxHeaderCount)
        let boundConnection = NIOLoopBound(connection, eventLoop: eventLoop)
        let endpoint = self.endpoint
        ClientBootstrap(group: eventLoop)
            .connectTimeout(endpoint.connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.writeBufferWaterMark, value: .init(low: 64 * 1024, high: 256 * 1024))
            .channelInitializer { channel in
                do {
                    if let tls = endpoint.tlsContext {
                        let sslHandler = try NIOSSLClientHandler(context: tls, serverHostname: endpoint.serverHostname)
                        try channel.pipeline.syncOperations.addHandler(sslHandler)
                    }
                    try channel.pipeline.syncOperations.addHandler(boundConnection.value)
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
            .connect(host: endpoint.url.host, port: endpoint.url.port)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success:
                    handler.upstreamConnected(connection)
                case .failure:
                    // A channel that never became active is not counted by connectionClosed.
                    self.openCount -= 1
                    self.metrics.upstreamConnectFailed(upstream: self.endpoint.name)
                    handler.upstreamFailed(.connectFailed, connection: nil, afterHead: false)
                }
            }
    }
}

/// What one event loop owns: its upstream pools (one per upstream, indexed like
/// `EdgeRuntime.endpoints`) and its filter services (ledger reader, prices).
final class UpstreamPools {
    let pools: [UpstreamPool]
    let services: EdgeServices
    /// This loop's metric handles.
    let metrics: LoopMetrics

    init(runtime: EdgeRuntime, eventLoop: any EventLoop) throws {
        let metrics = runtime.metrics.makeLoopMetrics()
        self.metrics = metrics
        pools = runtime.endpoints.map { UpstreamPool(endpoint: $0, eventLoop: eventLoop, limits: runtime.policy.limits, metrics: metrics) }
        services = EdgeServices(
            ledger: runtime.ledger, reader: try runtime.ledger?.makeReader(),
            policy: runtime.policy, logger: runtime.logger, blockingPool: runtime.blockingPool, portal: runtime.portal,
            eventLoop: eventLoop)
    }

    func closeIdle() -> [EventLoopFuture<Void>] { pools.flatMap { $0.closeIdle() } }
}

@available(*, unavailable)
extension UpstreamPool: Sendable {}
@available(*, unavailable)
extension UpstreamPools: Sendable {}
