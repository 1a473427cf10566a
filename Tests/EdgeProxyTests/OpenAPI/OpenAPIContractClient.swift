import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// Sends requests through the real edge and checks every answer against docs/openapi.yaml: the
/// expected status, then everything `OpenAPIDocument.problems` finds, recorded as test issues at
/// the caller's line. Keeps which operations and statuses the scenario exercised.
final class OpenAPIContractClient {
    let edge: EdgeHarness
    let document: OpenAPIDocument
    private var client: TestHTTPSClient
    /// "METHOD /template" → statuses seen.
    private(set) var exercised: [String: Set<UInt>] = [:]
    private(set) var checkedResponses = 0

    init(_ edge: EdgeHarness, document: OpenAPIDocument) async throws {
        self.edge = edge
        self.document = document
        self.client = try await edge.client()
    }

    /// Sends `json` (a JSON-serialisable value, or a raw JSON string) as `application/json`.
    @discardableResult
    func call(
        _ method: HTTPMethod, _ path: String, json: Any? = nil, headers: HTTPHeaders = [:], expect status: UInt,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> TestResponse {
        var headers = headers
        var body: ByteBuffer?
        var sent: JSONValue?
        if let json {
            let data = json is String ? Data((json as! String).utf8) : try JSONSerialization.data(withJSONObject: json)
            body = ByteBuffer(bytes: data)
            sent = try? JSONValue(json: data)
            if !headers.contains(name: "content-type") { headers.add(name: "Content-Type", value: "application/json") }
        }
        return try await send(method, path, body: body, json: sent, headers: headers, expect: [status], sourceLocation: sourceLocation)
    }

    /// As `call(_:_:json:headers:expect:)` when either of several statuses is right (e.g. 401 until a limit, then 429).
    @discardableResult
    func call(
        _ method: HTTPMethod, _ path: String, json: Any, headers: HTTPHeaders = [:], expectOneOf statuses: Set<UInt>,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> TestResponse {
        var headers = headers
        let data = try JSONSerialization.data(withJSONObject: json)
        headers.add(name: "Content-Type", value: "application/json")
        return try await send(method, path, body: ByteBuffer(bytes: data), json: try? JSONValue(json: data), headers: headers,
                              expect: statuses, sourceLocation: sourceLocation)
    }

    /// Sends raw bytes (uploads, a wrong media type); no request-body schema check.
    @discardableResult
    func call(
        _ method: HTTPMethod, _ path: String, raw: ByteBuffer, headers: HTTPHeaders, expect status: UInt,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> TestResponse {
        try await send(method, path, body: raw, json: nil, headers: headers, expect: [status], sourceLocation: sourceLocation)
    }

    private func send(
        _ method: HTTPMethod, _ path: String, body: ByteBuffer?, json: JSONValue?, headers: HTTPHeaders, expect statuses: Set<UInt>,
        sourceLocation: SourceLocation
    ) async throws -> TestResponse {
        let response = try await client.send(method: method, path: path, headers: headers, body: body)
        #expect(statuses.contains(response.status.code), "\(method.rawValue) \(path): \(response.status.code) \(response.bodyText.prefix(300))",
                sourceLocation: sourceLocation)
        for problem in document.problems(method: method.rawValue, path: path, requestBody: json, response: response) {
            Issue.record(Comment(rawValue: problem), sourceLocation: sourceLocation)
        }
        checkedResponses += 1
        if let template = document.template(for: path) {
            exercised["\(method.rawValue) \(template)", default: []].insert(response.status.code)
        }
        if response.headers[canonicalForm: "Connection"].contains(where: { $0.lowercased() == "close" }) {
            await client.close()
            client = try await edge.client()
        }
        return response
    }

    /// Every status the scenario saw, whatever the operation.
    var statuses: Set<UInt> { exercised.values.reduce(into: []) { $0.formUnion($1) } }

    func close() async {
        await client.close()
    }
}

/// Small accessors for the scenario's assertions.
extension TestResponse {
    var json: JSONValue { (try? JSONValue(json: Data(body.readableBytesView))) ?? .null }
    var errorField: String? { json["error"]?["field"]?.string }
}
