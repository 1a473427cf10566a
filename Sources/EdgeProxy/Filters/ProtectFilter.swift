import NIOCore
import Policy

/// `protect`: app paths under the policy's `app.protected_prefixes` need a live session cookie
/// (looked up exactly as `authenticate` does). Without one, HTML requests (`Accept` naming
/// `text/html`) are redirected (302) to `app.sign_in_path?callbackUrl=<path>`; others get 401
/// `session_required`. With one, the request is forwarded (the app reads its own cookie). Paths
/// outside the prefixes pass through untouched, with no lookup.
struct ProtectFilter: EdgeFilter {
    func requestHead(_ request: EdgeRequest, _ exchange: inout ExchangeContext) -> FilterDecision {
        let path = request.path
        guard exchange.services.app.protection(of: path) == .sessionRequired else { return .continue }
        switch AuthenticationFilter.session(request, &exchange) {
        case .signedIn:
            return .continue
        case .unavailable:
            return .respond(EdgeReply(status: 503, code: "ledger_unavailable", message: "Accounts are temporarily unavailable"))
        case .noCookie, .expired:
            guard Self.acceptsHTML(request) else {
                return .respond(EdgeReply(status: 401, code: "session_required", message: "Sign in to use this page"))
            }
            return .respond(EdgeReply(
                status: 302, code: "sign_in_required", message: "Sign in to continue",
                headers: [("Location", exchange.services.app.signInLocation(returningTo: path))]))
        }
    }

    /// Whether `Accept` names `text/html` (ASCII case-insensitive).
    static func acceptsHTML(_ request: EdgeRequest) -> Bool {
        guard let accept = request.header("accept") else { return false }
        let needle = Array("text/html".utf8)
        return accept.withUnsafeReadableBytes { b in
            guard b.count >= needle.count else { return false }
            outer: for start in 0...(b.count - needle.count) {
                for k in 0..<needle.count where b[start + k] | 0x20 != needle[k] | 0x20 {
                    continue outer
                }
                return true
            }
            return false
        }
    }
}
