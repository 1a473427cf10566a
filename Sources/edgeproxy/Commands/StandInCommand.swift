import ArgumentParser
import Dispatch
import EdgeProxy
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `edgeproxy standin`: runs the stand-in Recraft API / Recraftor app upstream until SIGINT or SIGTERM.
struct StandInCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "standin",
        abstract: "Run the stand-in Recraft API and Recraftor app upstream (tests, offline demo, benchmarks).",
        discussion: """
            Speaks like Recraft on /v1/images/{generations,vectorize,removeBackground,crispUpscale,creativeUpscale}, \
            /v1/styles and /v1/users/me; /echo describes each request; /download?bytes=N&seed=S&framing=length|chunked|close \
            streams deterministic bytes; other paths answer the app's HTML page. Headers X-StandIn-Status, \
            X-StandIn-Delay-Ms, X-StandIn-Body-Delay-Ms, X-StandIn-Reset and X-StandIn-Close inject failures.
            """
    )

    @Option(name: .long, help: "Address to listen on, as host:port (port 0 picks a free one).")
    var listen = "127.0.0.1:9080"

    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain; with --tls-key, serve HTTPS.")
    var tlsCertificate: String?

    @Option(name: .customLong("tls-key"), help: "PEM private key for --tls-cert.")
    var tlsKey: String?

    func validate() throws {
        _ = try Self.parseListen(listen)
        if (tlsCertificate == nil) != (tlsKey == nil) {
            throw ValidationError("--tls-cert and --tls-key go together.")
        }
    }

    func run() async throws {
        let (host, port) = try Self.parseListen(listen)
        let standIn = try await RecraftStandIn.start(
            .init(host: host, port: port, tlsCertificatePath: tlsCertificate, tlsKeyPath: tlsKey, recordingLimit: 0))
        writeLine("Recraft stand-in listening on \(standIn.baseURL) (Ctrl-C to stop)")
        let received = await waitForTerminationSignal()
        writeLine("Recraft stand-in stopping (signal \(received))")
        try await standIn.shutdown()
    }

    /// Splits `host:port` (or `[v6]:port`).
    static func parseListen(_ text: String) throws -> (host: String, port: Int) {
        guard let colon = text.lastIndex(of: ":"),
            let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port)
        else {
            throw ValidationError("--listen must be host:port, got '\(text)'.")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw ValidationError("--listen needs a host, got '\(text)'.") }
        return (host, port)
    }
}

/// Waits for SIGINT or SIGTERM (which no longer terminate the process) and returns the signal number.
private func waitForTerminationSignal() async -> Int32 {
    let (signals, continuation) = AsyncStream.makeStream(of: Int32.self)
    var sources: [any DispatchSourceSignal] = []
    for number in [SIGINT, SIGTERM] {
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        source.setEventHandler { continuation.yield(number) }
        source.resume()
        sources.append(source)
    }
    var iterator = signals.makeAsyncIterator()
    let received = await iterator.next() ?? SIGTERM
    for source in sources { source.cancel() }
    return received
}

/// Writes one line to standard output unbuffered, so a script reading the pipe sees it at once.
private func writeLine(_ line: String) {
    var text = line + "\n"
    text.withUTF8 { bytes in
        var offset = 0
        while offset < bytes.count, let base = bytes.baseAddress {
            let written = write(1, base + offset, bytes.count - offset)
            if written <= 0 { return }
            offset += written
        }
    }
}
