import Foundation
import Yams

/// Reads a policy file, validates every key, and compiles it into an `EdgePolicy`.
public enum PolicyLoader {
    /// The credential kinds an upstream may name.
    static let knownCredentials = Set(["recraft_api_token"])
    /// The pseudo-operation meaning "classify from the generation request's body".
    public static let generationOperation = "generation"

    /// Loads and validates the file at `path`.
    public static func load(path: String, environment: EdgeEnvironment) throws(PolicyError) -> EdgePolicy {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw PolicyError(keyPath: "", reason: "cannot read policy file \(path): \(error.localizedDescription)")
        }
        return try parse(yaml: text, environment: environment)
    }

    /// Validates YAML text.
    public static func parse(yaml: String, environment: EdgeEnvironment) throws(PolicyError) -> EdgePolicy {
        let document: PolicyDocument
        do {
            document = try YAMLDecoder().decode(PolicyDocument.self, from: yaml)
        } catch let error as DecodingError {
            throw describe(error)
        } catch {
            throw PolicyError(keyPath: "", reason: "not valid YAML: \(error)")
        }
        return try compile(document, environment: environment)
    }

    /// The policy path used when none is given: `EDGE_CONFIG`, else `policies/default.yaml`.
    public static func defaultPath(environment: EdgeEnvironment) -> String {
        environment.configPath ?? "policies/default.yaml"
    }

    static func describe(_ error: DecodingError) -> PolicyError {
        func path(_ codingPath: [any CodingKey]) -> String {
            var out = ""
            for key in codingPath {
                if let index = key.intValue {
                    out += "[\(index)]"
                } else {
                    out += out.isEmpty ? key.stringValue : ".\(key.stringValue)"
                }
            }
            return out
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = path(context.codingPath)
            return PolicyError(keyPath: parent.isEmpty ? key.stringValue : "\(parent).\(key.stringValue)", reason: "is required")
        case .typeMismatch(let type, let context):
            return PolicyError(keyPath: path(context.codingPath), reason: "expected \(type): \(context.debugDescription)")
        case .valueNotFound(let type, let context):
            return PolicyError(keyPath: path(context.codingPath), reason: "expected \(type) but found nothing")
        case .dataCorrupted(let context):
            return PolicyError(keyPath: path(context.codingPath), reason: context.debugDescription)
        @unknown default:
            return PolicyError(keyPath: "", reason: "\(error)")
        }
    }
}
