#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
public import Logging

/// A `LogHandler` for machine-read logs (the access log): writes exactly `message + "\n"` — no timestamp,
/// label, level or metadata — with one `write(2)` per line.
///
/// Several threads may log at once: a line shorter than `PIPE_BUF` (4096 bytes on Linux) written to a pipe is
/// never interleaved with another, and a file opened with `O_APPEND` gets each write at its end. Writes are
/// synchronous: a stalled reader of a pipe stalls the logging thread, so point the log at a file or at a
/// collector that keeps up. Write errors (full disk, closed pipe) drop the line; logging never fails a request.
public struct JSONLineLogHandler: LogHandler {
    /// Messages below this level are not written; `.info` by default (the access log logs at `.info`).
    public var logLevel: Logger.Level = .info
    /// Kept to satisfy `LogHandler`; never written.
    public var metadata: Logger.Metadata = [:]
    /// Kept to satisfy `LogHandler`; never consulted.
    public var metadataProvider: Logger.MetadataProvider?
    private let sink: LineSink

    /// Writes to standard output (file descriptor 1), which it never closes.
    public static func standardOutput() -> JSONLineLogHandler {
        JSONLineLogHandler(sink: LineSink(descriptor: 1, ownsDescriptor: false))
    }

    /// Writes to an already open file descriptor, which the caller keeps open and closes.
    public init(fileDescriptor: Int32) {
        self.init(sink: LineSink(descriptor: fileDescriptor, ownsDescriptor: false))
    }

    /// Opens (creating it with mode 0640 if needed) `path` for appending; the file closes when the last
    /// handler copy goes away.
    /// - Throws: `AccessLogError` if the file cannot be opened.
    public init(appendingTo path: String) throws(AccessLogError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else { throw AccessLogError(path: path, errno: errno) }
        self.init(sink: LineSink(descriptor: descriptor, ownsDescriptor: true))
    }

    private init(sink: LineSink) {
        self.sink = sink
    }

    /// Kept to satisfy `LogHandler`; never written.
    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Writes `event.message` and a newline, nothing else.
    public func log(event: LogEvent) {
        sink.writeLine(event.message.description)
    }
}

/// Why an access log file could not be opened.
public struct AccessLogError: Error, CustomStringConvertible {
    /// The path that failed to open.
    public var path: String
    /// The `errno` of the failed `open(2)`.
    public var errno: Int32

    /// The path and the system's reason, for the startup error message.
    public var description: String {
        "cannot open access log '\(path)' for appending: \(String(cString: strerror(errno)))"
    }
}

/// The file descriptor a `JSONLineLogHandler` writes to, shared by its copies (handlers are values).
private final class LineSink: Sendable {
    let descriptor: Int32
    let ownsDescriptor: Bool

    init(descriptor: Int32, ownsDescriptor: Bool) {
        self.descriptor = descriptor
        self.ownsDescriptor = ownsDescriptor
    }

    deinit {
        if ownsDescriptor { _ = close(descriptor) }
    }

    /// One `write(2)` of `message` and a newline; continues after a partial write or `EINTR`, gives up on
    /// any other error.
    func writeLine(_ message: String) {
        var line = message
        line.append("\n")
        line.withUTF8 { bytes in
            guard var next = bytes.baseAddress else { return }
            var remaining = bytes.count
            while remaining > 0 {
                let written = write(descriptor, next, remaining)
                if written > 0 {
                    next += written
                    remaining -= written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }
}
