import Logging
import NIOCore
import NIOPosix
import Policy
import Portal

/// What every connection on every event loop shares, read-only: the compiled policy and the
/// prepared upstream endpoints. Built once at start (and swapped whole on a reload).
final class EdgeRuntime: Sendable {
    let policy: EdgePolicy
    /// Prepared upstreams; pools index into this array.
    let endpoints: [UpstreamEndpoint]
    private let endpointIndexByName: [String: Int]
    let logger: Logger
    /// The ledger filters meter against (nil: routes with `authenticate`/`meter` answer 503).
    let ledger: Ledger?
    /// Each route's filter chain, by route id.
    let chains: [String: [any EdgeFilter]]
    /// Local routes' handlers, by route id.
    let localHandlers: [String: any LocalHandler]
    /// Threads for local handlers' blocking work (scrypt, account writes).
    let blockingPool: NIOThreadPool?
    /// The server's metrics (each loop caches its handles) and the access log.
    let metrics: EdgeMetrics
    let accessLog: AccessLog
    /// The portal's pages, when a route serves them.
    let portal: PortalSite?
    /// Timeouts as NIO amounts.
    let headerReadTimeout: TimeAmount
    let clientIdleTimeout: TimeAmount
    let upstreamResponseTimeout: TimeAmount
    let upstreamIdleTimeout: TimeAmount

    init(policy: EdgePolicy, environment: EdgeEnvironment, logger: Logger, ledger: Ledger?, filters: FilterRegistry,
         handlers: LocalHandlerRegistry, blockingPool: NIOThreadPool?, metrics: EdgeMetrics, accessLog: AccessLog) throws {
        self.metrics = metrics
        self.accessLog = accessLog
        self.policy = policy
        self.logger = logger
        self.ledger = ledger
        self.chains = try filters.chains(for: policy.routes)
        self.localHandlers = try handlers.resolve(for: policy.routes)
        self.portal = policy.routes.routes.contains { route in
            if case .local(let name) = route.action { return name == "portal_page" || name == "portal_asset" }
            return false
        } ? try PortalSite(policy: policy) : nil
        self.blockingPool = blockingPool
        var endpoints: [UpstreamEndpoint] = []
        var index: [String: Int] = [:]
        for (name, settings) in policy.upstreams.sorted(by: { $0.key < $1.key }) {
            guard let url = settings.url else { continue }
            let endpoint = try UpstreamEndpoint(
                name: name, settings: settings, url: url,
                credentialToken: environment.recraftAPIToken,
                caFile: environment.recraftCAFile,
                connectTimeout: .fractionalSeconds(policy.timeouts.upstreamConnectSeconds))
            index[name] = endpoints.count
            endpoints.append(endpoint)
        }
        self.endpoints = endpoints
        self.endpointIndexByName = index
        let t = policy.timeouts
        headerReadTimeout = .fractionalSeconds(t.headerReadSeconds)
        clientIdleTimeout = .fractionalSeconds(t.clientIdleSeconds)
        upstreamResponseTimeout = .fractionalSeconds(t.upstreamResponseSeconds)
        upstreamIdleTimeout = .fractionalSeconds(t.upstreamIdleSeconds)
    }

    /// Index of the named upstream's endpoint, or nil when it has no URL configured.
    func endpointIndex(named name: String) -> Int? { endpointIndexByName[name] }
}

extension TimeAmount {
    /// A time amount from fractional seconds (policy values).
    static func fractionalSeconds(_ value: Double) -> TimeAmount { .nanoseconds(Int64(value * 1_000_000_000)) }
}
