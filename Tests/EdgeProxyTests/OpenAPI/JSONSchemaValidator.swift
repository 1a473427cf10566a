import Foundation
import Yams

/// A JSON (or YAML) value: what response bodies and the OpenAPI document are compared as.
enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    var string: String? { if case .string(let s) = self { return s } else { return nil } }
    var object: [String: JSONValue]? { if case .object(let o) = self { return o } else { return nil } }
    var array: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }

    /// Parses JSON strictly (a `true` is never a number, `1.5` never an integer).
    init(json data: Data) throws {
        self = try JSONDecoder().decode(JSONValue.self, from: data)
    }

    /// Converts a composed YAML node, with the YAML core schema's tags (quoted scalars stay strings).
    init(yaml node: Node) throws {
        switch node {
        case .scalar(let scalar):
            switch Tag.Name(rawValue: node.tag.description) {
            case .null: self = .null
            case .bool: self = .bool(node.bool ?? false)
            case .int: self = .integer(Int64(node.int ?? 0))
            case .float: self = .number(node.float ?? 0)
            default: self = .string(scalar.string)
            }
        case .sequence(let sequence):
            self = .array(try sequence.map { try JSONValue(yaml: $0) })
        case .mapping(let mapping):
            var members: [String: JSONValue] = [:]
            for (key, value) in mapping {
                guard let name = key.string else { throw SchemaError("non-string mapping key at \(key.mark.map { "\($0)" } ?? "?")") }
                guard members[name] == nil else { throw SchemaError("duplicate key '\(name)'") }
                members[name] = try JSONValue(yaml: value)
            }
            self = .object(members)
        }
    }
}

extension JSONValue: Decodable {
    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }
}

struct SchemaError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Validates values against the JSON Schema (2020-12) subset that docs/openapi.yaml uses:
/// `$ref` (local, with sibling keywords), `type` (one or a list, incl. "null"; "integer" is a
/// number without a fraction), `enum`, `const`, `required`, `properties`, `additionalProperties`
/// (false or a schema), `items`, `minItems`/`maxItems`, `minimum`/`maximum`, `minLength`/`maxLength`
/// (in code points), `pattern`, `format` (`date-time`, `date`), `allOf`, `anyOf`, `oneOf`, `not`.
/// A keyword outside this subset is reported as a problem rather than ignored, so the document
/// cannot promise something the test does not check.
struct JSONSchemaValidator {
    /// The whole document: `$ref`s are resolved against it.
    let root: JSONValue

    static let assertions: Set<String> = [
        "$ref", "type", "enum", "const", "required", "properties", "additionalProperties", "items", "minItems", "maxItems",
        "minimum", "maximum", "minLength", "maxLength", "pattern", "format", "allOf", "anyOf", "oneOf", "not",
    ]
    static let annotations: Set<String> = [
        "description", "title", "default", "examples", "example", "deprecated", "readOnly", "writeOnly", "contentMediaType",
    ]

    /// Problems found (empty when `value` is valid), each prefixed with its location (`$.user.id`).
    func validate(_ value: JSONValue, _ schema: JSONValue, at location: String = "$") -> [String] {
        guard case .object(let keywords) = schema else {
            if schema == .bool(true) { return [] }
            if schema == .bool(false) { return ["\(location): no value is allowed here"] }
            return ["\(location): the schema is not an object"]
        }
        var problems: [String] = []
        for key in keywords.keys where !Self.assertions.contains(key) && !Self.annotations.contains(key) {
            problems.append("\(location): unsupported schema keyword '\(key)'")
        }
        if let reference = keywords["$ref"]?.string {
            do {
                problems += validate(value, try resolve(reference), at: location)
            } catch {
                problems.append("\(location): \(error)")
            }
        }
        if let type = keywords["type"] {
            let names = type.array?.compactMap(\.string) ?? type.string.map { [$0] } ?? []
            if !names.contains(where: { Self.value(value, hasType: $0) }) {
                return problems + ["\(location): expected \(names.joined(separator: " or ")), got \(Self.describe(value))"]
            }
        }
        if let options = keywords["enum"]?.array, !options.contains(value) {
            problems.append("\(location): \(Self.describe(value)) is not one of \(options.map(Self.describe))")
        }
        if let constant = keywords["const"], constant != value {
            problems.append("\(location): expected \(Self.describe(constant)), got \(Self.describe(value))")
        }
        problems += validateObject(value, keywords, at: location)
        problems += validateArray(value, keywords, at: location)
        problems += validateScalar(value, keywords, at: location)
        problems += validateCombinators(value, keywords, at: location)
        return problems
    }

    private func validateObject(_ value: JSONValue, _ keywords: [String: JSONValue], at location: String) -> [String] {
        guard case .object(let members) = value else { return [] }
        var problems: [String] = []
        for name in keywords["required"]?.array?.compactMap(\.string) ?? [] where members[name] == nil {
            problems.append("\(location): required member '\(name)' is missing")
        }
        let properties = keywords["properties"]?.object ?? [:]
        for (name, member) in members.sorted(by: { $0.key < $1.key }) {
            if let schema = properties[name] {
                problems += validate(member, schema, at: "\(location).\(name)")
            } else if let additional = keywords["additionalProperties"] {
                if additional == .bool(false) {
                    problems.append("\(location): member '\(name)' is not documented (additionalProperties: false)")
                } else {
                    problems += validate(member, additional, at: "\(location).\(name)")
                }
            }
        }
        return problems
    }

    private func validateArray(_ value: JSONValue, _ keywords: [String: JSONValue], at location: String) -> [String] {
        guard case .array(let elements) = value else { return [] }
        var problems: [String] = []
        if case .integer(let least)? = keywords["minItems"], elements.count < least {
            problems.append("\(location): \(elements.count) items, fewer than \(least)")
        }
        if case .integer(let most)? = keywords["maxItems"], elements.count > most {
            problems.append("\(location): \(elements.count) items, more than \(most)")
        }
        if let items = keywords["items"] {
            for (index, element) in elements.enumerated() {
                problems += validate(element, items, at: "\(location)[\(index)]")
            }
        }
        return problems
    }

    private func validateScalar(_ value: JSONValue, _ keywords: [String: JSONValue], at location: String) -> [String] {
        var problems: [String] = []
        if let number = Self.numeric(value) {
            if let minimum = keywords["minimum"].flatMap(Self.numeric), number < minimum {
                problems.append("\(location): \(Self.describe(value)) is less than the minimum \(minimum)")
            }
            if let maximum = keywords["maximum"].flatMap(Self.numeric), number > maximum {
                problems.append("\(location): \(Self.describe(value)) is more than the maximum \(maximum)")
            }
        }
        guard case .string(let text) = value else { return problems }
        let length = text.unicodeScalars.count
        if case .integer(let least)? = keywords["minLength"], length < least {
            problems.append("\(location): \(length) characters, fewer than \(least)")
        }
        if case .integer(let most)? = keywords["maxLength"], length > most {
            problems.append("\(location): \(length) characters, more than \(most)")
        }
        if let pattern = keywords["pattern"]?.string {
            if let regex = try? Regex(pattern) {
                if !text.contains(regex) { problems.append("\(location): \(Self.describe(value)) does not match /\(pattern)/") }
            } else {
                problems.append("\(location): invalid pattern /\(pattern)/")
            }
        }
        if let format = keywords["format"]?.string, let shape = Self.formats[format], !text.contains(try! Regex(shape)) {
            problems.append("\(location): \(Self.describe(value)) is not a \(format)")
        }
        return problems
    }

    static let formats: [String: String] = [
        "date-time": #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"#,
        "date": #"^\d{4}-\d{2}-\d{2}$"#,
    ]

    private func validateCombinators(_ value: JSONValue, _ keywords: [String: JSONValue], at location: String) -> [String] {
        var problems: [String] = []
        for (index, schema) in (keywords["allOf"]?.array ?? []).enumerated() {
            problems += validate(value, schema, at: location).map { "\($0) (allOf[\(index)])" }
        }
        if let options = keywords["anyOf"]?.array {
            let outcomes = options.map { validate(value, $0, at: location) }
            if !outcomes.contains(where: \.isEmpty) {
                problems.append("\(location): matches none of anyOf: \(outcomes.map { $0.joined(separator: "; ") })")
            }
        }
        if let options = keywords["oneOf"]?.array {
            let outcomes = options.map { validate(value, $0, at: location) }
            let passing = outcomes.filter(\.isEmpty).count
            if passing != 1 {
                problems.append("\(location): matches \(passing) of oneOf (exactly 1 required): \(outcomes.map { $0.joined(separator: "; ") })")
            }
        }
        if let negated = keywords["not"], validate(value, negated, at: location).isEmpty {
            problems.append("\(location): must not match \(Self.describe(negated))")
        }
        return problems
    }

    /// Resolves a local reference (`#/components/schemas/User`).
    func resolve(_ reference: String) throws -> JSONValue {
        guard reference.hasPrefix("#/") else { throw SchemaError("only local references are supported: \(reference)") }
        var node = root
        for raw in reference.dropFirst(2).split(separator: "/", omittingEmptySubsequences: false) {
            let name = raw.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            guard let next = node[name] else { throw SchemaError("unresolved reference \(reference)") }
            node = next
        }
        return node
    }

    /// `value` itself, or what it references when it is a `{"$ref": ...}` object (one level; OpenAPI
    /// response, header and parameter objects).
    func dereference(_ value: JSONValue) throws -> JSONValue {
        var current = value
        for _ in 0..<8 {
            guard let reference = current["$ref"]?.string else { return current }
            current = try resolve(reference)
        }
        throw SchemaError("reference chain too long")
    }

    static func value(_ value: JSONValue, hasType type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object): return true
        case ("integer", .integer), ("number", .integer), ("number", .number): return true
        case ("integer", .number(let n)): return n.rounded() == n
        default: return false
        }
    }

    static func numeric(_ value: JSONValue) -> Double? {
        switch value {
        case .integer(let n): return Double(n)
        case .number(let n): return n
        default: return nil
        }
    }

    static func describe(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let b): return String(b)
        case .integer(let n): return String(n)
        case .number(let n): return String(n)
        case .string(let s): return "\"\(s.prefix(80))\""
        case .array(let a): return "an array of \(a.count)"
        case .object(let o): return "an object {\(o.keys.sorted().joined(separator: ", "))}"
        }
    }
}
