@testable import EdgeProxy
import Foundation
import NIOCore
import NIOHTTP1
import Policy
import Testing

/// docs/openapi.yaml against policies/default.yaml (no route undocumented, no documented path
/// unrouted), and the checker itself: it must be able to fail.
@Suite("OpenAPI document: routes covered, and a validator that rejects what is wrong")
struct OpenAPIDocumentTests {
    static func loadPolicy() throws -> EdgePolicy {
        try PolicyLoader.load(path: EdgeHarness.defaultPolicyPath, environment: EdgeEnvironment(values: [:]))
    }

    /// A concrete path for a template (`{id}` → a plausible id).
    static func sample(_ template: String) -> String {
        template.replacingOccurrences(of: "{id}", with: "0123456789abcdef")
    }

    @Test("Every handler route and every Recraft route of policies/default.yaml is documented with each of its methods")
    func routesAreDocumented() throws {
        let document = try OpenAPIDocument.load()
        let documented = Set(document.operations.map { "\($0.method) \($0.path)" })
        var checked = 0
        for route in try Self.loadPolicy().routes.routes {
            switch route.action {
            case .local("portal_page"), .local("portal_asset"): continue   // HTML pages and assets, not the API
            case .local, .forward(upstream: "recraft", _): break
            default: continue
            }
            let methods = try #require(route.methods, "route \(route.id) takes any method; document which")
            for method in methods {
                let path: String?
                switch route.path {
                case .exact(let exact): path = documented.contains("\(method) \(exact)") ? exact : nil
                case .prefix(let prefix):
                    path = documented.first { $0.hasPrefix("\(method) \(prefix){") && !$0.dropFirst(method.count + 1 + prefix.count).contains("/") }
                }
                #expect(path != nil, "route \(route.id): \(method) \(route.path) is not in docs/openapi.yaml")
                checked += 1
            }
        }
        #expect(checked >= 30)
    }

    @Test("Every documented operation is routed by policies/default.yaml to a handler or to Recraft (or is the built-in /healthz)")
    func documentedOperationsAreRouted() throws {
        let document = try OpenAPIDocument.load()
        let routes = try Self.loadPolicy().routes
        #expect(document.operations.count >= 30)
        for (template, method) in document.operations {
            if template == "/healthz" {
                #expect(EdgeConnectionHandler.healthRoute.path == .exact("/healthz") && EdgeConnectionHandler.healthRoute.methods?.contains(method) == true)
                continue
            }
            guard case .matched(let route) = routes.decide(method: method, path: Self.sample(template)) else {
                Issue.record("\(method) \(template) is documented but no route takes it")
                continue
            }
            switch route.action {
            case .local: break
            case .forward(let upstream, _): #expect(upstream == "recraft", "\(method) \(template) goes to \(upstream) (route \(route.id))")
            case .respond: Issue.record("\(method) \(template) is documented but answered by the catch-all route \(route.id)")
            }
            let isMetered = template.hasPrefix("/api/recraft/") || template.hasPrefix("/v1/images/") || template == "/v1/styles"
            #expect((route.operation != nil) == isMetered, "\(method) \(template): metering (route \(route.id)) differs from the document")
        }
    }

    @Test("The document resolves every $ref and uses only schema keywords the validator checks")
    func documentIsCheckable() throws {
        let document = try OpenAPIDocument.load()
        #expect(document.root["openapi"] == .string("3.1.0"))
        var problems: [String] = []
        func walk(_ value: JSONValue, _ location: String, inSchema: Bool) {
            switch value {
            case .object(let members):
                if let reference = members["$ref"]?.string {
                    do { _ = try document.validator.resolve(reference) } catch { problems.append("\(location): \(error)") }
                }
                if inSchema {
                    for key in members.keys where !JSONSchemaValidator.assertions.contains(key) && !JSONSchemaValidator.annotations.contains(key) {
                        problems.append("\(location): unsupported schema keyword '\(key)'")
                    }
                }
                for (key, member) in members {
                    let schemaChild: Bool
                    if inSchema {
                        schemaChild = key != "enum" && key != "const" && key != "required" && key != "default" && key != "examples"
                    } else {
                        schemaChild = key == "schema" || location == "$.components.schemas"
                    }
                    let isMap = inSchema && key == "properties"
                    if isMap, case .object(let properties) = member {
                        for (name, schema) in properties { walk(schema, "\(location).properties.\(name)", inSchema: true) }
                    } else {
                        walk(member, "\(location).\(key)", inSchema: schemaChild)
                    }
                }
            case .array(let elements):
                for (index, element) in elements.enumerated() { walk(element, "\(location)[\(index)]", inSchema: inSchema) }
            default:
                break
            }
        }
        walk(document.root, "$", inSchema: false)
        #expect(problems.isEmpty, "\(problems)")
    }

    @Test("The validator rejects a missing required member, an undocumented member, a wrong type, a bad enum, pattern, bound or oneOf")
    func validatorRejectsWrongBodies() throws {
        let document = try OpenAPIDocument.load()
        let validator = document.validator
        func schema(_ name: String) -> JSONValue { .object(["$ref": .string("#/components/schemas/\(name)")]) }
        func json(_ text: String) throws -> JSONValue { try JSONValue(json: Data(text.utf8)) }
        let user = #"{"id":"7","email":"a@example.com","name":null,"plan":"free","role":"user"}"#
        #expect(validator.validate(try json(user), schema("User")).isEmpty)
        #expect(validator.validate(try json(#"{"user":\#(user)}"#), schema("UserEnvelope")).isEmpty)

        let wrong: [(String, String, String)] = [
            ("User", #"{"id":"7","email":"a@example.com","name":null,"plan":"free"}"#, "required member 'role'"),
            ("User", #"{"id":"7","email":"a@example.com","name":null,"plan":"free","role":"user","password":"x"}"#, "'password' is not documented"),
            ("User", #"{"id":7,"email":"a@example.com","name":null,"plan":"free","role":"user"}"#, "$.id: expected string"),
            ("User", #"{"id":"7","email":"a@example.com","name":5,"plan":"free","role":"user"}"#, "expected string or null"),
            ("User", #"{"id":"7","email":"a@example.com","name":null,"plan":"free","role":"root"}"#, "is not one of"),
            ("User", #"{"id":"x7","email":"a@example.com","name":null,"plan":"free","role":"user"}"#, "does not match"),
            ("UserEnvelope", #"{"user":{"id":"7"}}"#, "$.user: required member 'email'"),
            ("SpendReceipt", #"{"charged":1.5,"balance":2,"available":2}"#, "expected integer"),
            ("SpendReceipt", #"{"charged":true,"balance":2,"available":2}"#, "expected integer"),
            ("SpendReceipt", #"{"charged":-1,"balance":2,"available":2}"#, "less than the minimum"),
            ("Key", #"{"id":"0123456789abcdef","name":"","prefix":"rk_0123456789abcdef","createdAt":"2026-01-01T00:00:00.000Z","revoked":false}"#, "fewer than 1"),
            ("Key", #"{"id":"0123456789abcdef","name":"k","prefix":"rk_0123456789abcdef","createdAt":"yesterday","revoked":false}"#, "is not a date-time"),
            ("KeyList", #"{"keys":[{"id":"0123456789abcdef"}]}"#, "$.keys[0]: required member"),
            ("AdminUserList", #"{"users":[1,2]}"#, "more than 1"),
            ("Error", #"{"error":{"code":"x","message":"m","type":"oops"}}"#, "is not one of"),
            ("InsufficientTokensError", #"{"error":{"code":"insufficient_tokens","message":"m","type":"billing_error","required":4}}"#, "'balance' is missing"),
            ("RateLimitedError", #"{"error":{"code":"forbidden","message":"m","type":"rate_limit_error","retry_after":1}}"#, "is not one of"),
            ("GrantRequest", #"{"email":"a@example.com","userId":"7","amount":5}"#, "matches 0 of oneOf"),
            ("Usage", #"{"from":"2026-1-1","to":"2026-01-02","days":[]}"#, "is not a date"),
        ]
        for (name, body, expected) in wrong {
            let problems = validator.validate(try json(body), schema(name))
            #expect(problems.contains { $0.contains(expected) }, "\(name) \(body): \(problems)")
        }
        let session: JSONValue = .object(["oneOf": .array([schema("Session"), schema("EmptyObject")])])
        #expect(validator.validate(try json("{}"), session).isEmpty)
        #expect(validator.validate(try json(#"{"user":\#(user),"expires":"2026-12-25T09:30:00.000Z"}"#), session).isEmpty)
        #expect(!validator.validate(try json(#"{"user":\#(user)}"#), session).isEmpty)
        #expect(validator.validate(.string("x"), .object(["uniqueItems": .bool(true)])).contains { $0.contains("unsupported schema keyword") })
    }

    @Test("The response check rejects an unknown path, an undocumented method or status, a missing required header and a wrong body")
    func responseCheckRejects() throws {
        let document = try OpenAPIDocument.load()
        func response(_ status: UInt, _ body: String, headers: HTTPHeaders = ["Content-Type": "application/json"]) -> TestResponse {
            TestResponse(status: HTTPResponseStatus(statusCode: Int(status)), headers: headers, body: ByteBuffer(string: body),
                         bodyByteCount: body.utf8.count, bodySHA256: "")
        }
        let error = #"{"error":{"code":"missing_credentials","message":"m","type":"authentication_error"}}"#
        #expect(document.problems(method: "GET", path: "/api/tokens", requestBody: nil, response: response(401, error)).isEmpty)
        let cases: [(String, String, TestResponse, String)] = [
            ("GET", "/api/nowhere", response(200, "{}"), "not in docs/openapi.yaml"),
            ("DELETE", "/api/tokens", response(204, ""), "DELETE is not documented"),
            ("GET", "/api/tokens", response(418, error), "status 418 is not documented"),
            ("GET", "/api/tokens?page=2", response(401, error), "query parameter 'page'"),
            ("GET", "/api/tokens", response(401, #"{"error":{"code":"forbidden","message":"m","type":"authentication_error"}}"#), "is not one of"),
            ("GET", "/api/tokens", response(401, error, headers: ["Content-Type": "text/html"]), "Content-Type"),
            ("GET", "/api/tokens", response(401, "<html>"), "not JSON"),
            ("POST", "/api/auth/login", response(200, #"{"user":{"id":"1","email":"a@b.c","name":null,"plan":"free","role":"user"}}"#), "required header Set-Cookie"),
            ("POST", "/api/tokens", response(429, #"{"error":{"code":"rate_limited","message":"m","type":"rate_limit_error","retry_after":3}}"#,
                                             headers: ["Content-Type": "application/json", "Retry-After": "soon"]), "header Retry-After"),
            ("DELETE", "/api/keys/0123456789abcdef", response(204, "{}"), "none is documented"),
            ("POST", "/v1/images/vectorize", response(200, #"{"image":{"url":"u"}}"#), "required header X-Tokens-Charged"),
        ]
        for (method, path, answer, expected) in cases {
            let problems = document.problems(method: method, path: path, requestBody: nil, response: answer)
            #expect(problems.contains { $0.contains(expected) }, "\(method) \(path) \(answer.status.code): \(problems)")
        }
        let badRequest = try JSONValue(json: Data(#"{"operation":"raster_generation","quantity":0}"#.utf8))
        let spent = response(200, #"{"charged":4,"balance":1,"available":1}"#, headers: ["Content-Type": "application/json", "X-Tokens-Charged": "4"])
        #expect(document.problems(method: "POST", path: "/api/tokens", requestBody: badRequest, response: spent).contains { $0.contains("request body") })
    }
}
