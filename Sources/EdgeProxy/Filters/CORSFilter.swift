import Logging
import NIOCore
import Policy

/// `cors`: answers CORS preflights at the edge and marks responses to allowed origins.
///
/// List it first in a route's chain (the policy loader insists), so a preflight is answered before
/// anything authenticates, rate-limits or charges. A preflight (`OPTIONS` with `Origin` and
/// `Access-Control-Request-Method`) from an allowed origin gets 204 with the route's methods, the
/// policy's headers and max-age; from any other origin 403 `origin_not_allowed` without CORS
/// headers. It is never forwarded. Other requests from an allowed origin get
/// `Access-Control-Allow-Origin` (the exact origin, never `*`), `-Allow-Credentials` and
/// `-Expose-Headers` on whatever answers them, the upstream or a later filter's 401/402/429;
/// a foreign origin gets no CORS headers. `Vary: Origin` is always set. The CSRF check for
/// cookie-authenticated requests is in `authenticate` (it needs the credential).
struct CORSFilter: EdgeFilter {
    /// Response headers a browser page may read (tokens, limits, request id).
    static let exposedHeaders = "X-Request-Id, X-Tokens-Charged, X-Tokens-Remaining, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Retry-After, Idempotent-Replayed"

    func requestHead(_ request: EdgeRequest, _ exchange: inout ExchangeContext) -> FilterDecision {
        exchange.responseHeaders.add("Vary", "Origin")
        guard let origin = request.header("origin") else { return .continue }
        let cors = exchange.services.cors
        let allowed = origin.withUnsafeReadableBytes { cors.allowedOrigin($0) }
        if request.head.method == .options, request.header("access-control-request-method") != nil {
            guard let allowed else {
                exchange.services.logger.warning("security: CORS preflight from a foreign origin refused", metadata: [
                    "origin": "\(String(buffer: origin).prefix(200))", "route": "\(exchange.route.id)",
                    "client": "\(exchange.clientAddress)", "request_id": "\(exchange.requestIDText)"])
                exchange.securityEvent = .originViolation
                return .respond(EdgeReply(status: 403, code: "origin_not_allowed", message: "This origin may not call this gateway"))
            }
            var headers: [(String, String)] = [
                ("Access-Control-Allow-Origin", allowed),
                ("Access-Control-Allow-Methods", (exchange.route.methods ?? ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]).joined(separator: ", ")),
                ("Access-Control-Allow-Headers", cors.allowHeaders),
                ("Access-Control-Max-Age", String(cors.maxAgeSeconds)),
            ]
            if cors.allowCredentials { headers.append(("Access-Control-Allow-Credentials", "true")) }
            return .respond(EdgeReply(status: 204, code: "preflight", message: "", headers: headers))
        }
        guard let allowed else { return .continue }
        exchange.responseHeaders.add("Access-Control-Allow-Origin", allowed)
        if cors.allowCredentials { exchange.responseHeaders.add("Access-Control-Allow-Credentials", "true") }
        exchange.responseHeaders.add("Access-Control-Expose-Headers", Self.exposedHeaders)
        return .continue
    }
}
