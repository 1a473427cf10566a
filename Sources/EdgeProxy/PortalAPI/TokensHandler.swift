import Logging
import Foundation
import NIOCore
import Policy

/// `/api/tokens`: the caller's balance and history (GET), a direct spend from the caller's own
/// balance (POST), and grants by administrators (PUT). POST and PUT honour `Idempotency-Key`: a
/// retry with the same key and body replays the first answer (`Idempotent-Replayed: true`) and
/// changes nothing; the same key with another body → 422.
struct TokensHandler: LocalHandler {
    static let maxHistoryPage = 200
    static let maxGrant: Int64 = 1_000_000_000
    static let maxQuantity: Int64 = 1000
    var maxBodyBytes: Int { 8192 }

    func respond(to request: LocalRequest, _ exchange: inout ExchangeContext) -> LocalAnswer {
        let account: (ledger: Ledger, reader: LedgerReader, principal: Principal)
        switch exchange.requireAccount() {
        case .success(let value): account = value
        case .failure(let error): return .now(error.response)
        }
        switch request.method {
        case "GET": return .now(balance(request, account.ledger, account.reader, account.principal, exchange))
        case "POST": return spend(request, account.ledger, account.principal, exchange)
        case "PUT": return grant(request, account.ledger, account.principal, exchange)
        default:
            return .now(LocalResponse.error(status: 405, code: "method_not_allowed", message: "Use GET, POST or PUT").with(header: ("Allow", "GET, POST, PUT")))
        }
    }

    // MARK: GET

    private struct HistoryItem: Encodable {
        var id: String
        var kind: String
        var operation: String
        var delta: Int64
        var balanceAfter: Int64
        var createdAt: Date
        var requestId: String
        var reason: String
    }

    private struct BalanceJSON: Encodable {
        var balance: Int64
        var held: Int64
        var available: Int64
        var plan: String
        var period: [String: Date]
        var history: [HistoryItem]
        var nextBefore: String?
    }

    private func balance(_ request: LocalRequest, _ ledger: Ledger, _ reader: LedgerReader, _ principal: Principal, _ exchange: ExchangeContext) -> LocalResponse {
        var limit = 20
        if let text = request.query["limit"] {
            guard let value = Int(text), (1...Self.maxHistoryPage).contains(value) else {
                return PortalJSON.invalid("'limit' must be a whole number from 1 to \(Self.maxHistoryPage)", field: "limit").response
            }
            limit = value
        }
        var before: UInt64?
        if let text = request.query["before"] {
            guard let value = UInt64(text), value > 0 else {
                return PortalJSON.invalid("'before' must be a history item id from an earlier page", field: "before").response
            }
            before = value
        }
        do {
            guard let balance = try reader.balance(userId: principal.userId) else { return LocalResponse.error(status: 404, code: "unknown_user", message: "No such user") }
            let page = try ledger.history(userId: principal.userId, limit: limit + 1, before: before)
            let items = page.prefix(limit).map { entry in
                HistoryItem(id: String(entry.sequence), kind: entry.kind.description, operation: entry.operation, delta: entry.delta,
                            balanceAfter: entry.balanceAfter, createdAt: entry.time, requestId: entry.requestId,
                            reason: entry.kind == .charge ? "" : entry.memo)
            }
            let next = page.count > limit ? items.last.map(\.id) : nil
            return PortalJSON.response(200, BalanceJSON(
                balance: balance.balance, held: balance.held, available: balance.available, plan: balance.plan,
                period: ["start": balance.periodStart, "end": balance.periodEnd], history: items, nextBefore: next))
        } catch {
            exchange.services.logger.error("ledger read failed", metadata: ["error": "\(error)", "request_id": "\(exchange.requestIDText)"])
            return PortalJSON.ledgerError(error)
        }
    }

    // MARK: POST

    private struct SpendBody: Decodable {
        var operation: String
        var quantity: Int64?
    }

    private func spend(_ request: LocalRequest, _ ledger: Ledger, _ principal: Principal, _ exchange: ExchangeContext) -> LocalAnswer {
        let body: SpendBody
        switch PortalJSON.decode(SpendBody.self, from: request) {
        case .success(let value): body = value
        case .failure(let error): return .now(error.response)
        }
        guard let price = exchange.services.prices.prices[body.operation] else {
            return .now(PortalJSON.invalid("Unknown operation '\(body.operation.prefix(64))'", field: "operation", code: "invalid_operation").response)
        }
        let quantity = body.quantity ?? 1
        guard (1...Self.maxQuantity).contains(quantity) else {
            return .now(PortalJSON.invalid("'quantity' must be from 1 to \(Self.maxQuantity)", field: "quantity").response)
        }
        let idempotency: IdempotencyKey?
        switch Self.idempotencyKey(request, scope: "POST /api/tokens", meaning: "\(body.operation)\n\(quantity)") {
        case .success(let key): idempotency = key
        case .failure(let error): return .now(error.response)
        }
        let amount = price * quantity
        let actor = principal.keyId.map { "key:\($0)" } ?? "session"
        let requestID = exchange.requestIDText
        let spent: EventLoopFuture<IdempotentOutcome<SpendReceipt>> = exchange.ledgerFuture { done in
            ledger.spend(userId: principal.userId, operation: body.operation, amount: amount, requestId: requestID,
                         actor: actor, idempotency: idempotency, completion: done)
        }
        return .later(spent.portalResponse { outcome in
            PortalJSON.response(200, ["charged": outcome.value.charged, "balance": outcome.value.balance, "available": outcome.value.available],
                                headers: outcome.replayed ? [("Idempotent-Replayed", "true")] : [])
                .with(header: ("X-Tokens-Charged", outcome.replayed ? "0" : String(outcome.value.charged)))
                .with(header: ("X-Tokens-Remaining", String(outcome.value.available)))
        })
    }

    // MARK: PUT

    private struct GrantBody: Decodable {
        var email: String?
        var userId: String?
        var amount: Int64
        var reason: String?
    }

    private func grant(_ request: LocalRequest, _ ledger: Ledger, _ principal: Principal, _ exchange: ExchangeContext) -> LocalAnswer {
        guard principal.role == .admin else {
            exchange.services.logger.warning("security: token grant refused for a non-admin", metadata: [
                "user_id": "\(principal.userId)", "request_id": "\(exchange.requestIDText)"])
            return .now(.error(status: 403, code: "forbidden", message: "Only administrators may grant tokens"))
        }
        let body: GrantBody
        switch PortalJSON.decode(GrantBody.self, from: request) {
        case .success(let value): body = value
        case .failure(let error): return .now(error.response)
        }
        guard (1...Self.maxGrant).contains(body.amount) else {
            return .now(PortalJSON.invalid("'amount' must be a whole number from 1 to \(Self.maxGrant)", field: "amount").response)
        }
        let reason = (body.reason ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard reason.utf8.count <= 500 else { return .now(PortalJSON.invalid("'reason' must be at most 500 bytes", field: "reason").response) }
        let target: UserAccount?
        do {
            switch (body.email, body.userId) {
            case (let email?, nil): target = try ledger.user(email: email)
            case (nil, let id?):
                guard let raw = UInt64(id) else { return .now(PortalJSON.invalid("'userId' is not a user id", field: "userId").response) }
                target = try ledger.user(id: UserID(rawValue: raw))
            default:
                return .now(PortalJSON.invalid("Name the user with exactly one of 'email' and 'userId'", field: "email").response)
            }
        } catch {
            return .now(PortalJSON.ledgerError(error))
        }
        guard let target else { return .now(.error(status: 404, code: "unknown_user", message: "No such user")) }
        let idempotency: IdempotencyKey?
        switch Self.idempotencyKey(request, scope: "PUT /api/tokens", meaning: "\(target.id)\n\(body.amount)\n\(reason)") {
        case .success(let key): idempotency = key
        case .failure(let error): return .now(error.response)
        }
        let actor = "admin:\(principal.userId)"
        let email = target.email
        let logger = exchange.services.logger, requestID = exchange.requestIDText
        let granted: EventLoopFuture<IdempotentOutcome<GrantReceipt>> = exchange.ledgerFuture { done in
            ledger.grant(userId: target.id, amount: body.amount, reason: reason.isEmpty ? "portal grant" : reason, actor: actor,
                         idempotency: idempotency, completion: done)
        }
        return .later(granted.portalResponse { outcome in
            if !outcome.replayed {
                logger.notice("portal: tokens granted", metadata: ["admin": "\(actor)", "user_id": "\(outcome.value.userId)",
                                                                   "amount": "\(outcome.value.granted)", "request_id": "\(requestID)"])
            }
            struct GrantJSON: Encodable { var userId: String; var email: String; var granted: Int64; var balance: Int64 }
            return PortalJSON.response(200, GrantJSON(userId: String(outcome.value.userId), email: email,
                                                      granted: outcome.value.granted, balance: outcome.value.balance),
                                       headers: outcome.replayed ? [("Idempotent-Replayed", "true")] : [])
        })
    }

    /// The request's `Idempotency-Key` (the ledger scopes it to the caller; here to the endpoint),
    /// fingerprinted by what the request means once decoded (so a retry may re-serialise its JSON),
    /// nil when absent, or a 400 when malformed.
    static func idempotencyKey(_ request: LocalRequest, scope: String, meaning: String) -> Result<IdempotencyKey?, LocalResponseError> {
        guard let key = request.head.headerString("idempotency-key") else { return .success(nil) }
        guard IdempotencyKey.isValid(key) else {
            return .failure(PortalJSON.invalid("'Idempotency-Key' must be 1 to 255 visible ASCII characters", field: "Idempotency-Key"))
        }
        return .success(IdempotencyKey(scope: scope, key: key, fingerprint: SecretHash.sha256(meaning)))
    }
}
