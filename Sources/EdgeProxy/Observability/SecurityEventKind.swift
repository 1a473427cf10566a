/// Why a request counts as a security event (`edge_security_events_total{kind}`): a fixed set, so the label
/// stays bounded and alerts can name each kind.
public enum SecurityEventKind: String, Sendable, CaseIterable {
    /// A credential was missing, unknown, expired or revoked (the edge answered 401).
    case authFailure = "auth_failure"
    /// A browser request came from an origin the policy does not allow (CORS / CSRF origin check).
    case originViolation = "origin_violation"
    /// The edge refused a request as malformed or forbidden before any upstream work (e.g. a bad head, 403).
    case rejectedRequest = "rejected_request"
    /// The upstream answered 401/403 to the edge's own credentials: a misconfigured or revoked upstream key.
    case upstreamUnauthorized = "upstream_unauthorized"

    /// Position in `allCases`, for array-indexed handle tables.
    var index: Int {
        switch self {
        case .authFailure: 0
        case .originViolation: 1
        case .rejectedRequest: 2
        case .upstreamUnauthorized: 3
        }
    }
}
