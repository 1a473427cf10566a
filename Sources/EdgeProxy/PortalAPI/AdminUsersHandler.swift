import Logging
import Foundation
import NIOCore
import Policy

/// `/api/admin/users` (administrators only): `GET ?email=` finds a user with their balance;
/// `PATCH /api/admin/users/{id} {plan}` moves a user to another plan from the policy's catalog.
/// Everyone else gets 403, logged as a security event.
struct AdminUsersHandler: LocalHandler {
    var maxBodyBytes: Int { 4096 }

    struct AdminUserJSON: Encodable {
        var id: String
        var email: String
        var name: String?
        var plan: String
        var role: String
        var balance: Int64
        var held: Int64
        var createdAt: Date
    }

    func respond(to request: LocalRequest, _ exchange: inout ExchangeContext) -> LocalAnswer {
        let account: (ledger: Ledger, reader: LedgerReader, principal: Principal)
        switch exchange.requireAccount() {
        case .success(let value): account = value
        case .failure(let error): return .now(error.response)
        }
        let (ledger, reader, principal) = account
        guard principal.role == .admin else {
            exchange.services.logger.warning("security: admin API refused for a non-admin", metadata: [
                "user_id": "\(principal.userId)", "route": "\(exchange.route.id)", "request_id": "\(exchange.requestIDText)"])
            return .now(.error(status: 403, code: "forbidden", message: "Only administrators may do this"))
        }
        if request.path == "/api/admin/users" {
            guard request.method == "GET" else {
                return .now(LocalResponse.error(status: 405, code: "method_not_allowed", message: "Use GET").with(header: ("Allow", "GET")))
            }
            guard let email = request.query["email"], !email.isEmpty else {
                return .now(PortalJSON.invalid("Give the user's e-mail address as ?email=", field: "email").response)
            }
            do {
                let users = try ledger.user(email: email).map { [$0] } ?? []
                return .now(PortalJSON.response(200, ["users": try users.map { try Self.json($0, reader) }]))
            } catch {
                return .now(PortalJSON.ledgerError(error))
            }
        }
        let prefix = "/api/admin/users/"
        guard request.path.hasPrefix(prefix), let raw = UInt64(request.path.dropFirst(prefix.count)) else {
            return .now(.error(status: 404, code: "unknown_user", message: "No such user"))
        }
        guard request.method == "PATCH" else {
            return .now(LocalResponse.error(status: 405, code: "method_not_allowed", message: "Use PATCH").with(header: ("Allow", "PATCH")))
        }
        struct PlanBody: Decodable { var plan: String }
        let body: PlanBody
        switch PortalJSON.decode(PlanBody.self, from: request) {
        case .success(let value): body = value
        case .failure(let error): return .now(error.response)
        }
        guard ledger.plans.plan(named: body.plan) != nil else {
            return .now(PortalJSON.invalid("Unknown plan '\(body.plan.prefix(64))' (known: \(ledger.plans.plans.keys.sorted().joined(separator: ", ")))",
                                           field: "plan", code: "unknown_plan").response)
        }
        let userId = UserID(rawValue: raw)
        let actor = "admin:\(principal.userId)"
        let logger = exchange.services.logger, requestID = exchange.requestIDText
        let changed = exchange.offLoop { () throws -> UserAccount? in
            _ = try ledger.changePlan(userId: userId, to: body.plan, actor: actor)
            return try ledger.user(id: userId)
        }
        return .later(changed.portalResponse { user in
            guard let user else { return .error(status: 404, code: "unknown_user", message: "No such user") }
            logger.notice("portal: plan changed", metadata: ["admin": "\(actor)", "user_id": "\(user.id)", "plan": "\(user.plan)", "request_id": "\(requestID)"])
            return PortalJSON.response(200, ["user": UserJSON(user)])
        })
    }

    static func json(_ user: UserAccount, _ reader: LedgerReader) throws(LedgerError) -> AdminUserJSON {
        let balance = try reader.balance(userId: user.id)
        return AdminUserJSON(id: String(user.id.rawValue), email: user.email, name: user.name, plan: balance?.plan ?? user.plan,
                             role: user.role.rawValue, balance: balance?.balance ?? 0, held: balance?.held ?? 0, createdAt: user.createdAt)
    }
}
