/// How an upstream exchange failed; decides the client's status when no response head was sent.
enum UpstreamFailure: Error {
    /// TCP connect failed or timed out → 502 `upstream_unreachable`.
    case connectFailed
    /// TLS handshake or certificate verification failed → 502 `upstream_tls_error`.
    case tlsFailed
    /// The connection closed or reset before the response was complete → 502 `upstream_reset`.
    case reset
    /// The response head was malformed or too large → 502 `bad_gateway`.
    case invalidResponse
    /// No response head within `upstream_response_seconds` → 504 `upstream_timeout`.
    case timedOut
    /// The per-loop connection limit is reached → 503 `upstream_busy`.
    case poolExhausted

    var localResponse: LocalResponse {
        switch self {
        case .connectFailed:
            return .error(status: 502, code: "upstream_unreachable", message: "The upstream service could not be reached")
        case .tlsFailed:
            return .error(status: 502, code: "upstream_tls_error", message: "The upstream service's TLS certificate could not be verified")
        case .reset:
            return .error(status: 502, code: "upstream_reset", message: "The upstream service closed the connection before answering")
        case .invalidResponse:
            return .error(status: 502, code: "bad_gateway", message: "The upstream service sent an invalid response")
        case .timedOut:
            return .error(status: 504, code: "upstream_timeout", message: "The upstream service did not answer in time")
        case .poolExhausted:
            return .error(status: 503, code: "upstream_busy", message: "Too many requests are in flight to the upstream service; retry shortly")
        }
    }
}
