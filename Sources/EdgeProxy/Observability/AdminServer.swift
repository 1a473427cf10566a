public import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The operators' plain-HTTP/1.1 listener (`EDGE_ADMIN_LISTEN`, default `127.0.0.1:9901`), kept apart from the
/// TLS data plane so scrapes and probes never compete with client traffic or need client credentials.
///
/// Endpoints (`GET` and `HEAD`; other methods get 405 with `Allow`, other paths a JSON 404):
/// - `/metrics`: the Prometheus text exposition of an `EdgeMetrics`;
/// - `/healthz`: `{"status":"ok"}` while the process serves at all (liveness);
/// - `/readyz`: 200 `{"status":"ready","checks":{…}}` when every check of the readiness closure passes,
///   otherwise 503 `{"status":"not_ready","checks":{…}}` naming each failing check's reason (readiness).
///
/// It has no authentication: bind it to loopback or a private interface. Request heads are bounded by
/// NIOHTTP1's defaults, bodies are read and dropped, connections idle for a minute are closed.
public final class AdminServer: Sendable {
    private let channel: any Channel
    private let connections: AdminConnections

    private init(channel: any Channel, connections: AdminConnections) {
        self.channel = channel
        self.connections = connections
    }

    /// Binds the listener and starts serving.
    /// - Parameters:
    ///   - host: Address to bind (e.g. `127.0.0.1`).
    ///   - port: Port to bind; 0 picks a free one (see `localPort`).
    ///   - group: Event loops to serve on (the edge's own group is fine: admin traffic is light).
    ///   - metrics: What `/metrics` renders.
    ///   - readiness: Builds the `/readyz` report; called on an event loop per request, so it must not block.
    /// - Returns: The running server, or the bind error.
    public static func start(
        host: String, port: Int, group: any EventLoopGroup, metrics: EdgeMetrics,
        readiness: @escaping @Sendable () -> ReadinessReport
    ) -> EventLoopFuture<AdminServer> {
        let responder = AdminResponder(metrics: metrics, readiness: readiness)
        let connections = AdminConnections()
        return ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                guard connections.insert(channel) else {
                    return channel.eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel)
                }
                return channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(IdleStateHandler(readTimeout: .seconds(60)))
                    try pipeline.configureHTTPServerPipeline(withErrorHandling: true)
                    try pipeline.addHandler(AdminHTTPHandler(responder: responder))
                }
            }
            .bind(host: host, port: port)
            .map { AdminServer(channel: $0, connections: connections) }
    }

    /// The bound port (useful after binding port 0); 0 once closed.
    public var localPort: Int {
        channel.localAddress?.port ?? 0
    }

    /// Stops accepting and closes every open admin connection; completes when all of them are closed, so the
    /// event loop group can then shut down cleanly. Calling it again is harmless.
    public func close() -> EventLoopFuture<Void> {
        let loop = channel.eventLoop
        var closing = [channel.close()]
        for connection in connections.closeAll() {
            closing.append(connection.close())
        }
        // Closing an already closed channel fails; the outcome that matters is that all of them are closed.
        return EventLoopFuture.andAllComplete(closing, on: loop)
    }
}

/// The admin server's open connections, so `close()` can close keep-alive clients too.
private final class AdminConnections: Sendable {
    private struct State {
        var isClosed = false
        var channels: [ObjectIdentifier: any Channel] = [:]
    }

    private let state = Mutex(State())

    /// Tracks `channel` until it closes; false if the server is already closing (the caller refuses it).
    func insert(_ channel: any Channel) -> Bool {
        let key = ObjectIdentifier(channel)
        let inserted = state.withLock { state in
            guard !state.isClosed else { return false }
            state.channels[key] = channel
            return true
        }
        if inserted {
            channel.closeFuture.whenComplete { [self] _ in
                _ = state.withLock { $0.channels.removeValue(forKey: key) }
            }
        }
        return inserted
    }

    /// Refuses further connections and returns the open ones.
    func closeAll() -> [any Channel] {
        state.withLock { state in
            state.isClosed = true
            return Array(state.channels.values)
        }
    }
}
