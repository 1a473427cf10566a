import Foundation
import NIOCore
import Policy

/// Metrics and the access log: recorded exactly once per exchange, when it completes
/// (`completeFilters`), from what the exchange and its filters noted on the way.
extension EdgeConnectionHandler {
    /// The status an exchange that never answered is counted with (nginx's "client closed request").
    static let clientClosedStatus = 499

    func recordExchange(_ outcome: ExchangeOutcome) {
        guard exchange.startNanos != 0 else { return }
        let now = NIODeadline.now().uptimeNanoseconds
        let edgeNanos = Int64(now &- exchange.startNanos)
        var upstreamNanos: Int64?
        if exchange.upstreamSentNanos != 0 {
            upstreamNanos = Int64((exchange.upstreamEndNanos != 0 ? exchange.upstreamEndNanos : now) &- exchange.upstreamSentNanos)
        }
        // What the client saw: a local answer replaces the upstream's (e.g. 502 upstream_unauthorized).
        let status = exchange.localStatus ?? exchange.upstreamStatus ?? Self.clientClosedStatus
        let routeID = exchange.route?.id
        let metrics = pools.metrics
        metrics.requestFinished(route: routeID ?? "_none", status: status, edgeNanoseconds: edgeNanos, upstreamNanoseconds: upstreamNanos)
        // Fields are read in place: a copy of the whole ExchangeContext costs more than the metrics.
        if let charged = exchange.filterContext?.chargedTokens, charged > 0 {
            metrics.tokensCharged(
                operation: exchange.filterContext?.quote?.operation ?? exchange.filterContext?.route.operation ?? "unknown",
                amount: charged)
        }
        if exchange.filterContext?.holdReleased == true { metrics.holdReleased() }
        if let event = exchange.filterContext?.securityEvent { metrics.securityEvent(event) }
        if exchange.rejectedAsMalformed { metrics.securityEvent(.rejectedRequest) }

        guard runtime.accessLog.isEnabled else { return }
        let context = exchange.filterContext
        let kind: AccessLogRecord.Outcome
        switch outcome {
        case .upstreamResponded: kind = .forwarded
        case .answeredLocally: kind = .local
        case .upstreamFailed: kind = .upstreamFailed
        case .clientGone: kind = .clientGone
        }
        let request = EdgeRequest(head: head)
        runtime.accessLog.log(AccessLogRecord(
            requestId: exchange.requestID.description, method: exchange.rejectedAsMalformed ? "-" : request.method,
            route: routeID, path: exchange.rejectedAsMalformed ? "-" : request.path, status: status,
            bytesIn: exchange.requestBodyBytes, bytesOut: exchange.bytesOut,
            edgeMs: Double(edgeNanos) / 1e6, upstreamMs: upstreamNanos.map { Double($0) / 1e6 },
            userId: context?.principal.map { String($0.userId.rawValue) },
            tokensCharged: context?.chargedTokens, operation: context?.quote?.operation,
            client: clientAddress, outcome: kind))
    }
}
