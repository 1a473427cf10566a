import Crypto
import Foundation
import NIOCore
import NIOSSL
import SwiftASN1
import X509

/// A throwaway certificate authority made at runtime (P-256), with one leaf it signed for `localhost` and
/// `127.0.0.1`, written as `ca.pem`, `leaf.pem` and `leaf-key.pem` into a fresh temporary directory that is
/// removed when the authority is released.
final class TestCertificateAuthority: Sendable {
    /// The temporary directory holding the PEM files.
    let directory: URL
    /// The CA certificate (PEM).
    let caCertificatePath: String
    /// The leaf certificate (PEM), for a server to present.
    let leafCertificatePath: String
    /// The leaf's private key (PKCS#8 PEM).
    let leafKeyPath: String
    /// The CA certificate, for a client's trust roots.
    let trustRoot: NIOSSLCertificate
    /// The CA certificate as PEM text.
    let caCertificatePEM: String

    /// Creates the CA and the leaf and writes the files.
    /// - Parameter leafNames: DNS names of the leaf, besides the IP address 127.0.0.1.
    init(leafNames: [String] = ["localhost"]) throws {
        let now = Date()
        let caKey = P256.Signing.PrivateKey()
        let caName = try DistinguishedName {
            OrganizationName("Recraftor Edge tests")
            CommonName("Recraftor Edge Test CA")
        }
        let ca = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(caKey.publicKey),
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(7 * 86400),
            issuer: caName,
            subject: caName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: Certificate.PrivateKey(caKey)
        )

        let leafKey = P256.Signing.PrivateKey()
        let leafName = try DistinguishedName { CommonName(leafNames.first ?? "localhost") }
        var alternativeNames = SubjectAlternativeNames(leafNames.map { GeneralName.dnsName($0) })
        alternativeNames.append(.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])))
        let leaf = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(leafKey.publicKey),
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(7 * 86400),
            issuer: caName,
            subject: leafName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth, .clientAuth])
                alternativeNames
            },
            issuerPrivateKey: Certificate.PrivateKey(caKey)
        )

        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("edge-test-ca-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        self.directory = directory
        self.caCertificatePath = directory.appendingPathComponent("ca.pem").path
        self.leafCertificatePath = directory.appendingPathComponent("leaf.pem").path
        self.leafKeyPath = directory.appendingPathComponent("leaf-key.pem").path

        let caPEM = try ca.serializeAsPEM().pemString
        try caPEM.write(toFile: caCertificatePath, atomically: true, encoding: .utf8)
        try leaf.serializeAsPEM().pemString.write(toFile: leafCertificatePath, atomically: true, encoding: .utf8)
        try leafKey.pemRepresentation.write(toFile: leafKeyPath, atomically: true, encoding: .utf8)
        self.caCertificatePEM = caPEM
        self.trustRoot = try NIOSSLCertificate(bytes: Array(caPEM.utf8), format: .pem)
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    /// A client TLS configuration that trusts only this CA and verifies the server's name. Closing waits
    /// at most 250 ms for the peer's close_notify (not NIOSSL's 5 s), so a test that hangs up on a peer
    /// that is busy writing is not held up.
    func clientTLSConfiguration(applicationProtocols: [String] = ["http/1.1"]) -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates([trustRoot])
        tls.certificateVerification = .fullVerification
        tls.applicationProtocols = applicationProtocols
        tls.shutdownTimeout = .milliseconds(250)
        return tls
    }

    /// A server TLS configuration presenting the leaf (for fixtures that serve TLS themselves).
    func serverTLSConfiguration(applicationProtocols: [String] = ["http/1.1"]) throws -> TLSConfiguration {
        let chain = try NIOSSLCertificate.fromPEMFile(leafCertificatePath).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(file: leafKeyPath, format: .pem)
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        tls.applicationProtocols = applicationProtocols
        return tls
    }
}
