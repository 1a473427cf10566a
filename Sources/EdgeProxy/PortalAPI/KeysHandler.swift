import Logging
import Foundation
import NIOCore
import Policy

/// `/api/keys`: the caller's API keys. `GET` lists them, `POST {name}` creates one (the key itself
/// is in that response only; the ledger keeps its SHA-256), `DELETE /api/keys/{id}` revokes one.
/// A user sees and revokes only their own keys: another user's key id is answered as unknown (404).
struct KeysHandler: LocalHandler {
    static let maxKeysPerUser = 100
    var maxBodyBytes: Int { 4096 }

    struct KeyJSON: Encodable {
        var id: String
        var name: String
        var prefix: String
        var createdAt: Date
        var revoked: Bool
        var revokedAt: Date?

        init(_ info: APIKeyInfo) {
            id = info.keyId
            name = info.name
            prefix = info.visiblePrefix
            createdAt = info.createdAt
            revoked = info.revokedAt != nil
            revokedAt = info.revokedAt
        }
    }

    func respond(to request: LocalRequest, _ exchange: inout ExchangeContext) -> LocalAnswer {
        let account: (ledger: Ledger, reader: LedgerReader, principal: Principal)
        switch exchange.requireAccount() {
        case .success(let value): account = value
        case .failure(let error): return .now(error.response)
        }
        let (ledger, principal) = (account.ledger, account.principal)
        let path = request.path
        if path == "/api/keys" {
            switch request.method {
            case "GET":
                do {
                    return .now(PortalJSON.response(200, ["keys": try ledger.apiKeys(userId: principal.userId).map(KeyJSON.init)]))
                } catch {
                    return .now(PortalJSON.ledgerError(error))
                }
            case "POST":
                return create(request, ledger, principal, exchange)
            default:
                return .now(LocalResponse.error(status: 405, code: "method_not_allowed", message: "Use GET or POST").with(header: ("Allow", "GET, POST")))
            }
        }
        let prefix = "/api/keys/"
        guard path.hasPrefix(prefix), path.count > prefix.count else {
            return .now(.error(status: 404, code: "not_found", message: "No such API endpoint"))
        }
        let keyId = String(path.dropFirst(prefix.count))
        guard request.method == "DELETE" else {
            return .now(LocalResponse.error(status: 405, code: "method_not_allowed", message: "Use DELETE").with(header: ("Allow", "DELETE")))
        }
        guard keyId.count <= 64, keyId.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else {
            return .now(.error(status: 404, code: "unknown_key", message: "No such API key"))
        }
        let logger = exchange.services.logger, requestID = exchange.requestIDText
        let revoked = exchange.offLoop { try ledger.revokeAPIKey(keyId: keyId, ownedBy: principal.userId) }
        return .later(revoked.portalResponse { info in
            logger.info("portal: API key revoked", metadata: ["key_id": "\(info.keyId)", "user_id": "\(principal.userId)", "request_id": "\(requestID)"])
            return LocalResponse(status: 204, body: ByteBuffer())
        })
    }

    private struct CreateBody: Decodable {
        var name: String?
    }

    private func create(_ request: LocalRequest, _ ledger: Ledger, _ principal: Principal, _ exchange: ExchangeContext) -> LocalAnswer {
        let body: CreateBody
        switch PortalJSON.decode(CreateBody.self, from: request) {
        case .success(let value): body = value
        case .failure(let error): return .now(error.response)
        }
        let name = (body.name ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.utf8.count <= 100, !name.contains(where: { $0.isNewline }) else {
            return .now(PortalJSON.invalid("'name' must be 1 to 100 bytes on one line", field: "name").response)
        }
        do {
            let active = try ledger.apiKeys(userId: principal.userId).filter { $0.revokedAt == nil }.count
            guard active < Self.maxKeysPerUser else {
                return .now(.error(status: 409, code: "too_many_keys", message: "Revoke a key first: at most \(Self.maxKeysPerUser) active keys per user"))
            }
        } catch {
            return .now(PortalJSON.ledgerError(error))
        }
        let logger = exchange.services.logger, requestID = exchange.requestIDText
        let created = exchange.offLoop { try ledger.createAPIKey(userId: principal.userId, name: name) }
        return .later(created.portalResponse { issued in
            logger.info("portal: API key created", metadata: ["key_id": "\(issued.info.keyId)", "user_id": "\(principal.userId)", "request_id": "\(requestID)"])
            struct CreatedJSON: Encodable { var key: KeyJSON; var secret: String }
            return PortalJSON.response(201, CreatedJSON(key: KeyJSON(issued.info), secret: issued.key))
        })
    }
}

/// `GET /api/usage?from=YYYY-MM-DD&to=YYYY-MM-DD` → tokens and counts per UTC day and operation
/// (the dashboard's chart). Both ends inclusive; default: the last 30 days; at most 366 days.
struct UsageHandler: LocalHandler {
    static let maxDays = 366
    var maxBodyBytes: Int { 0 }

    func respond(to request: LocalRequest, _ exchange: inout ExchangeContext) -> LocalAnswer {
        let account: (ledger: Ledger, reader: LedgerReader, principal: Principal)
        switch exchange.requireAccount() {
        case .success(let value): account = value
        case .failure(let error): return .now(error.response)
        }
        let today = Self.day(exchange.services.now())
        let to: Date
        let from: Date
        if let text = request.query["to"] {
            guard let value = Self.parseDay(text) else { return .now(PortalJSON.invalid("'to' must be a date YYYY-MM-DD", field: "to").response) }
            to = value
        } else {
            to = today
        }
        if let text = request.query["from"] {
            guard let value = Self.parseDay(text) else { return .now(PortalJSON.invalid("'from' must be a date YYYY-MM-DD", field: "from").response) }
            from = value
        } else {
            from = to.addingTimeInterval(-29 * 86_400)
        }
        guard from <= to else { return .now(PortalJSON.invalid("'from' must not be after 'to'", field: "from").response) }
        guard to.timeIntervalSince(from) < Double(Self.maxDays) * 86_400 else {
            return .now(PortalJSON.invalid("At most \(Self.maxDays) days per request", field: "from").response)
        }
        do {
            let rows = try account.ledger.usage(userId: account.principal.userId, from: from, to: to.addingTimeInterval(86_400))
            struct Row: Encodable { var date: String; var operation: String; var count: Int; var tokens: Int64 }
            struct UsageJSON: Encodable { var from: String; var to: String; var days: [Row] }
            return .now(PortalJSON.response(200, UsageJSON(
                from: Self.dayString(from), to: Self.dayString(to),
                days: rows.map { Row(date: $0.day, operation: $0.operation, count: $0.count, tokens: $0.tokens) })))
        } catch {
            return .now(PortalJSON.ledgerError(error))
        }
    }

    /// The start (UTC) of a `YYYY-MM-DD` day, or nil for anything else (including 2026-02-30).
    static func parseDay(_ text: String) -> Date? {
        let parts = text.split(separator: "-")
        guard text.count == 10, parts.count == 3, let y = Int64(parts[0]), let m = Int64(parts[1]), let d = Int64(parts[2]),
              (1970...9999).contains(y), (1...12).contains(m), (1...31).contains(d) else { return nil }
        let days = PlanCalendar.daysFromCivil(year: y, month: m, day: d)
        guard PlanCalendar.civil(fromDays: days) == (y, m, d) else { return nil }
        return Date(timeIntervalSince1970: Double(days) * 86_400)
    }

    static func day(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 86_400).rounded(.down) * 86_400)
    }

    static func dayString(_ date: Date) -> String {
        PlanCalendar.dayString(Int64((date.timeIntervalSince1970 * 1000).rounded(.down)))
    }
}

/// `GET /v1/users/me`, answered at the edge for the caller (API key or cookie), never forwarded:
/// `{id, email, name, credits}` with `credits` = available tokens, so a Recraft client that checks
/// its balance sees its own portal balance, not the service's.
struct UsersMeHandler: LocalHandler {
    var maxBodyBytes: Int { 0 }

    func respond(to request: LocalRequest, _ exchange: inout ExchangeContext) -> LocalAnswer {
        let account: (ledger: Ledger, reader: LedgerReader, principal: Principal)
        switch exchange.requireAccount() {
        case .success(let value): account = value
        case .failure(let error): return .now(error.response)
        }
        do {
            let user = try account.reader.user(id: account.principal.userId)
            let balance = try account.reader.balance(userId: account.principal.userId)
            struct MeJSON: Encodable { var id: String; var email: String; var name: String?; var credits: Int64 }
            return .now(PortalJSON.response(200, MeJSON(id: String(account.principal.userId.rawValue), email: account.principal.email,
                                                        name: user?.name, credits: max(0, balance?.available ?? 0))))
        } catch {
            return .now(PortalJSON.ledgerError(error))
        }
    }
}
