import Foundation
import Logging
import NIOCore
import Policy

/// `authenticate`: establishes the principal from `Authorization: Bearer <API key>` or the portal's
/// session cookie, reading the ledger inline (microseconds, no thread hop). Missing, unknown,
/// revoked or expired credentials → 401 and nothing is forwarded. The key is hashed straight
/// from the header's bytes and never logged.
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
                exchange.services.logger.notice("security: unknown or revoked API key", metadata: ["client": "\(exchange.clientAddress)", "request_id": "\(exchange.requestIDText)"])
                return .respond(Self.unauthorized(code: "invalid_api_key", message: "The API key is not valid (unknown or revoked)", bearer: true))
            }
            exchange.principal = principal
            exchange.credential = .apiKey
            return .continue
        }
        if let session = request.cookie(exchange.services.authentication.sessionCookie) {
            let digest = SecretHash.sha256(session)
            let principal: Principal?
            do {
                principal = try reader.principal(sessionTokenHash: digest, now: exchange.services.now())
            } catch {
                exchange.services.logger.error("ledger read failed during authentication", metadata: ["error": "\(error)"])
                return .respond(EdgeReply(status: 503, code: "ledger_unavailable", message: "Accounts are temporarily unavailable"))
            }
            guard let principal else {
                return .respond(Self.unauthorized(code: "session_expired", message: "The session has expired or was signed out", bearer: false))
            }
            if principal.sessionRefreshDue, let ledger = exchange.services.ledger {
                ledger.touchSession(tokenHash: digest) { _ in }
            }
            exchange.principal = principal
            exchange.credential = .sessionCookie
            return .continue
        }
        return .respond(Self.unauthorized(code: "missing_credentials", message: "Send an API key as 'Authorization: Bearer <key>' or sign in", bearer: true))
    }

    static func unauthorized(code: String, message: String, bearer: Bool) -> EdgeReply {
        EdgeReply(status: 401, code: code, message: message,
                  headers: bearer ? [("WWW-Authenticate", "Bearer realm=\"recraftor\"")] : [])
    }
}
