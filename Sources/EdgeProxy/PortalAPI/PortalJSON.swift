import Logging
import Foundation
import NIOCore
import NIOPosix
import Policy

/// JSON in and out for the portal's APIs: strict decoding (wrong types and unknown shapes are a
/// 400 naming the field), stable encoding, and the edge's error shape.
enum PortalJSON {
    /// A 400/413/415 response, or the decoded value.
    static func decode<Value: Decodable>(_ type: Value.Type, from request: LocalRequest) -> Result<Value, LocalResponseError> {
        if let contentType = request.head.headerString("content-type"),
           !contentType.lowercased().hasPrefix("application/json") {
            return .failure(LocalResponseError(.error(status: 415, code: "unsupported_media_type",
                                                      message: "Send the body as application/json")))
        }
        guard request.body.readableBytes > 0 else {
            return .failure(invalid("The request body must be a JSON object", field: nil))
        }
        do {
            return .success(try JSONDecoder().decode(Value.self, from: Data(request.body.readableBytesView)))
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            return .failure(invalid(field.isEmpty ? "The request body must be a JSON object" : "'\(field)' has the wrong type", field: field.isEmpty ? nil : field))
        } catch let DecodingError.keyNotFound(key, _) {
            return .failure(invalid("'\(key.stringValue)' is required", field: key.stringValue))
        } catch let DecodingError.dataCorrupted(context) where !context.codingPath.isEmpty {
            // Valid JSON, but a number that does not fit the field (a fraction, or too large).
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            return .failure(invalid("'\(field)' is not a whole number in range", field: field))
        } catch {
            return .failure(invalid("The request body is not valid JSON", field: nil))
        }
    }

    static func invalid(_ message: String, field: String?, code: String = "invalid_request") -> LocalResponseError {
        LocalResponseError(.error(status: 400, code: code, message: message, details: field.map { [("field", .string($0))] } ?? []))
    }

    /// `value` as a JSON response.
    static func response(_ status: Int, _ value: some Encodable, headers: [(String, String)] = []) -> LocalResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(timestamp(date))
        }
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return LocalResponse(status: status, body: ByteBuffer(bytes: data), headers: headers)
    }

    /// RFC 3339 UTC with milliseconds, the format of every time in the APIs.
    static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// A ledger refusal or fault as the API's error.
    static func ledgerError(_ error: any Error) -> LocalResponse {
        guard let error = error as? LedgerError else {
            return .error(status: 503, code: "ledger_unavailable", message: "Accounts are temporarily unavailable")
        }
        switch error.code {
        case .insufficientTokens:
            let numbers = error.insufficient
            return .error(status: 402, code: "insufficient_tokens", message: "Not enough tokens for this operation",
                          details: [("required", .int(numbers?.required ?? 0)), ("balance", .int(numbers?.available ?? 0))])
        case .unknownUser: return .error(status: 404, code: "unknown_user", message: "No such user")
        case .duplicateEmail: return .error(status: 409, code: "email_taken", message: "An account with this e-mail address already exists", details: [("field", .string("email"))])
        case .invalidEmail: return .error(status: 400, code: "invalid_request", message: "The e-mail address is not valid", details: [("field", .string("email"))])
        case .unknownPlan: return .error(status: 400, code: "unknown_plan", message: error.message, details: [("field", .string("plan"))])
        case .invalidAmount: return .error(status: 400, code: "invalid_request", message: error.message, details: [("field", .string("amount"))])
        case .unknownKey: return .error(status: 404, code: "unknown_key", message: "No such API key")
        case .invalidArgument: return .error(status: 400, code: "invalid_request", message: error.message)
        case .idempotencyConflict: return .error(status: 422, code: "idempotency_conflict", message: error.message)
        case .notDurable:
            return .error(status: 503, code: "ledger_unavailable",
                          message: "The change was recorded but the ledger's disk could not confirm it; check its result before retrying")
        default: return .error(status: 503, code: "ledger_unavailable", message: "Accounts are temporarily unavailable")
        }
    }
}

/// A ready error response carried through `Result` (the handlers' early exits).
struct LocalResponseError: Error {
    var response: LocalResponse
    init(_ response: LocalResponse) { self.response = response }
}

/// A user as the APIs show it (never the password hash).
struct UserJSON: Encodable {
    var id: String
    var email: String
    var name: String?
    var plan: String
    var role: String

    init(_ account: UserAccount) {
        id = String(account.id.rawValue)
        email = account.email
        name = account.name
        plan = account.plan
        role = account.role.rawValue
    }

    init(_ principal: Principal, name: String?) {
        id = String(principal.userId.rawValue)
        email = principal.email
        self.name = name
        plan = principal.plan
        role = principal.role.rawValue
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(email, forKey: .email)
        try container.encode(name, forKey: .name)   // null when unset, so clients see the field
        try container.encode(plan, forKey: .plan)
        try container.encode(role, forKey: .role)
    }

    private enum CodingKeys: String, CodingKey { case id, email, name, plan, role }
}

extension ExchangeContext {
    /// The ledger, its reader, and a principal: what an authenticated portal API needs.
    func requireAccount() -> Result<(ledger: Ledger, reader: LedgerReader, principal: Principal), LocalResponseError> {
        guard let ledger = services.ledger, let reader = services.reader else {
            return .failure(LocalResponseError(.error(status: 503, code: "ledger_unavailable", message: "Accounts are not available on this gateway")))
        }
        guard let principal else {
            return .failure(LocalResponseError(.error(status: 401, code: "missing_credentials", message: "Sign in or send an API key")))
        }
        return .success((ledger, reader, principal))
    }

    /// Runs blocking ledger work (scrypt, account writes) off the event loop; the future completes on it.
    func offLoop<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) -> EventLoopFuture<Value> {
        guard let pool = services.blockingPool else {
            return eventLoop.makeFailedFuture(LedgerError(code: .unavailable, operation: "portal", message: "no thread pool"))
        }
        return pool.runIfActive(eventLoop: eventLoop, work)
    }

    /// Completes a promise on this loop from a ledger callback (which runs on the writer thread).
    func ledgerFuture<Value: Sendable>(_ start: (@escaping @Sendable (Result<Value, LedgerError>) -> Void) -> Void) -> EventLoopFuture<Value> {
        let promise = eventLoop.makePromise(of: Value.self)
        start { result in promise.completeWith(result.mapError { $0 as any Error }) }
        return promise.futureResult
    }
}

extension EventLoopFuture where Value: Sendable {
    /// Maps a ledger result to a response, turning ledger errors into the API's error shape.
    func portalResponse(_ transform: @escaping @Sendable (Value) -> LocalResponse) -> EventLoopFuture<LocalResponse> {
        map(transform).flatMapErrorThrowing { error in
            if let ledgerError = error as? LedgerError { return PortalJSON.ledgerError(ledgerError) }
            if let early = error as? LocalResponseError { return early.response }
            throw error
        }
    }
}
