import Policy

/// `security_headers`: adds the policy's `security_headers` (HSTS, nosniff, Referrer-Policy, a CSP
/// whose `frame-ancestors` lets the portal embed the app …) to every answer of the route, the
/// upstream's or a local reply. The lines are encoded once per event loop and copied per request.
/// List it before filters that may answer (e.g. `[security_headers, protect]`), so their
/// redirects and 401s carry the headers too.
struct SecurityHeadersFilter: EdgeFilter {
    func requestHead(_ request: EdgeRequest, _ exchange: inout ExchangeContext) -> FilterDecision {
        exchange.responseHeaders.append(exchange.services.securityHeaderLines)
        return .continue
    }
}
