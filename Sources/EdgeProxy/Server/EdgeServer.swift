public import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOExtras
import NIOPosix
import NIOSSL
public import Policy

/// Settings to start an `EdgeServer` with: the policy, the environment, and where to listen.
public struct EdgeServerConfiguration: Sendable {
    public var policy: EdgePolicy
    public var environment: EdgeEnvironment
    /// TLS listener host and port (port 0 picks a free one).
    public var host: String
    public var port: Int
    public var certificatePath: String
    public var keyPath: String
    public var logger: Logger
    /// The token ledger; required by routes that list `authenticate` or `meter`.
    public var ledger: Ledger?
    /// Filters routes may name; the built-ins unless an embedding program adds its own.
    public var filters: FilterRegistry
    /// Local handlers routes may name (`handler:`); the portal's built-ins unless replaced.
    public var handlers: LocalHandlerRegistry
    /// Where request metrics go (served by an `AdminServer`); a fresh registry by default.
    public var metrics: EdgeMetrics
    /// One JSON line per request (`EDGE_ACCESS_LOG`); off by default for embedders and tests.
    public var accessLog: AccessLog

    public init(policy: EdgePolicy, environment: EdgeEnvironment, host: String, port: Int,
                certificatePath: String, keyPath: String, logger: Logger, ledger: Ledger? = nil,
                filters: FilterRegistry = .builtIn, handlers: LocalHandlerRegistry = .builtIn,
                metrics: EdgeMetrics = EdgeMetrics(), accessLog: AccessLog = .disabled) {
        self.handlers = handlers
        self.metrics = metrics
        self.accessLog = accessLog
        self.ledger = ledger
        self.filters = filters
        self.policy = policy
        self.environment = environment
        self.host = host
        self.port = port
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.logger = logger
    }
}

/// The running TLS listener: accepts connections and gives each an `EdgeConnectionHandler` wired
/// to the upstream pools of its own event loop.
public final class EdgeServer: Sendable {
    let group: MultiThreadedEventLoopGroup
    private let serverChannel: any Channel
    /// Dropped (set to nil) before the loops stop: its deinit completes a promise on one of them,
    /// which must not happen on a loop that has shut down.
    private let quiesce: NIOLockedValueBox<ServerQuiescingHelper?>
    private let runtime: EdgeRuntime
    private let poolsByLoop: [(loop: any EventLoop, pools: NIOLoopBound<UpstreamPools>)]
    private let blockingPool: NIOThreadPool
    private let draining = NIOLockedValueBox(false)
    /// True once shutdown began (readiness turns false so load balancers stop sending).
    public var isDraining: Bool { draining.withLockedValue { $0 } }
    /// The bound port (useful with port 0).
    public let port: Int

    private init(group: MultiThreadedEventLoopGroup, serverChannel: any Channel, quiesce: ServerQuiescingHelper,
                 runtime: EdgeRuntime, poolsByLoop: [(loop: any EventLoop, pools: NIOLoopBound<UpstreamPools>)],
                 blockingPool: NIOThreadPool) {
        self.blockingPool = blockingPool
        self.group = group
        self.serverChannel = serverChannel
        self.quiesce = NIOLockedValueBox(quiesce)
        self.runtime = runtime
        self.poolsByLoop = poolsByLoop
        self.port = serverChannel.localAddress?.port ?? 0
    }

    /// Binds the listener and starts serving.
    public static func start(_ configuration: EdgeServerConfiguration) async throws -> EdgeServer {
        let tls = try ServerTLS.makeContext(certificatePath: configuration.certificatePath, keyPath: configuration.keyPath)
        let blockingPool = NIOThreadPool(numberOfThreads: max(2, System.coreCount))
        blockingPool.start()
        let runtime: EdgeRuntime
        do {
            runtime = try EdgeRuntime(
                policy: configuration.policy, environment: configuration.environment, logger: configuration.logger,
                ledger: configuration.ledger, filters: configuration.filters, handlers: configuration.handlers,
                blockingPool: blockingPool, metrics: configuration.metrics, accessLog: configuration.accessLog)
        } catch {
            try? await blockingPool.shutdownGracefully()
            throw error
        }
        let threads = configuration.policy.server.eventLoops > 0 ? configuration.policy.server.eventLoops : System.coreCount
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        var poolsByLoop: [(loop: any EventLoop, pools: NIOLoopBound<UpstreamPools>)] = []
        let bound: (channel: any Channel, quiesce: ServerQuiescingHelper)
        do {
            for loop in group.makeIterator() {
                let pools = try await loop.submit { NIOLoopBound(try UpstreamPools(runtime: runtime, eventLoop: loop), eventLoop: loop) }.get()
                poolsByLoop.append((loop, pools))
            }
            bound = try await bind(configuration, group: group, tls: tls, runtime: runtime, poolsByLoop: poolsByLoop)
        } catch {
            try? await group.shutdownGracefully()
            try? await blockingPool.shutdownGracefully()
            throw error
        }
        return EdgeServer(group: group, serverChannel: bound.channel, quiesce: bound.quiesce, runtime: runtime,
                          poolsByLoop: poolsByLoop, blockingPool: blockingPool)
    }

    /// Binds the TLS listener. A failure leaves this frame before the caller stops the loops, so
    /// the quiescing helper (whose deinit completes a promise on a loop) is gone by then.
    private static func bind(
        _ configuration: EdgeServerConfiguration, group: MultiThreadedEventLoopGroup, tls: NIOSSLContext,
        runtime: EdgeRuntime, poolsByLoop: [(loop: any EventLoop, pools: NIOLoopBound<UpstreamPools>)]
    ) async throws -> (channel: any Channel, quiesce: ServerQuiescingHelper) {
        let lookup = poolsByLoop
        let quiesce = ServerQuiescingHelper(group: group)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiesce.makeServerChannelHandler(channel: channel))
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 64 * 1024, high: 256 * 1024))
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let pools = lookup.first(where: { $0.loop === channel.eventLoop })?.pools.value else {
                        throw ChannelError.inappropriateOperationForState
                    }
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                    try channel.pipeline.syncOperations.addHandler(EdgeConnectionHandler(runtime: runtime, pools: pools))
                }
            }
            .bind(host: configuration.host, port: configuration.port)
            .get()
        return (channel, quiesce)
    }

    /// Stops accepting, lets in-flight exchanges finish for up to `grace`, then closes the rest.
    public func shutdown(grace: Duration) async {
        draining.withLockedValue { $0 = true }
        let promise = group.next().makePromise(of: Void.self)
        if let helper = quiesce.withLockedValue({ $0 }) {
            helper.initiateShutdown(promise: promise)
        } else {
            promise.succeed()
        }
        let done = promise.futureResult
        let group = self.group
        await withTaskGroup(of: Bool.self) { tasks in
            tasks.addTask {
                try? await done.get()
                return true
            }
            tasks.addTask {
                try? await Task.sleep(for: grace)
                return false
            }
            let quiescedInTime = await tasks.next() ?? true
            tasks.cancelAll()
            if !quiescedInTime {
                runtime.logger.warning("shutdown grace period over; closing remaining connections")
                quiesce.withLockedValue { $0 = nil }
                // Closing the loops closes every channel, which completes the quiescing promise.
                try? await group.shutdownGracefully()
            }
        }
        await closePooledConnections()
        quiesce.withLockedValue { $0 = nil }
        try? await group.shutdownGracefully()
        try? await blockingPool.shutdownGracefully()
    }

    /// Closes promptly (tests, failed starts): idle connections close at once, in-flight exchanges
    /// get half a second.
    public func close() async {
        await shutdown(grace: .milliseconds(500))
    }

    /// Closes pooled upstream connections (TLS close_notify included) while the loops still run,
    /// so no handler is left scheduling work on a loop that has stopped.
    private func closePooledConnections() async {
        for entry in poolsByLoop {
            let closing = try? await entry.loop.submit { EventLoopFuture.andAllComplete(entry.pools.value.closeIdle(), on: entry.loop) }.get()
            try? await closing?.get()
        }
    }
}
