import NIOHTTP1

/// One answer of the admin listener, before it is framed as HTTP.
struct AdminResponse {
    var status: HTTPResponseStatus
    var contentType: String
    var body: [UInt8]
    var extraHeaders: [(String, String)] = []

    static func json(_ status: HTTPResponseStatus, _ body: String, extraHeaders: [(String, String)] = []) -> AdminResponse {
        AdminResponse(status: status, contentType: "application/json", body: Array(body.utf8), extraHeaders: extraHeaders)
    }
}

/// The admin listener's routing, separate from the socket handling: which endpoint a request names, and what
/// it answers. `GET` and `HEAD` only; the query string is ignored.
struct AdminResponder: Sendable {
    /// The exposition's content type (Prometheus text format 0.0.4).
    static let metricsContentType = "text/plain; version=0.0.4; charset=utf-8"
    /// Methods every admin endpoint accepts (the `Allow` header of a 405).
    static let allowedMethods = "GET, HEAD"

    /// The admin endpoints.
    private enum Endpoint {
        case metrics
        case health
        case readiness
    }

    let metrics: EdgeMetrics
    let readiness: @Sendable () -> ReadinessReport

    /// The answer to `method uri`; for `HEAD` the caller sends the same head without the body.
    func respond(method: HTTPMethod, uri: String) -> AdminResponse {
        let path = uri.firstIndex(of: "?").map { uri[..<$0] } ?? uri[...]
        let endpoint: Endpoint
        switch path {
        case "/metrics": endpoint = .metrics
        case "/healthz": endpoint = .health
        case "/readyz": endpoint = .readiness
        default:
            return .json(.notFound, LocalResponse.error(
                status: 404, code: "not_found",
                message: "No admin endpoint at this path; the endpoints are /metrics, /healthz and /readyz.").bodyText)
        }
        guard method == .GET || method == .HEAD else {
            return .json(.methodNotAllowed, LocalResponse.error(
                status: 405, code: "method_not_allowed", message: "Admin endpoints accept GET and HEAD only.").bodyText,
                extraHeaders: [("Allow", Self.allowedMethods)])
        }
        switch endpoint {
        case .metrics:
            var body: [UInt8] = []
            body.reserveCapacity(16 * 1024)
            metrics.emit(into: &body)
            return AdminResponse(status: .ok, contentType: Self.metricsContentType, body: body)
        case .health:
            return .json(.ok, #"{"status":"ok"}"#)
        case .readiness:
            let report = readiness()
            return .json(report.isReady ? .ok : .serviceUnavailable, report.jsonBody)
        }
    }
}
