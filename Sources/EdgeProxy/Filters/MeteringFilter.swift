import Logging
import NIOCore
import Policy

/// `meter`: prices the operation, holds the tokens before anything is forwarded, and settles the
/// hold exactly once from the upstream's answer.
///
/// Settlement rule: a 2xx response head charges the hold, and the response is held back (upstream
/// reads pause) until the charge is durable, so a paid result never reaches a client uncharged.
/// Any other status, a connect failure, a timeout or a reset before the response head releases it.
/// If the client goes away after its request was sent, the upstream's answer still settles the hold
/// (Recraft did or did not do the work); if it goes away before, the hold is released. A 401/403
/// from Recraft means the service's own token is wrong: the client gets 502 `upstream_unauthorized`,
/// the hold is released, and a security event is logged.
///
/// When the charge fails, the result is withheld (503 `ledger_unavailable`) and the client keeps its
/// tokens: a charge that never committed gives its hold back and is released; one that committed but
/// whose journal write failed (`notDurable`, the disk under the ledger is failing) is refunded by an
/// adjustment, which a power loss would undo together with the charge.
struct MeteringFilter: EdgeFilter {
    func requestHead(_ request: EdgeRequest, _ exchange: inout ExchangeContext) -> FilterDecision {
        guard let operation = exchange.route.operation else { return .continue }
        let prices = exchange.services.prices
        if prices.needsBody(operation: operation) { return .holdBody(maxBytes: prices.pricedBodyBytes) }
        switch prices.quote(operation: operation) {
        case .success(let quote): return hold(quote, &exchange)
        case .failure(let error): return .respond(EdgeReply(status: 400, code: error.code, message: error.message))
        }
    }

    func requestBody(_ body: ByteBuffer, _ exchange: inout ExchangeContext) -> FilterDecision {
        guard let operation = exchange.route.operation, exchange.services.prices.needsBody(operation: operation) else { return .continue }
        let path: String
        switch exchange.route.path {
        case .exact(let p), .prefix(let p): path = p
        }
        switch exchange.services.prices.quoteGeneration(path: path, body: Array(body.readableBytesView)) {
        case .success(let quote): return hold(quote, &exchange)
        case .failure(let error): return .respond(EdgeReply(status: 400, code: error.code, message: error.message))
        }
    }

    private func hold(_ quote: Quote, _ exchange: inout ExchangeContext) -> FilterDecision {
        exchange.quote = quote
        guard let principal = exchange.principal else {
            return .respond(AuthenticationFilter.unauthorized(code: "missing_credentials", message: "This operation needs an authenticated caller", bearer: true))
        }
        guard let ledger = exchange.services.ledger else {
            return .respond(EdgeReply(status: 503, code: "ledger_unavailable", message: "Token accounting is not available on this gateway"))
        }
        let promise = exchange.eventLoop.makePromise(of: FilterResolution.self)
        let settled: @Sendable (Result<HoldReceipt, LedgerError>) -> Void = { result in
            switch result {
            case .success(let receipt):
                promise.succeed(.continueAfter { exchange in exchange.hold = receipt })
            case .failure(let error) where error.code == .insufficientTokens:
                let numbers = error.insufficient
                promise.succeed(.respond(EdgeReply(
                    status: 402, code: "insufficient_tokens",
                    message: "This operation needs \(quote.total) tokens; \(numbers?.available ?? 0) are available",
                    details: [("required", .int(quote.total)), ("balance", .int(numbers?.available ?? 0))])))
            case .failure(let error):
                promise.succeed(.respond(EdgeReply(status: 503, code: "ledger_unavailable", message: "Token accounting failed: \(error.code)")))
            }
        }
        let actor = principal.keyId ?? "session", requestId = exchange.requestIDText
        exchange.services.submitToLedger {
            ledger.hold(userId: principal.userId, amount: quote.total, requestId: requestId, actor: actor, wakeLater: $0, completion: settled)
        }
        return .suspend(promise.futureResult)
    }

    func responseHead(status: Int, _ exchange: inout ExchangeContext) -> FilterDecision {
        guard let hold = exchange.hold, !exchange.holdSettled, let ledger = exchange.services.ledger else { return .continue }
        exchange.holdSettled = true
        guard (200..<300).contains(status) else {
            // Refund before answering, so a client that checks its balance next sees it restored.
            let refusedServiceToken = status == 401 || status == 403
            exchange.holdReleased = true
            if refusedServiceToken { exchange.securityEvent = .upstreamUnauthorized }
            if refusedServiceToken {
                exchange.services.logger.critical("security: Recraft refused the service token (RECRAFT_API_TOKEN)", metadata: [
                    "upstream_status": "\(status)", "route": "\(exchange.route.id)", "request_id": "\(exchange.requestIDText)"])
            }
            let promise = exchange.eventLoop.makePromise(of: FilterResolution.self)
            let released: @Sendable (Result<ReleaseReceipt, LedgerError>) -> Void = { result in
                if refusedServiceToken {
                    promise.succeed(.respond(EdgeReply(status: 502, code: "upstream_unauthorized", message: "The gateway's credentials for the image service were refused; nothing was charged")))
                    return
                }
                let remaining = (try? result.get())?.available ?? hold.available + hold.amount
                promise.succeed(.continueAfter { exchange in
                    exchange.responseHeaders.add("X-Tokens-Charged", 0)
                    exchange.responseHeaders.add("X-Tokens-Remaining", remaining)
                })
            }
            exchange.services.submitToLedger { ledger.release(holdId: hold.holdId, wakeLater: $0, completion: released) }
            return .suspend(promise.futureResult)
        }
        let promise = exchange.eventLoop.makePromise(of: FilterResolution.self)
        let operation = exchange.quote?.operation ?? exchange.route.operation ?? "unknown"
        // Captured as they are; formatted only if the charge fails.
        let logger = exchange.services.logger, requestID = exchange.requestID
        let charged: @Sendable (Result<ChargeReceipt, LedgerError>) -> Void = { result in
            switch result {
            case .success(let receipt):
                promise.succeed(.continueAfter { exchange in
                    exchange.chargedTokens = receipt.charged
                    exchange.responseHeaders.add("X-Tokens-Charged", receipt.charged)
                    exchange.responseHeaders.add("X-Tokens-Remaining", receipt.available)
                })
            case .failure(let error):
                Self.undoFailedCharge(hold, error, ledger: ledger, logger: logger, requestId: "\(requestID)")
                promise.succeed(.respond(EdgeReply(status: 503, code: "ledger_unavailable", message: "The charge could not be recorded (\(error.code)); the result was withheld and nothing was charged")))
            }
        }
        exchange.services.submitToLedger { ledger.charge(holdId: hold.holdId, operation: operation, wakeLater: $0, completion: charged) }
        return .suspend(promise.futureResult)
    }

    /// After a failed charge, on a ledger thread: gives the client its tokens back (see the type's notes).
    private static func undoFailedCharge(_ hold: HoldReceipt, _ error: LedgerError, ledger: Ledger, logger: Logger, requestId: String) {
        logger.error("ledger: a charge failed; the result was withheld", metadata: [
            "request_id": "\(requestId)", "hold_id": "\(hold.holdId.rawValue)", "error": "\(error)"])
        guard error.code == .notDurable else {
            ledger.release(holdId: hold.holdId) { _ in }
            return
        }
        ledger.adjust(userId: hold.userId, delta: hold.amount, reason: "refund: the charge for hold \(hold.holdId.rawValue) was not made durable",
                      actor: "edge") { result in
            if case .failure(let refundError) = result, refundError.code != .notDurable {
                logger.critical("ledger: refunding an undurable charge failed; the user was charged for a withheld result", metadata: [
                    "request_id": "\(requestId)", "user_id": "\(hold.userId.rawValue)", "amount": "\(hold.amount)", "error": "\(refundError)"])
            }
        }
    }

    func exchangeCompleted(_ outcome: ExchangeOutcome, _ exchange: inout ExchangeContext) {
        guard let hold = exchange.hold, !exchange.holdSettled, let ledger = exchange.services.ledger else { return }
        exchange.holdSettled = true
        exchange.holdReleased = true
        exchange.services.submitToLedger { ledger.release(holdId: hold.holdId, wakeLater: $0) { _ in } }
    }
}
