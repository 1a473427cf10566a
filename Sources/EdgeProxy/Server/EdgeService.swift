public import ServiceLifecycle

/// Runs an `EdgeServer` under swift-service-lifecycle: on SIGTERM/SIGINT it stops accepting and
/// drains in-flight requests for the policy's grace period, then returns (exit 0).
public struct EdgeService: Service {
    let server: EdgeServer
    let grace: Duration

    public init(server: EdgeServer, grace: Duration) {
        self.server = server
        self.grace = grace
    }

    public func run() async throws {
        try? await gracefulShutdown()
        await server.shutdown(grace: grace)
    }
}
