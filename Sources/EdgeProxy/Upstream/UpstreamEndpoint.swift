import NIOCore
import NIOSSL
import Policy

/// Everything needed to reach one upstream, prepared once at start: address, TLS context and the
/// header bytes the edge injects (so the hot path only copies prepared bytes).
final class UpstreamEndpoint: Sendable {
    let name: String
    let settings: UpstreamSettings
    let url: UpstreamURL
    /// Client TLS context (system trust plus RECRAFT_CA_FILE); nil for plain HTTP.
    let tlsContext: NIOSSLContext?
    /// SNI and certificate host name; nil for IP literals (then the IP SAN is checked).
    let serverHostname: String?
    /// `Host: …\r\n`
    let hostHeaderLine: [UInt8]
    /// `Authorization: Bearer …\r\n` when the upstream's credential is configured; never logged.
    let credentialLine: [UInt8]?
    /// `url.basePath` bytes, prepended to every forwarded path.
    let basePath: [UInt8]
    let connectTimeout: TimeAmount

    init(name: String, settings: UpstreamSettings, url: UpstreamURL, credentialToken: String?,
         caFile: String?, connectTimeout: TimeAmount) throws {
        self.name = name
        self.settings = settings
        self.url = url
        self.connectTimeout = connectTimeout
        if url.useTLS {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.minimumTLSVersion = .tlsv12
            tls.applicationProtocols = ["http/1.1"]
            if let caFile {
                let extra = try NIOSSLCertificate.fromPEMFile(caFile)
                tls.additionalTrustRoots = [.certificates(extra)]
            }
            self.tlsContext = try NIOSSLContext(configuration: tls)
        } else {
            self.tlsContext = nil
        }
        self.serverHostname = Self.isIPLiteral(url.host) ? nil : url.host
        self.hostHeaderLine = Array("Host: \(url.hostHeader)\r\n".utf8)
        if settings.credential == .recraftAPIToken, let token = credentialToken {
            self.credentialLine = Array("Authorization: Bearer \(token)\r\n".utf8)
        } else {
            self.credentialLine = nil
        }
        self.basePath = Array(url.basePath.utf8)
    }

    /// Whether the client's own credentials (Cookie, Authorization) must be removed before forwarding.
    var stripsClientCredentials: Bool { settings.credential != nil }

    static func isIPLiteral(_ host: String) -> Bool {
        host.contains(":") || host.utf8.allSatisfy { ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: ".") }
    }
}
