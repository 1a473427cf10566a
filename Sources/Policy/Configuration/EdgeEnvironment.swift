import Foundation

/// The process environment the edge reads (fixed variable names), merged over a `.env` file.
///
/// The real environment wins over `.env`. Secrets read here (`RECRAFT_API_TOKEN`,
/// `NEXTAUTH_SECRET`) are never logged; `redactedSummary` shows only whether they are set.
public struct EdgeEnvironment: Sendable {
    public var values: [String: String]

    public init(values: [String: String]) { self.values = values }

    /// Reads the process environment and, when present, `.env` in `directory`.
    public static func load(directory: String? = nil) -> EdgeEnvironment {
        let directory = directory ?? FileManager.default.currentDirectoryPath
        var merged: [String: String] = [:]
        let dotEnv = (directory as NSString).appendingPathComponent(".env")
        if let text = try? String(contentsOfFile: dotEnv, encoding: .utf8) {
            merged = parseDotEnv(text)
        }
        for (key, value) in ProcessInfo.processInfo.environment { merged[key] = value }
        return EdgeEnvironment(values: merged)
    }

    /// Parses `KEY=value` lines; `#` comments, `export ` prefixes and matching quotes are understood.
    public static func parseDotEnv(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for rawLine in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            var line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
            guard let eq = line.firstIndex(of: "=") else { continue }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let f = value.first, f == "\"" || f == "'", value.last == f {
                value = String(value.dropFirst().dropLast())
            } else if let hash = value.range(of: " #") {
                value = value[..<hash.lowerBound].trimmingCharacters(in: .whitespaces)
            }
            guard !key.isEmpty else { continue }
            result[key] = value
        }
        return result
    }

    public subscript(_ key: String) -> String? {
        guard let v = values[key], !v.isEmpty else { return nil }
        return v
    }

    public var listen: String { self["EDGE_LISTEN"] ?? "0.0.0.0:8443" }
    public var adminListen: String { self["EDGE_ADMIN_LISTEN"] ?? "127.0.0.1:9901" }
    public var tlsCertificatePath: String? { self["EDGE_TLS_CERT"] }
    public var tlsKeyPath: String? { self["EDGE_TLS_KEY"] }
    public var dataDirectory: String { self["EDGE_DATA_DIR"] ?? "./.edge-data" }
    public var configPath: String? { self["EDGE_CONFIG"] }
    public var recraftAPIURL: String? { self["RECRAFT_API_URL"] }
    public var recraftAPIToken: String? { self["RECRAFT_API_TOKEN"] }
    public var recraftCAFile: String? { self["RECRAFT_CA_FILE"] }
    public var appURL: String? { self["NEXT_PUBLIC_APP_URL"] }
    public var publicURL: String? { self["NEXTAUTH_URL"] }
    public var nextAuthSecret: String? { self["NEXTAUTH_SECRET"] }
}
