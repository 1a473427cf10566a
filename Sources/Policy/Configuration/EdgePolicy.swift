/// The validated, compiled policy: immutable and `Sendable`, swapped whole on reload.
public struct EdgePolicy: Sendable {
    public var server: ServerSettings
    public var limits: Limits
    public var timeouts: Timeouts
    /// Upstreams by name (`recraft`, `app`, …), with their URLs resolved against the environment.
    public var upstreams: [String: UpstreamSettings]
    public var routes: RouteTable
    /// Token price per operation (per image for generations).
    public var operationPrices: [String: Int64]
    public var plans: PlanCatalog
    public var ledger: LedgerSettings
    /// Prices and the generation classification rules.
    public var prices: PriceTable
    public var authentication: AuthenticationSettings
    /// Browser origins allowed to call the edge, and preflight answers.
    public var cors: CORSPolicy
    /// Token-bucket classes for the `rate_limit` filter.
    public var rateLimits: RateLimitSettings
    /// Protected app paths and the sign-in page.
    public var app: AppRouteSettings
    /// Headers the `security_headers` filter adds.
    public var securityHeaders: SecurityHeaders
}

/// How requests authenticate.
public struct AuthenticationSettings: Sendable {
    /// Name of the portal's session cookie.
    public var sessionCookie: String

    public static let standard = AuthenticationSettings(sessionCookie: "edge_session")
}

/// Process-wide server settings.
public struct ServerSettings: Sendable {
    /// Event loop threads; 0 means one per core.
    public var eventLoops: Int
    /// How long in-flight requests may run after SIGTERM before connections are closed.
    public var shutdownGraceSeconds: Double
}

/// Byte limits that keep one client from holding unbounded memory.
public struct Limits: Sendable {
    public var maxHeaderBytes: Int
    public var maxHeaderCount: Int
    public var maxBodyBytes: Int64
    public var maxChunkLineBytes: Int
    public var maxTrailerBytes: Int
    public var maxPipelinedBytes: Int

    public static let standard = Limits(
        maxHeaderBytes: 16_384, maxHeaderCount: 100, maxBodyBytes: 1 << 30,
        maxChunkLineBytes: 1024, maxTrailerBytes: 8192, maxPipelinedBytes: 65_536)
}

/// Timeouts, in seconds, for each phase of an exchange.
public struct Timeouts: Sendable {
    public var headerReadSeconds: Double
    public var clientIdleSeconds: Double
    public var upstreamConnectSeconds: Double
    public var upstreamResponseSeconds: Double
    public var upstreamIdleSeconds: Double

    public static let standard = Timeouts(
        headerReadSeconds: 15, clientIdleSeconds: 75, upstreamConnectSeconds: 5,
        upstreamResponseSeconds: 300, upstreamIdleSeconds: 120)
}

/// One upstream service the edge forwards to.
public struct UpstreamSettings: Sendable, Equatable {
    /// Which credential replaces the client's, if any.
    public enum Credential: String, Sendable, Equatable {
        /// `Authorization: Bearer $RECRAFT_API_TOKEN`; the client's Cookie and Authorization are removed.
        case recraftAPIToken = "recraft_api_token"
    }

    public var name: String
    /// The resolved base URL, or nil when neither the policy nor the environment names one.
    public var url: UpstreamURL?
    public var credential: Credential?
    public var maxIdlePerLoop: Int
    public var maxPerLoop: Int
}

/// A plan users can be on: monthly allocation and rollover.
public struct Plan: Sendable, Equatable {
    public var name: String
    public var monthlyTokens: Int64
    /// Whether unused tokens carry over into the next period.
    public var rollover: Bool
    /// The most a balance may hold after a rollover renewal (nil: no cap).
    public var rolloverCap: Int64?

    public init(name: String, monthlyTokens: Int64, rollover: Bool, rolloverCap: Int64?) {
        self.name = name
        self.monthlyTokens = monthlyTokens
        self.rollover = rollover
        self.rolloverCap = rolloverCap
    }
}

/// The plans offered, and which one new users start on.
public struct PlanCatalog: Sendable {
    public var defaultPlan: String
    public var plans: [String: Plan]

    public init(defaultPlan: String, plans: [String: Plan]) {
        self.defaultPlan = defaultPlan
        self.plans = plans
    }

    public func plan(named name: String) -> Plan? { plans[name] }

    public static let standard = PlanCatalog(
        defaultPlan: "free",
        plans: ["free": Plan(name: "free", monthlyTokens: 200, rollover: false, rolloverCap: nil)])
}

/// How the embedded LMDB ledger is opened.
public struct LedgerSettings: Sendable {
    public var mapSizeMiB: Int
    /// true (default): a result is reported once durable (a charge in the journal, anything else after a checkpoint).
    /// false: reported at commit, checkpointed every second; a power loss may lose the commits since the last checkpoint.
    public var durable: Bool

    public init(mapSizeMiB: Int, durable: Bool) {
        self.mapSizeMiB = mapSizeMiB
        self.durable = durable
    }

    public static let standard = LedgerSettings(mapSizeMiB: 1024, durable: true)
}
