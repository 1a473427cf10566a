public import Foundation
public import Logging
public import NIOCore
public import NIOPosix
public import Policy
import Portal

/// Typed per-exchange state that filters read and write; it lives no longer than its request.
public struct ExchangeContext {
    /// The matched route.
    public let route: Route
    /// The event loop the exchange runs on; suspended hooks resolve here.
    public let eventLoop: any EventLoop
    /// Shared services of this event loop (ledger, prices, logger).
    public let services: EdgeServices
    let requestID: RequestID
    /// The client's address (for rate limits and logs).
    public let clientAddress: String

    /// Who is calling, once `authenticate` ran.
    public var principal: Principal?
    /// How the principal was established.
    public var credential: CredentialKind?
    /// The price, once known.
    public var quote: Quote?
    /// The tokens held for this exchange, once reserved.
    public var hold: HoldReceipt?
    /// Whether the hold was charged or released (it is settled exactly once).
    public var holdSettled = false
    /// Tokens charged by this exchange, once the charge committed (metrics and the access log).
    public var chargedTokens: Int64?
    /// The hold was (or is being) released unspent.
    public var holdReleased = false
    /// A security event this exchange raised (counted in `edge_security_events_total`).
    public var securityEvent: SecurityEventKind?
    /// Headers to add to the client's response: the upstream's (after `responseHead`) or a filter's
    /// local reply. Lines added in `requestHead` reach both.
    public var responseHeaders = ResponseHeaderLines()

    /// The exchange's `X-Request-Id` as text.
    public var requestIDText: String { requestID.description }

    init(route: Route, eventLoop: any EventLoop, services: EdgeServices, requestID: RequestID, clientAddress: String) {
        self.route = route
        self.eventLoop = eventLoop
        self.services = services
        self.requestID = requestID
        self.clientAddress = clientAddress
    }
}

/// How a request authenticated.
public enum CredentialKind: Sendable, Equatable {
    case apiKey
    case sessionCookie
}

/// What the filters of one event loop share: the ledger (with this loop's reader), the price
/// table, the policy's CORS/app/security settings, this loop's rate-limit buckets and the logger.
/// Confined to its event loop (the reader and the rate limiter are not thread-safe).
public final class EdgeServices {
    /// The ledger, when the edge runs with one.
    public let ledger: Ledger?
    /// This loop's read transaction holder; reads run inline and cost microseconds.
    public let reader: LedgerReader?
    public let prices: PriceTable
    public let authentication: AuthenticationSettings
    /// Allowed browser origins and preflight answers.
    public let cors: CORSPolicy
    /// Protected app prefixes and the sign-in page.
    public let app: AppRouteSettings
    /// This loop's token buckets (bounded; see `RateLimiter`).
    public let rateLimiter: RateLimiter
    /// The `security_headers` lines, encoded once.
    let securityHeaderLines: ResponseHeaderLines
    public let logger: Logger
    /// Threads for blocking work of local handlers (scrypt, account writes); nil in bare setups.
    public let blockingPool: NIOThreadPool?
    /// The whole compiled policy (plans, prices, routes) for local handlers and pages.
    public let policy: EdgePolicy
    /// The portal's pages and assets (templates compiled once per server).
    let portal: PortalSite?
    /// Wakes the ledger once per tick for this loop's submissions (nil without a ledger or a loop).
    let ledgerWakes: LedgerWakeDeferral?

    init(ledger: Ledger?, reader: LedgerReader?, policy: EdgePolicy, logger: Logger, blockingPool: NIOThreadPool? = nil,
         portal: PortalSite? = nil, eventLoop: (any EventLoop)? = nil) {
        self.portal = portal
        if let ledger, let eventLoop {
            ledgerWakes = LedgerWakeDeferral(ledger: ledger, eventLoop: eventLoop)
        } else {
            ledgerWakes = nil
        }
        self.blockingPool = blockingPool
        self.policy = policy
        self.ledger = ledger
        self.reader = reader
        self.prices = policy.prices
        self.authentication = policy.authentication
        self.cors = policy.cors
        self.app = policy.app
        self.rateLimiter = RateLimiter(settings: policy.rateLimits)
        var lines = ResponseHeaderLines()
        for (name, value) in policy.securityHeaders.headers { lines.add(name, value) }
        self.securityHeaderLines = lines
        self.logger = logger
    }

    /// The current time (one place, so it can be faked later).
    public func now() -> Date { Date() }
}

@available(*, unavailable)
extension EdgeServices: Sendable {}
