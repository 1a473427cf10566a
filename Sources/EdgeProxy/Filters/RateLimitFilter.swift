import NIOCore
import Policy

/// `rate_limit`: token buckets per user (once `authenticate` ran) and per client IP, for the
/// route's `rate_limit_class`, kept by this event loop (see `RateLimiter` for the bounds).
///
/// Every answer carries `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (seconds
/// until the tightest bucket is full). Past the limit: 429 `rate_limited` with `Retry-After`
/// (whole seconds, ≥ 1); nothing is forwarded or charged, and no token is taken.
struct RateLimitFilter: EdgeFilter {
    func requestHead(_ request: EdgeRequest, _ exchange: inout ExchangeContext) -> FilterDecision {
        let decision = exchange.services.rateLimiter.check(
            routeClass: exchange.route.rateLimitClass, user: exchange.principal?.userId, ip: exchange.clientAddress)
        switch decision {
        case .unlimited:
            return .continue
        case .allowed(let state):
            Self.addHeaders(state, &exchange)
            return .continue
        case .limited(let state, let retryAfter):
            Self.addHeaders(state, &exchange)
            return .respond(EdgeReply(
                status: 429, code: "rate_limited", message: "Too many requests; retry in \(retryAfter) s",
                details: [("retry_after", .int(Int64(retryAfter)))], headers: [("Retry-After", String(retryAfter))]))
        }
    }

    static func addHeaders(_ state: RateLimitState, _ exchange: inout ExchangeContext) {
        exchange.responseHeaders.add("RateLimit-Limit", Int64(state.limit))
        exchange.responseHeaders.add("RateLimit-Remaining", Int64(state.remaining))
        exchange.responseHeaders.add("RateLimit-Reset", Int64(state.resetSeconds))
    }
}
