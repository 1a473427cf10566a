import Logging
import Foundation
import NIOCore
import Policy

/// `POST /api/auth/register` `{email, password, name?}` → 201 `{user}` and a session cookie.
/// New users start on the policy's default plan with its allocation; an e-mail taken in any letter
/// case → 409. The password is hashed (scrypt) off the event loop.
struct RegisterHandler: LocalHandler {
    static let minimumPasswordLength = 10
    static let maximumPasswordBytes = 1024
    var maxBodyBytes: Int { 8192 }

    private struct Body: Decodable {
        var email: String
        var password: String
        var name: String?
    }

    func respond(to request: LocalRequest, _ exchange: inout ExchangeContext) -> LocalAnswer {
        if let refusal = SessionCookie.refuseForeignOrigin(request, exchange) { return .now(refusal) }
        guard let ledger = exchange.services.ledger else { return .now(SessionCookie.unavailable) }
        let body: Body
        switch PortalJSON.decode(Body.self, from: request) {
        case .success(let value): body = value
        case .failure(let error): return .now(error.response)
        }
        guard let email = UserAccount.normalizedEmail(body.email) else {
            return .now(PortalJSON.invalid("The e-mail address is not valid", field: "email").response)
        }
        guard body.password.count >= Self.minimumPasswordLength else {
            return .now(PortalJSON.invalid("The password must have at least \(Self.minimumPasswordLength) characters", field: "password").response)
        }
        guard body.password.utf8.count <= Self.maximumPasswordBytes else {
            return .now(PortalJSON.invalid("The password is too long", field: "password").response)
        }
        let name = body.name?.trimmingCharacters(in: .whitespacesAndNewlines)
        if let name, name.utf8.count > 200 || name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return .now(PortalJSON.invalid("The name must be at most 200 bytes on one line", field: "name").response)
        }
        let password = body.password
        let cookie = exchange.services.authentication.sessionCookie
        let logger = exchange.services.logger
        let requestID = exchange.requestIDText
        let created = exchange.offLoop { () throws -> (UserAccount, IssuedSession) in
            let user = try ledger.createUser(email: email, password: password, name: name?.isEmpty == true ? nil : name)
            let session = try ledger.createSession(userId: user.id)
            return (user, session)
        }
        return .later(created.portalResponse { user, session in
            logger.info("portal: account registered", metadata: ["user_id": "\(user.id)", "request_id": "\(requestID)"])
            return PortalJSON.response(201, ["user": UserJSON(user)],
                                       headers: [SessionCookie.set(name: cookie, token: session.token, maxAge: ledger.sessionLifetime)])
        })
    }
}

/// `POST /api/auth/login` `{email, password}` → 200 `{user}` and a session cookie. A wrong password
/// and an unknown e-mail get the same 401 in about the same time (scrypt runs against a decoy).
/// Attempts are limited per client IP (the route's `rate_limit`, its class's `per_ip`) and per
/// e-mail address named (here, with the class's `per_user` rule).
struct LoginHandler: LocalHandler {
    var maxBodyBytes: Int { 8192 }

    private struct Body: Decodable {
        var email: String
        var password: String
    }

    func respond(to request: LocalRequest, _ exchange: inout ExchangeContext) -> LocalAnswer {
        if let refusal = SessionCookie.refuseForeignOrigin(request, exchange) { return .now(refusal) }
        guard let ledger = exchange.services.ledger else { return .now(SessionCookie.unavailable) }
        let body: Body
        switch PortalJSON.decode(Body.self, from: request) {
        case .success(let value): body = value
        case .failure(let error): return .now(error.response)
        }
        guard body.password.utf8.count <= RegisterHandler.maximumPasswordBytes else {
            return .now(Self.invalidCredentials)
        }
        let account = UserAccount.normalizedEmail(body.email) ?? body.email.lowercased()
        if case .limited(let state, let retryAfter) = exchange.services.rateLimiter.check(routeClass: exchange.route.rateLimitClass, subject: account) {
            exchange.services.logger.notice("security: sign-in attempts for one account rate limited", metadata: [
                "client": "\(exchange.clientAddress)", "request_id": "\(exchange.requestIDText)"])
            // The account's bucket decided: its numbers replace the per-IP bucket's RateLimit-* lines.
            return .now(LocalResponse.error(status: 429, code: "rate_limited", message: "Too many sign-in attempts; retry in \(retryAfter) s",
                                            details: [("retry_after", .int(Int64(retryAfter)))],
                                            headers: [("Retry-After", String(retryAfter)), ("RateLimit-Limit", String(state.limit)),
                                                      ("RateLimit-Remaining", String(state.remaining)), ("RateLimit-Reset", String(state.resetSeconds))]))
        }
        let (email, password) = (body.email, body.password)
        let cookie = exchange.services.authentication.sessionCookie
        let logger = exchange.services.logger
        let client = exchange.clientAddress, requestID = exchange.requestIDText
        let signedIn = exchange.offLoop { () throws -> (UserAccount, IssuedSession)? in
            guard let user = try ledger.verifyPassword(email: email, password: password) else { return nil }
            return (user, try ledger.createSession(userId: user.id))
        }
        return .later(signedIn.portalResponse { result in
            guard let (user, session) = result else {
                logger.notice("security: sign-in failed", metadata: ["client": "\(client)", "request_id": "\(requestID)"])
                return Self.invalidCredentials
            }
            return PortalJSON.response(200, ["user": UserJSON(user)],
                                       headers: [SessionCookie.set(name: cookie, token: session.token, maxAge: ledger.sessionLifetime)])
        })
    }

    static var invalidCredentials: LocalResponse {
        .error(status: 401, code: "invalid_credentials", message: "The e-mail address or the password is wrong")
    }
}

/// `POST /api/auth/logout` → 204: the session is deleted (dead at once for every request) and the
/// cookie cleared. Without a session it still clears the cookie.
struct LogoutHandler: LocalHandler {
    var maxBodyBytes: Int { 1024 }

    func respond(to request: LocalRequest, _ exchange: inout ExchangeContext) -> LocalAnswer {
        let cookieName = exchange.services.authentication.sessionCookie
        let cleared = LocalResponse(status: 204, body: ByteBuffer(), headers: [SessionCookie.clear(name: cookieName)])
        guard let token = request.head.cookie(cookieName), !token.isEmpty else { return .now(cleared) }
        if let refusal = AuthenticationFilter.checkOrigin(request.head, exchange) { return .now(refusal.localResponse) }
        guard let ledger = exchange.services.ledger else { return .now(SessionCookie.unavailable) }
        let digest = SecretHash.sha256(token)
        return .later(exchange.offLoop { try ledger.deleteSession(tokenHash: digest) }.portalResponse { _ in cleared })
    }
}

/// `GET /api/auth/session` → `{user: {id, email, name, plan, role}, expires}` for a live session, or
/// `{}` when signed out (as NextAuth answers).
struct SessionHandler: LocalHandler {
    var maxBodyBytes: Int { 0 }

    func respond(to request: LocalRequest, _ exchange: inout ExchangeContext) -> LocalAnswer {
        guard case .signedIn = AuthenticationFilter.session(request.head, &exchange), let principal = exchange.principal,
              let reader = exchange.services.reader else {
            return .now(PortalJSON.response(200, [String: String]()))
        }
        let name = (try? reader.user(id: principal.userId))?.name
        struct SessionJSON: Encodable {
            var user: UserJSON
            var expires: Date?
        }
        return .now(PortalJSON.response(200, SessionJSON(user: UserJSON(principal, name: name), expires: principal.sessionExpiresAt)))
    }
}

/// The portal's session cookie and the origin rule for requests that create sessions.
enum SessionCookie {
    static func set(name: String, token: String, maxAge: Double) -> (String, String) {
        ("Set-Cookie", "\(name)=\(token); Path=/; Max-Age=\(Int(maxAge)); HttpOnly; Secure; SameSite=Lax")
    }

    static func clear(name: String) -> (String, String) {
        ("Set-Cookie", "\(name)=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax")
    }

    static var unavailable: LocalResponse {
        .error(status: 503, code: "ledger_unavailable", message: "Accounts are not available on this gateway")
    }

    /// Sign-up and sign-in from a browser must come from an allowed page (login CSRF); a request
    /// with no Origin and no Referer (an SDK, curl) is not a browser's and may go on.
    static func refuseForeignOrigin(_ request: LocalRequest, _ exchange: ExchangeContext) -> LocalResponse? {
        guard request.head.header("origin") != nil || request.head.header("referer") != nil else { return nil }
        return AuthenticationFilter.checkOrigin(request.head, exchange)?.localResponse
    }
}

extension LocalResponse {
    /// The response with one more header.
    func with(header: (String, String)) -> LocalResponse {
        var copy = self
        copy.extraHeaders.append(header)
        return copy
    }
}
