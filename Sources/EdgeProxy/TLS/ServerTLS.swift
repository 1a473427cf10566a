import Foundation
import Logging
import NIOSSL

/// Builds the listener's TLS context: TLS 1.2/1.3, ALPN `http/1.1` (the list is where `h2` joins).
enum ServerTLS {
    /// Loads the certificate chain and key from PEM files.
    static func makeContext(certificatePath: String, keyPath: String) throws -> NIOSSLContext {
        let chain = try NIOSSLCertificate.fromPEMFile(certificatePath)
        let key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        configuration.applicationProtocols = ["http/1.1"]
        return try NIOSSLContext(configuration: configuration)
    }
}
