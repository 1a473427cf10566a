import Foundation
import NIOCore
import NIOHTTP1
import Yams

/// docs/openapi.yaml, loaded for the conformance tests: finds the operation a request hit and checks
/// a real response against what the document promises for it.
struct OpenAPIDocument {
    let root: JSONValue
    var validator: JSONSchemaValidator { JSONSchemaValidator(root: root) }

    /// The repository's docs/openapi.yaml.
    static var path: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("docs/openapi.yaml").path
    }

    static func load() throws -> OpenAPIDocument {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        guard let node = try Yams.compose(yaml: text) else { throw SchemaError("docs/openapi.yaml is empty") }
        return OpenAPIDocument(root: try JSONValue(yaml: node))
    }

    static let methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    var paths: [String: JSONValue] { root["paths"]?.object ?? [:] }

    /// Every (path template, upper-case method) the document lists.
    var operations: [(path: String, method: String)] {
        paths.sorted { $0.key < $1.key }.flatMap { path, item in
            Self.methods.filter { item[$0] != nil }.map { (path, $0.uppercased()) }
        }
    }

    /// The path template that `path` (query excluded) matches: an exact one first, else one whose
    /// `{name}` segments each match one non-empty segment.
    func template(for path: String) -> String? {
        let path = String(path.prefix { $0 != "?" })
        if paths[path] != nil { return path }
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        return paths.keys.sorted().first { template in
            let parts = template.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == segments.count else { return false }
            return zip(parts, segments).allSatisfy { part, segment in
                part.hasPrefix("{") && part.hasSuffix("}") ? !segment.isEmpty : part == segment
            }
        }
    }

    func operation(method: String, path: String) -> JSONValue? {
        template(for: path).flatMap { paths[$0]?[method.lowercased()] }
    }

    /// Everything wrong with `response` as an answer to `method path` (empty when it conforms):
    /// the operation exists, its query parameters are documented, the status is documented (or the
    /// operation has a `default`), required headers are present and well-formed, and the body
    /// validates against the documented schema (or is empty when none is documented). When the
    /// request succeeded, its JSON body must validate against the documented request body too.
    func problems(method: String, path: String, requestBody: JSONValue?, response: TestResponse) -> [String] {
        let request = "\(method) \(path) → \(response.status.code)"
        guard let template = template(for: path) else { return ["\(request): the path is not in docs/openapi.yaml"] }
        guard let operation = paths[template]?[method.lowercased()] else {
            return ["\(request): \(method) is not documented for \(template)"]
        }
        var problems: [String] = []
        do {
            problems += try queryProblems(path: path, operation: operation)
            if let requestBody, (200..<300).contains(response.status.code) {
                problems += try requestBodyProblems(requestBody, operation: operation)
            }
            guard let responses = operation["responses"]?.object else { return ["\(request): no responses documented"] }
            guard let documented = responses[String(response.status.code)] ?? responses["default"] else {
                return problems + ["\(request): status \(response.status.code) is not documented (documented: \(responses.keys.sorted()))"]
            }
            problems += try responseProblems(try validator.dereference(documented), response)
        } catch {
            problems.append("\(error)")
        }
        return problems.map { $0.hasPrefix(request) ? $0 : "\(request): \($0)" }
    }

    private func queryProblems(path: String, operation: JSONValue) throws -> [String] {
        guard let query = path.split(separator: "?", maxSplits: 1).dropFirst().first else { return [] }
        let documented = try (operation["parameters"]?.array ?? []).map { try validator.dereference($0) }
            .filter { $0["in"] == .string("query") }.compactMap { $0["name"]?.string }
        return query.split(separator: "&").compactMap { pair in
            let name = String(pair.prefix { $0 != "=" })
            return documented.contains(name) ? nil : "query parameter '\(name)' is not documented"
        }
    }

    private func requestBodyProblems(_ body: JSONValue, operation: JSONValue) throws -> [String] {
        guard let requestBody = operation["requestBody"] else { return ["a request body was sent but none is documented"] }
        guard let schema = try validator.dereference(requestBody)["content"]?["application/json"]?["schema"] else {
            return ["no application/json request body is documented"]
        }
        return validator.validate(body, schema, at: "request").map { "request body: \($0)" }
    }

    private func responseProblems(_ documented: JSONValue, _ response: TestResponse) throws -> [String] {
        var problems: [String] = []
        for (name, header) in (documented["headers"]?.object ?? [:]).sorted(by: { $0.key < $1.key }) {
            let header = try validator.dereference(header)
            guard let value = response.headers[name].first else {
                if header["required"] == .bool(true) { problems.append("required header \(name) is missing") }
                continue
            }
            if let schema = header["schema"] {
                let typed: JSONValue = schema["type"] == .string("integer") ? Int64(value).map(JSONValue.integer) ?? .string(value) : .string(value)
                problems += validator.validate(typed, schema, at: name).map { "header \($0)" }
            }
        }
        guard let schema = documented["content"]?["application/json"]?["schema"] else {
            if documented["content"] != nil { return problems + ["only application/json content can be checked"] }
            if response.body.readableBytes > 0 { problems.append("a body was sent, but none is documented: \(response.bodyText.prefix(200))") }
            return problems
        }
        let contentType = response.headers["Content-Type"].first ?? ""
        if !contentType.lowercased().hasPrefix("application/json") {
            problems.append("Content-Type is '\(contentType)', documented application/json")
        }
        let body: JSONValue
        do {
            body = try JSONValue(json: Data(response.body.readableBytesView))
        } catch {
            return problems + ["the body is not JSON: \(response.bodyText.prefix(200))"]
        }
        return problems + validator.validate(body, schema)
    }
}
