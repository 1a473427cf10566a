import EdgeProxy
import Foundation
import NIOCore
import NIOHTTP1
import Policy
import Testing

/// Helpers for driving the portal's JSON APIs through the real edge.
extension TestHTTPSClient {
    /// Sends `json` (any JSON-serialisable value, or a raw string) with `Content-Type: application/json`.
    func sendJSON(_ method: HTTPMethod, _ path: String, _ json: Any?, headers: HTTPHeaders = [:]) async throws -> TestResponse {
        var headers = headers
        var body: ByteBuffer?
        if let json {
            let data = json is String ? Data((json as! String).utf8) : try JSONSerialization.data(withJSONObject: json)
            body = ByteBuffer(bytes: data)
            if !headers.contains(name: "content-type") { headers.add(name: "Content-Type", value: "application/json") }
        }
        return try await send(method: method, path: path, headers: headers, body: body)
    }
}

extension TestResponse {
    /// The session cookie's value set by this response (nil when none or when cleared).
    func sessionCookie(named name: String = "edge_session") -> String? {
        for line in headers["Set-Cookie"] where line.hasPrefix("\(name)=") {
            let value = line.dropFirst(name.count + 1).prefix { $0 != ";" }
            return value.isEmpty ? nil : String(value)
        }
        return nil
    }

    /// `error.code` of a JSON error body.
    var errorCode: String? { ((try? jsonObject())?["error"] as? [String: Any])?["code"] as? String }
}

/// Cookie (and the edge's own Origin) headers for a signed-in browser session.
func browserHeaders(_ edge: EdgeHarness, session: String) -> HTTPHeaders {
    ["Cookie": "edge_session=\(session)", "Origin": "https://localhost:\(edge.port)", "Host": "localhost:\(edge.port)"]
}

/// Synchronous ledger set-up for async tests (the ledger's blocking calls are `noasync`).
extension EdgeHarness {
    func makeAccount(_ email: String, role: UserRole = .user, plan: String? = nil, password: String? = nil) throws -> UserAccount {
        try ledger.createUser(email: email, password: password, plan: plan, role: role)
    }

    func makeKey(_ user: UserAccount) throws -> String {
        try ledger.createAPIKey(userId: user.id, name: "test").key
    }

    func grant(_ user: UserAccount, _ amount: Int64, reason: String = "test") throws {
        _ = try ledger.grant(userId: user.id, amount: amount, reason: reason, actor: "test")
    }

    func signIn(_ user: UserAccount, lifetime: Double) throws -> String {
        try ledger.createSession(userId: user.id, lifetime: lifetime).token
    }
}
