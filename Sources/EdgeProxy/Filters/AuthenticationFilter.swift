import Foundation
import Logging
import NIOCore
import Policy

/// `authenticate`: establishes the principal from `Authorization: Bearer <API key>` or the portal's
/// session cookie, reading the ledger inline (microseconds, no thread hop). Missing, unknown,
/// revoked or expired credentials → 401 and nothing is forwarded. The key is hashed straight
/// from the header's bytes and never logged. A cookie-authenticated request that changes state
/// (not GET/HEAD/OPTIONS) must come from an allowed page (`Origin`, else `Referer`): otherwise
/// 403 `origin_not_allowed` (CSRF defence); API-key requests need no Origin.
struct AuthenticationFilter: EdgeFilter {
    func requestHead(_ request: EdgeRequest, _ exchange: inout ExchangeContext) -> FilterDecision {
        guard let reader = exchange.services.reader else {
            return .respond(EdgeReply(status: 503, code: "ledger_unavailable", message: "Accounts are not available on this gateway"))
        }
        if let token = request.bearerToken {
            let digest = token.withUnsafeReadableBytes { SecretHash.sha256(bytes: $0) }
            let principal: Principal?
            do {
                principal = try reader.principal(apiKeyHash: digest)
            } catch {
                exchange.services.logger.error("ledger read failed during authentication", metadata: ["error": "\(error)"])
                return .respond(EdgeReply(status: 503, code: "ledger_unavailable", message: "Accounts are temporarily unavailable"))
            }
            guard let principal else {
                exchange.securityEvent = .authFailure
                exchange.services.logger.notice("security: unknown or revoked API key", metadata: ["client": "\(exchange.clientAddress)", "request_id": "\(exchange.requestIDText)"])
                return .respond(Self.unauthorized(code: "invalid_api_key", message: "The API key is not valid (unknown or revoked)", bearer: true))
            }
            exchange.principal = principal
            exchange.credential = .apiKey
            return .continue
        }
        switch Self.session(request, &exchange) {
        case .signedIn:
            if request.head.method.changesState, let refusal = Self.checkOrigin(request, exchange) {
                exchange.securityEvent = .originViolation
                return .respond(refusal)
            }
            return .continue
        case .expired:
            exchange.securityEvent = .authFailure
            return .respond(Self.unauthorized(code: "session_expired", message: "The session has expired or was signed out", bearer: false))
        case .unavailable:
            return .respond(EdgeReply(status: 503, code: "ledger_unavailable", message: "Accounts are temporarily unavailable"))
        case .noCookie:
            exchange.securityEvent = .authFailure
            return .respond(Self.unauthorized(code: "missing_credentials", message: "Send an API key as 'Authorization: Bearer <key>' or sign in", bearer: true))
        }
    }

    /// Looks up the session cookie (shared with `protect`); on success sets the principal and the
    /// credential on `exchange` and slides the session's expiry when due.
    static func session(_ request: EdgeRequest, _ exchange: inout ExchangeContext) -> SessionLookup {
        guard let session = request.cookie(exchange.services.authentication.sessionCookie) else { return .noCookie }
        guard let reader = exchange.services.reader else { return .unavailable }
        let digest = SecretHash.sha256(session)
        let principal: Principal?
        do {
            principal = try reader.principal(sessionTokenHash: digest, now: exchange.services.now())
        } catch {
            exchange.services.logger.error("ledger read failed during authentication", metadata: ["error": "\(error)"])
            return .unavailable
        }
        guard let principal else { return .expired }
        if principal.sessionRefreshDue, let ledger = exchange.services.ledger {
            ledger.touchSession(tokenHash: digest) { _ in }
        }
        exchange.principal = principal
        exchange.credential = .sessionCookie
        return .signedIn
    }

    /// The CSRF check for a cookie-authenticated, state-changing request: nil when its page's
    /// origin is allowed, else the 403 to answer (logged as a security event; no secrets).
    static func checkOrigin(_ request: EdgeRequest, _ exchange: ExchangeContext) -> EdgeReply? {
        let origin = request.header("origin")
        let referer = origin == nil ? request.header("referer") : nil
        let host = request.header("host")
        let check = withOptionalBytes(origin) { o in
            withOptionalBytes(referer) { r in
                withOptionalBytes(host) { h in exchange.services.cors.checkStateChange(origin: o, referer: r, host: h) }
            }
        }
        let reason: String
        switch check {
        case .allowed: return nil
        case .missing: reason = "no Origin or Referer"
        case .notAllowed: reason = "origin not allowed"
        }
        exchange.services.logger.warning("security: cookie request from a foreign page refused (CSRF)", metadata: [
            "reason": "\(reason)", "origin": "\(origin.map { String(buffer: $0).prefix(200) } ?? "-")",
            "route": "\(exchange.route.id)", "client": "\(exchange.clientAddress)", "request_id": "\(exchange.requestIDText)"])
        return EdgeReply(status: 403, code: "origin_not_allowed", message: "This request must come from an allowed origin")
    }

    static func unauthorized(code: String, message: String, bearer: Bool) -> EdgeReply {
        EdgeReply(status: 401, code: code, message: message,
                  headers: bearer ? [("WWW-Authenticate", "Bearer realm=\"recraftor\"")] : [])
    }
}

/// The outcome of looking up the session cookie.
enum SessionLookup {
    /// A live session: `exchange.principal` is set.
    case signedIn
    /// No session cookie was sent.
    case noCookie
    /// The cookie names no live session (unknown, expired or signed out).
    case expired
    /// The ledger could not be read.
    case unavailable
}

extension HTTPMethodKind {
    /// Whether the method may change state (everything but GET, HEAD and OPTIONS).
    var changesState: Bool {
        switch self {
        case .get, .head, .options: return false
        default: return true
        }
    }
}

/// Runs `body` with the readable bytes of `buffer`, or nil.
func withOptionalBytes<T>(_ buffer: ByteBuffer?, _ body: (UnsafeRawBufferPointer?) -> T) -> T {
    guard let buffer else { return body(nil) }
    return buffer.withUnsafeReadableBytes { body($0) }
}
