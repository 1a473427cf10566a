import Foundation
public import Logging

/// Where access-log lines go: a swift-log `Logger` labelled `edge.access` that logs each record's JSON line at
/// `.info` as the message, with no metadata — one line per exchange, written by a `JSONLineLogHandler`.
///
/// Configured by `EDGE_ACCESS_LOG` (see `fromEnvironment(_:)`): unset or `stdout` → standard output,
/// `off` → disabled, anything else → a file path opened for appending.
public struct AccessLog: Sendable {
    /// The logger label of access-log lines.
    public static let label = "edge.access"

    /// The logger records go through (its handler decides where lines end up).
    public let logger: Logger

    /// Logs through `logger`; its handler should write messages verbatim (e.g. a `JSONLineLogHandler`).
    public init(logger: Logger) {
        self.logger = logger
    }

    /// Logs through `handler` under the `edge.access` label.
    public init(handler: JSONLineLogHandler) {
        self.init(logger: Logger(label: Self.label, factory: { _ in handler }))
    }

    /// An access log that writes nothing (and never formats a record).
    public static var disabled: AccessLog {
        AccessLog(logger: Logger(label: label, factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    /// One JSON line per exchange on standard output.
    public static func standardOutput() -> AccessLog {
        AccessLog(handler: .standardOutput())
    }

    /// One JSON line per exchange appended to the file at `path` (created with mode 0640 if missing).
    /// - Throws: `AccessLogError` if the file cannot be opened.
    public static func file(path: String) throws(AccessLogError) -> AccessLog {
        AccessLog(handler: try JSONLineLogHandler(appendingTo: path))
    }

    /// The access log `EDGE_ACCESS_LOG` asks for.
    /// - Parameter value: The variable's value: nil, empty or `stdout` → standard output; `off` → disabled;
    ///   anything else → a file path, opened for appending (surrounding whitespace ignored).
    /// - Throws: `AccessLogError` if the file cannot be opened.
    public static func fromEnvironment(_ value: String?) throws(AccessLogError) -> AccessLog {
        let trimmed = value?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        switch trimmed {
        case "", "stdout": return .standardOutput()
        case "off": return .disabled
        default: return try .file(path: trimmed)
        }
    }

    /// Whether records are written at all; callers may skip building a record when false.
    public var isEnabled: Bool {
        logger.logLevel <= .info
    }

    /// Writes `record` as one JSON line.
    public func log(_ record: AccessLogRecord) {
        logger.info("\(record.jsonLine())")
    }
}
